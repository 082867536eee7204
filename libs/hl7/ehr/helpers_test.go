package ehr_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// specEnv names the environment variable giving the spec directory (the
// one holding samples/ and schemas/).
const specEnv = "GP2GP_SPEC_DIR"

// specDir returns the spec directory, skipping the test when it is not
// set.
func specDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(specEnv)
	if dir == "" {
		t.Skipf("set %s to the GP2GP spec directory (e.g. /work/shared/spec) to run this test", specEnv)
	}
	return dir
}

// serialize writes el as a document without indentation.
func serialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, err := doc.WriteToBytes()
	require.NoError(t, err)
	return b
}

// parseRoot parses data with xmldoc and returns the root element.
func parseRoot(t testing.TB, data []byte) *etree.Element {
	t.Helper()
	doc, err := xmldoc.Parse(data, xmldoc.Limits{})
	require.NoError(t, err)
	return doc.Root()
}

// sampleWrapper says how a sample file holds its HL7 payload.
type sampleWrapper int

const (
	bareXML  sampleWrapper = iota // the payload itself
	mhsJSON                       // MHS inbound JSON: the "payload" field
	mimeText                      // HTTP/MIME capture, possibly in a JS template literal
)

// samplePayload reads a sample and returns its HL7 payload.
func samplePayload(t testing.TB, path string, w sampleWrapper) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	switch w {
	case mhsJSON:
		var m struct {
			Payload string `json:"payload"`
		}
		require.NoError(t, json.Unmarshal(data, &m), filepath.Base(path))
		return []byte(m.Payload)
	case mimeText:
		return hl7Part(t, string(data))
	default:
		return data
	}
}

// hl7Part finds the HL7 part of a MIME capture: the text between
// backticks when the capture sits in a JavaScript template literal,
// otherwise the body after the HTTP headers; the boundary is the first
// line starting "--".
func hl7Part(t testing.TB, text string) []byte {
	t.Helper()
	if i, j := strings.Index(text, "`"), strings.LastIndex(text, "`"); i >= 0 && j > i {
		text = text[i+1 : j]
	}
	var boundary string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "--") {
			boundary = strings.TrimPrefix(line, "--")
			break
		}
	}
	require.NotEmpty(t, boundary, "no MIME boundary line")
	body := text[strings.Index(text, "--"+boundary):]
	r := multipart.NewReader(strings.NewReader(body), boundary)
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		content, err := io.ReadAll(part)
		require.NoError(t, err)
		if bytes.Contains(content, []byte("<RCMR_IN030000UK0")) {
			return content
		}
	}
	t.Fatal("no HL7 extract part in the MIME capture")
	return nil
}
