package ehr_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Interactions the extract travels in.
const (
	uk06 = "RCMR_IN030000UK06"
	uk07 = "RCMR_IN030000UK07"
)

// schemaValidator returns a function validating a message against an
// interaction's MIM schema with xmllint, skipping the test when the spec
// directory or xmllint is missing.
func schemaValidator(t *testing.T) func(t *testing.T, interaction string, message []byte) error {
	t.Helper()
	dir := specDir(t)
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not on PATH")
	}
	return func(t *testing.T, interaction string, message []byte) error {
		t.Helper()
		file := filepath.Join(t.TempDir(), interaction+".xml")
		require.NoError(t, os.WriteFile(file, message, 0o600))
		schema := filepath.Join(dir, "schemas", "schema", interaction+".xsd")
		out, err := exec.CommandContext(t.Context(), xmllint, "--noout", "--schema", schema, file).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, firstLines(string(out), 8))
		}
		return nil
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// wrapExtract builds a complete EHR extract message around extract: the
// HL7 transmission wrapper and ControlActEvent, as a sender writes them.
func wrapExtract(t *testing.T, interaction string, extract *etree.Element) []byte {
	t.Helper()
	el := func(parent *etree.Element, tag string, kv ...string) *etree.Element {
		e := parent.CreateElement(tag)
		for i := 0; i+1 < len(kv); i += 2 {
			e.CreateAttr(kv[i], kv[i+1])
		}
		return e
	}
	const (
		asidRoot      = "1.2.826.0.1285.0.2.0.107"
		senderASID    = "200000000149"
		recipientASID = "200000001161"
	)
	msg := etree.NewElement(interaction)
	msg.CreateAttr("xmlns", "urn:hl7-org:v3")
	el(msg, "id", "root", xmldoc.Attr(xmldoc.Child(extract, "id"), "root"))
	el(msg, "creationTime", "value", "20240314103000")
	el(msg, "versionCode", "code", "V3NPfIT3.1.10")
	el(msg, "interactionId", "root", "2.16.840.1.113883.2.1.3.2.4.12", "extension", interaction)
	el(msg, "processingCode", "code", "P")
	el(msg, "processingModeCode", "code", "T")
	el(msg, "acceptAckCode", "code", "NE")
	rcv := el(el(msg, "communicationFunctionRcv", "typeCode", "RCV"), "device", "classCode", "DEV", "determinerCode", "INSTANCE")
	el(rcv, "id", "root", asidRoot, "extension", recipientASID)
	snd := el(el(msg, "communicationFunctionSnd", "typeCode", "SND"), "device", "classCode", "DEV", "determinerCode", "INSTANCE")
	el(snd, "id", "root", asidRoot, "extension", senderASID)
	act := el(msg, "ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	system := el(el(el(act, "author1", "typeCode", "AUT"), "AgentSystemSDS", "classCode", "AGNT"),
		"agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE")
	el(system, "id", "root", asidRoot, "extension", senderASID)
	el(act, "subject", "typeCode", "SUBJ", "contextConductionInd", "false").AddChild(extract.Copy())

	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(msg)
	b, err := doc.WriteToBytes()
	require.NoError(t, err)
	return b
}

func TestGeneratedExtractsValidate(t *testing.T) {
	validate := schemaValidator(t)
	variants := []struct {
		name string
		opts []ehr.Option
		uk07 bool // has NOPAT entries, so only UK07 applies
	}{
		{name: "defaults"},
		{name: "one encounter", opts: []ehr.Option{ehr.WithEncounters(1)}},
		{name: "attachments", opts: []ehr.Option{ehr.WithAttachments(testAttachments()...)}},
		{name: "local codes", opts: []ehr.Option{ehr.WithLocalCodes(14)}},
		{name: "many encounters", opts: []ehr.Option{ehr.WithEncounters(80)}},
		{name: "sized", opts: []ehr.Option{ehr.WithTargetSize(100 << 10)}},
		{name: "NOPAT", opts: []ehr.Option{ehr.WithEncounters(30), ehr.WithNOPAT(40)}, uk07: true},
		{name: "everything", opts: []ehr.Option{ehr.WithEncounters(40), ehr.WithNOPAT(60), ehr.WithLocalCodes(7),
			ehr.WithAttachments(testAttachments()...)}, uk07: true},
	}
	for _, v := range variants {
		for _, seed := range []uint64{1, 2, 3, 99} {
			t.Run(fmt.Sprintf("%s seed %d", v.name, seed), func(t *testing.T) {
				t.Parallel()
				extract, _, err := ehr.Generate(append([]ehr.Option{ehr.WithSeed(seed)}, v.opts...)...)
				require.NoError(t, err)
				require.NoError(t, validate(t, uk07, wrapExtract(t, uk07, extract)), "UK07")
				if v.uk07 {
					require.Error(t, validate(t, uk06, wrapExtract(t, uk06, extract)), "UK06 does not allow confidentialityCode")
					return
				}
				require.NoError(t, validate(t, uk06, wrapExtract(t, uk06, extract)), "UK06")
			})
		}
	}

	t.Run("5 MB", func(t *testing.T) {
		t.Parallel()
		extract, _, err := ehr.Generate(ehr.WithSeed(5), ehr.WithTargetSize(5<<20), ehr.WithNOPAT(200),
			ehr.WithLocalCodes(21), ehr.WithAttachments(testAttachments()...))
		require.NoError(t, err)
		message := wrapExtract(t, uk07, extract)
		assert.Greater(t, len(message), 5<<20)
		require.NoError(t, validate(t, uk07, message))
	})

	// The validator catches misplaced marks: NIA's UK07 test file puts
	// confidentialityCode last, which the schema refuses.
	t.Run("confidentialityCode last is invalid", func(t *testing.T) {
		t.Parallel()
		extract, _, err := ehr.Generate(ehr.WithSeed(1), ehr.WithNOPAT(1))
		require.NoError(t, err)
		moved := 0
		for _, e := range collect(extract) {
			if e.Tag == "confidentialityCode" {
				parent := e.Parent()
				parent.RemoveChild(e)
				parent.AddChild(e)
				moved++
			}
		}
		require.Equal(t, 1, moved)
		require.Error(t, validate(t, uk07, wrapExtract(t, uk07, extract)))
	})
}

// collect lists el and every element below it.
func collect(el *etree.Element) []*etree.Element {
	all := []*etree.Element{el}
	xmldoc.Descendants(el, func(e *etree.Element) bool { all = append(all, e); return true })
	return all
}
