// Package miapitest checks MI API events against the API's OpenAPI
// contract, for tests in any package:
//
//	miapitest.Validate(t, event) // fails t unless the body matches the endpoint's schema
//
// The contract is read from the shared specification (GP2GP-MI.md §5,
// mi-api/ in the directory named by GP2GP_SPEC_DIR), never copied into the
// project. Without GP2GP_SPEC_DIR the default ../shared/spec beside the
// workspace root is used; when neither is there the test is skipped,
// saying so. The package also extracts the request examples of the
// OpenAPI document and of the Postman collection.
package miapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/nhsengland/gp2gp/libs/miapi"
	"github.com/nhsengland/gp2gp/libs/miapi/internal/oapi"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

// Files of the MI API contract, relative to the spec directory.
const (
	OpenAPIFile = "mi-api/specification/gp-registrations-management-information.yaml"
	PostmanFile = "mi-api/doc/postman/MI.postman_collection.json"
)

// DefaultSpecDir is where the spec is looked for, relative to the
// workspace root (the directory holding go.work), when GP2GP_SPEC_DIR is
// not set. CI sets GP2GP_SPEC_DIR to the same place.
const DefaultSpecDir = "../shared/spec"

// postmanVariables are the values given to the Postman collection's
// {{variables}}, which the collection itself does not define: those of the
// OpenAPI examples.
var postmanVariables = map[string]string{
	"conversation_id": "4345-986959-4930-684038",
	"a_datetime":      "2020-02-08T08:30:25Z",
}

// SpecDir returns the spec directory: GP2GP_SPEC_DIR (relative to the
// workspace root when relative), else DefaultSpecDir if it exists. It
// skips the test when the variable is unset and the default is missing,
// and fails it when the directory has no MI API contract.
func SpecDir(t testing.TB) string {
	t.Helper()
	dir, ok := spectest.Lookup()
	if !ok {
		root, found := workspaceRoot()
		if !found {
			t.Skipf("%s is not set and no go.work was found to locate %s: skipping the checks against the MI API contract", spectest.Env, DefaultSpecDir)
		}
		dir = filepath.Join(root, filepath.FromSlash(DefaultSpecDir))
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("%s is not set and %s does not exist: skipping the checks against the MI API contract (CI sets %s=%s)", spectest.Env, dir, spectest.Env, DefaultSpecDir)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(OpenAPIFile))); err != nil {
		t.Fatalf("spec directory %s has no MI API contract: %v", dir, err)
	}
	return dir
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

// Spec is the loaded MI API contract.
type Spec struct {
	dir string
	doc *oapi.Document
}

// Load reads the contract from SpecDir, failing t when it cannot.
func Load(t testing.TB) *Spec {
	t.Helper()
	dir := SpecDir(t)
	doc, err := oapi.Load(filepath.Join(dir, filepath.FromSlash(OpenAPIFile)))
	if err != nil {
		t.Fatal(err)
	}
	return &Spec{dir: dir, doc: doc}
}

// Dir returns the spec directory the contract was read from.
func (s *Spec) Dir() string { return s.dir }

// Validate fails t (without stopping it) unless json.Marshal(e) is a body
// that the request schema of e's endpoint accepts. It checks the schema
// only; Event.Validate checks more.
func Validate(t testing.TB, e miapi.Event) {
	t.Helper()
	Load(t).Validate(t, e)
}

// Validate is the package-level Validate with an already loaded Spec.
func (s *Spec) Validate(t testing.TB, e miapi.Event) {
	t.Helper()
	body, err := json.Marshal(e)
	if err != nil {
		t.Errorf("miapitest: marshalling the %s event: %v", e.Type, err)
		return
	}
	if err := s.Check(e.Type, body); err != nil {
		t.Errorf("miapitest: %s body %s\n%v", e.Type, body, err)
	}
}

// Check returns an error listing every way body breaks the request schema
// of typ's endpoint, or nil when the schema accepts it.
func (s *Spec) Check(typ miapi.EventType, body []byte) error {
	if !typ.Valid() {
		return fmt.Errorf("miapitest: unknown event type %q", typ)
	}
	schema, err := s.doc.RequestSchema(typ.Path(), "post", "application/json")
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("miapitest: body is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("miapitest: data after the JSON body")
	}
	return schema.Validate(v)
}

// Example is a request body example from the contract.
type Example struct {
	// Source says where it comes from, for test names and messages.
	Source string
	// Type is the event type of the endpoint it is posted to.
	Type miapi.EventType
	// Body is the JSON request body.
	Body []byte
}

// Examples returns every request body example of the contract: the JSON
// blocks of each operation's description and any requestBody example(s) in
// the OpenAPI document, then each POST of the Postman collection, with its
// {{variables}} replaced by the values of the OpenAPI examples
// (conversation_id "4345-986959-4930-684038", a_datetime
// "2020-02-08T08:30:25Z"; an unknown variable fails t). An example posted to an unknown endpoint fails t.
func (s *Spec) Examples(t testing.TB) []Example {
	t.Helper()
	out, err := s.openAPIExamples()
	if err != nil {
		t.Fatal(err)
	}
	postman, err := s.postmanExamples()
	if err != nil {
		t.Fatal(err)
	}
	return append(out, postman...)
}

var jsonBlock = regexp.MustCompile("(?s)```json[^\n]*\n(.*?)```")

func (s *Spec) openAPIExamples() ([]Example, error) {
	paths, _ := s.doc.Root()["paths"].(map[string]any)
	names := make([]string, 0, len(paths))
	for p := range paths {
		names = append(names, p)
	}
	sort.Strings(names)
	var out []Example
	for _, path := range names {
		op, err := s.doc.Operation(path, "post")
		if err != nil {
			continue
		}
		typ, ok := miapi.TypeForPath(path)
		if !ok {
			return nil, fmt.Errorf("miapitest: %s: POST %s is not an event type's endpoint", OpenAPIFile, path)
		}
		desc, _ := op["description"].(string)
		for i, m := range jsonBlock.FindAllStringSubmatch(desc, -1) {
			out = append(out, Example{
				Source: fmt.Sprintf("openapi POST %s description example %d", path, i+1),
				Type:   typ,
				Body:   []byte(m[1]),
			})
		}
		rb, _ := op["requestBody"].(map[string]any)
		content, _ := rb["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		if ex, ok := media["example"]; ok {
			body, err := json.Marshal(ex)
			if err != nil {
				return nil, fmt.Errorf("miapitest: POST %s requestBody example: %w", path, err)
			}
			out = append(out, Example{Source: fmt.Sprintf("openapi POST %s requestBody example", path), Type: typ, Body: body})
		}
		examples, _ := media["examples"].(map[string]any)
		keys := make([]string, 0, len(examples))
		for k := range examples {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ex, _ := examples[k].(map[string]any)
			if ref, ok := ex["$ref"].(string); ok {
				node, _, err := s.doc.Resolve(filepath.Join(s.dir, filepath.FromSlash(OpenAPIFile)), ref)
				if err != nil {
					return nil, err
				}
				ex, _ = node.(map[string]any)
			}
			value, ok := ex["value"]
			if !ok {
				return nil, fmt.Errorf("miapitest: POST %s requestBody example %q has no value (externalValue is not supported)", path, k)
			}
			body, err := json.Marshal(value)
			if err != nil {
				return nil, fmt.Errorf("miapitest: POST %s requestBody example %q: %w", path, k, err)
			}
			out = append(out, Example{Source: fmt.Sprintf("openapi POST %s requestBody example %q", path, k), Type: typ, Body: body})
		}
	}
	return out, nil
}

type postmanItem struct {
	Name    string        `json:"name"`
	Item    []postmanItem `json:"item"`
	Request *struct {
		Method string `json:"method"`
		URL    struct {
			Path []string `json:"path"`
		} `json:"url"`
		Body *struct {
			Mode string `json:"mode"`
			Raw  string `json:"raw"`
		} `json:"body"`
	} `json:"request"`
}

var postmanVariable = regexp.MustCompile(`("?)\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}("?)`)

func (s *Spec) postmanExamples() ([]Example, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(PostmanFile)))
	if err != nil {
		return nil, fmt.Errorf("miapitest: %w", err)
	}
	var coll struct {
		Item []postmanItem `json:"item"`
	}
	if err := json.Unmarshal(data, &coll); err != nil {
		return nil, fmt.Errorf("miapitest: %s: %w", PostmanFile, err)
	}
	var out []Example
	var walk func(items []postmanItem, folder string) error
	walk = func(items []postmanItem, folder string) error {
		for _, it := range items {
			name := strings.TrimPrefix(folder+"/"+it.Name, "/")
			if len(it.Item) > 0 {
				if err := walk(it.Item, name); err != nil {
					return err
				}
				continue
			}
			r := it.Request
			if r == nil || r.Method != "POST" || r.Body == nil || r.Body.Mode != "raw" {
				continue
			}
			path := "/" + strings.Join(r.URL.Path, "/")
			typ, ok := miapi.TypeForPath(path)
			if !ok {
				return fmt.Errorf("miapitest: %s: %q posts to %s, not an event type's endpoint", PostmanFile, it.Name, path)
			}
			body, err := substitute(r.Body.Raw)
			if err != nil {
				return fmt.Errorf("miapitest: %s: %q: %w", PostmanFile, it.Name, err)
			}
			out = append(out, Example{Source: "postman " + name, Type: typ, Body: []byte(body)})
		}
		return nil
	}
	if err := walk(coll.Item, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// substitute replaces the {{variables}} of a Postman body: a variable
// standing for a whole JSON value becomes a JSON string, one inside a
// string is replaced by its text.
func substitute(raw string) (string, error) {
	var err error
	out := postmanVariable.ReplaceAllStringFunc(raw, func(m string) string {
		sub := postmanVariable.FindStringSubmatch(m)
		value, ok := postmanVariables[sub[2]]
		if !ok {
			err = fmt.Errorf("variable {{%s}} has no value in postmanVariables", sub[2])
			return m
		}
		if (sub[1] == "") == (sub[3] == "") { // a whole value, quoted or not
			quoted, _ := json.Marshal(value)
			return string(quoted)
		}
		return sub[1] + value + sub[3]
	})
	return out, err
}
