package ehr_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spectest"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Interactions the extract travels in.
const (
	uk06 = "RCMR_IN030000UK06"
	uk07 = "RCMR_IN030000UK07"
)

// validate checks a message against interaction's schema.
func validate(t *testing.T, interaction string, message []byte) error {
	t.Helper()
	schema := spectest.SchemaUK06
	if interaction == uk07 {
		schema = spectest.SchemaUK07
	}
	return spectest.Validate(t, schema, message)
}

// wrapExtract writes the EHR extract message a sender sends around
// extract, with the codec's writer (hl7.Extract). The writer chooses UK07
// when entries are NOPAT; asking for the other interaction renames it, so
// that the schemas can be shown to refuse the mismatch.
func wrapExtract(t *testing.T, interaction string, extract *etree.Element) []byte {
	t.Helper()
	sum, err := ehr.Summarize(extract)
	require.NoError(t, err)
	msg := &hl7.Extract{
		Wrapper: hl7.Wrapper{MessageID: sum.ExtractID, CreationTime: time.Date(2024, 3, 14, 10, 30, 0, 0, time.UTC),
			ToASID: "200000001161", FromASID: "200000000149"},
		ExtractID: sum.ExtractID, RequestID: sum.RequestID, NHSNumber: sum.NHSNumber,
		SendingODS: sum.AuthorODS, RequestingODS: sum.DestinationODS, Content: extract.Copy(),
	}
	data, err := msg.Encode()
	require.NoError(t, err)
	if string(msg.Interaction) != interaction {
		data = bytes.ReplaceAll(data, []byte(msg.Interaction), []byte(interaction))
	}
	return data
}

func TestGeneratedExtractsValidate(t *testing.T) {
	spectest.Dir(t)
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
