// Package spectest gives tests the shared GP2GP specification: the
// directory named by GP2GP_SPEC_DIR, its sample messages and their HL7
// payloads, and schema validation with xmllint. Tests that use it skip,
// naming the variable, when it is not set; CI sets it.
//
// The specification is reference data: it is read from where it lies,
// never copied into the project.
package spectest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
)

// Env is the environment variable naming the spec directory.
const Env = "GP2GP_SPEC_DIR"

// Schemas, relative to the spec directory.
const (
	SchemaRequest = "schemas-local/RCMR_IN010000UK05.local.xsd" // the project's stand-in: no official one exists
	SchemaUK06    = "schemas/schema/RCMR_IN030000UK06.xsd"
	SchemaUK07    = "schemas/schema/RCMR_IN030000UK07.xsd"
	SchemaAck     = "schemas/schema/MCCI_IN010000UK13.xsd"
	SchemaCOPC    = "schemas/schema/COPC_IN000001UK01.xsd"
)

// Lookup returns the spec directory as an absolute path. A relative
// GP2GP_SPEC_DIR is taken relative to the workspace root (the directory
// holding go.work), since tests run in their package directories.
func Lookup() (string, bool) {
	dir := os.Getenv(Env)
	if dir == "" {
		return "", false
	}
	if !filepath.IsAbs(dir) {
		if root, ok := workspaceRoot(); ok {
			dir = filepath.Join(root, dir)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dir, true
	}
	return abs, true
}

func workspaceRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Dir returns the spec directory, or skips the test when GP2GP_SPEC_DIR is
// not set. A set variable naming a missing directory fails the test.
func Dir(t testing.TB) string {
	t.Helper()
	dir, ok := Lookup()
	if !ok {
		t.Skipf("%s is not set: skipping the tests against the shared spec (CI sets it to ../shared/spec)", Env)
	}
	if _, err := os.Stat(filepath.Join(dir, "samples")); err != nil {
		t.Fatalf("%s=%s has no samples/: %v", Env, dir, err)
	}
	return dir
}

// SampleNames lists the sample message files (MANIFEST.md excluded).
func SampleNames(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(Dir(t), "samples"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "MANIFEST.md" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Sample returns a sample file's bytes as stored.
func Sample(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(t), "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TemplateLiteral returns the text between the first and last backtick,
// where some captures are kept (the .js.txt samples), or data unchanged.
func TemplateLiteral(data []byte) []byte {
	i, j := bytes.IndexByte(data, '`'), bytes.LastIndexByte(data, '`')
	if i < 0 || j <= i {
		return data
	}
	return data[i+1 : j]
}

// Payload returns the HL7 payload of a sample, whatever wraps it: the
// file itself (.xml), the "payload" of MHS inbound JSON (.mhs.json), or
// the HL7 part of a MIME capture.
func Payload(t testing.TB, name string) []byte {
	t.Helper()
	data, err := PayloadOf(Dir(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var interactionElement = regexp.MustCompile(`<((\w+:)?(RCMR_IN\d{6}UK\d\d|MCCI_IN\d{6}UK\d\d|COPC_IN\d{6}UK\d\d))[\s>]`)

// PayloadOf is Payload for callers without a testing.TB (fuzz seeding).
func PayloadOf(dir, name string) ([]byte, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "samples", name))
	if err != nil {
		return nil, err
	}
	switch filepath.Ext(name) {
	case ".json":
		var env struct {
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return []byte(env.Payload), nil
	case ".xml":
		return raw, nil
	}
	// A MIME capture: the HL7 part is the element named for an interaction.
	text := TemplateLiteral(raw)
	m := interactionElement.FindSubmatchIndex(text)
	if m == nil {
		return nil, fmt.Errorf("%s: no HL7 part", name)
	}
	end := bytes.Index(text[m[0]:], []byte("</"+string(text[m[2]:m[3]])+">"))
	if end < 0 {
		return nil, fmt.Errorf("%s: unterminated HL7 part", name)
	}
	return text[m[0] : m[0]+end+len("</")+m[3]-m[2]+len(">")], nil
}

// ErrInvalid is wrapped by Validate when the schema rejects the document.
var ErrInvalid = errors.New("spectest: schema rejects the document")

// Validate checks data against schema (one of the Schema constants) with
// xmllint. It skips the test without the spec directory and fails it when
// xmllint is missing; a document the schema rejects gives ErrInvalid with
// xmllint's complaint.
func Validate(t testing.TB, schema string, data []byte) error {
	t.Helper()
	dir := Dir(t)
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint is needed to validate against the schemas (apt-get install libxml2-utils): %v", err)
	}
	f := filepath.Join(t.TempDir(), "document.xml")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join(dir, schema), f).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w %s:\n%s", ErrInvalid, schema, out)
	}
	return nil
}
