package oapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/miapi/internal/oapi"
)

// write creates files (name → content) in a temporary directory and
// returns the path of the first argument's file.
func write(t *testing.T, main string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	}
	return filepath.Join(dir, main)
}

const api = `
openapi: "3.0.3"
paths:
  /things:
    post:
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Thing'
components:
  schemas:
    Thing:
      type: object
      additionalProperties: false
      required: [code, size]
      properties:
        code:
          type: string
          pattern: '^[A-Z]{2}$'
        name:
          type: string
          minLength: 1
          maxLength: 5
        size:
          type: integer
          minimum: 0
          maximum: 10
          exclusiveMaximum: true
        ratio:
          type: number
          minimum: 0.5
        note:
          type: string
          nullable: true
        at:
          type: string
          format: date-time
        kind:
          type: string
          enum: [A, B]
        tags:
          type: array
          minItems: 1
          maxItems: 2
          items:
            type: string
        parts:
          $ref: parts/Part.yaml
        either:
          anyOf:
            - type: string
            - type: integer
        exactly:
          oneOf:
            - type: integer
            - type: number
        labels:
          type: object
          additionalProperties:
            type: boolean
`

const part = `
type: array
items:
  allOf:
    - $ref: '#/definitions/Named'
    - required: [n]
definitions:
  Named:
    type: object
    properties:
      n:
        type: integer
`

func load(t *testing.T) *oapi.Schema {
	t.Helper()
	doc, err := oapi.Load(write(t, "api.yaml", map[string]string{"api.yaml": api, "parts/Part.yaml": part}))
	require.NoError(t, err)
	s, err := doc.RequestSchema("/things", "post", "application/json")
	require.NoError(t, err)
	return s
}

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	return v
}

func TestValidate(t *testing.T) {
	s := load(t)
	for _, tc := range []struct {
		name, body string
		want       []string // problems; none for a valid body
	}{
		{"minimal", `{"code":"AB","size":0}`, nil},
		{"everything", `{"code":"AB","name":"abcde","size":9,"ratio":0.5,"note":null,"at":"2020-02-08T08:30:25Z","kind":"B",
			"tags":["x","y"],"parts":[{"n":1}],"either":3,"exactly":1.5,"labels":{"a":true}}`, nil},
		{"missing required", `{}`, []string{"code: is required", "size: is required"}},
		{"additional property", `{"code":"AB","size":1,"extra":1}`, []string{"extra: is not allowed"}},
		{"pattern", `{"code":"A1","size":1}`, []string{`code: must match ^[A-Z]{2}$ (have "A1")`}},
		{"length", `{"code":"AB","size":1,"name":"abcdef"}`, []string{"name: must be at most 5 characters long (have 6)"}},
		{"min length", `{"code":"AB","size":1,"name":""}`, []string{"name: must be at least 1 characters long"}},
		{"minimum", `{"code":"AB","size":-1}`, []string{"size: must be at least 0 (have -1)"}},
		{"exclusive maximum", `{"code":"AB","size":10}`, []string{"size: must be at most 10 (have 10)"}},
		{"not an integer", `{"code":"AB","size":1.5}`, []string{"size: must be of type integer (have number)"}},
		{"integral float is an integer", `{"code":"AB","size":2.0}`, nil},
		{"number minimum", `{"code":"AB","size":1,"ratio":0.25}`, []string{"ratio: must be at least 0.5 (have 0.25)"}},
		{"null where not nullable", `{"code":null,"size":1}`, []string{"code: must not be null"}},
		{"date-time", `{"code":"AB","size":1,"at":"2020-02-08 08:30"}`, []string{`at: must be an RFC 3339 date-time (have "2020-02-08 08:30")`}},
		{"enum", `{"code":"AB","size":1,"kind":"C"}`, []string{"kind: must be one of [A B] (have C)"}},
		{"items", `{"code":"AB","size":1,"tags":[1]}`, []string{"tags[0]: must be of type string (have number)"}},
		{"min items", `{"code":"AB","size":1,"tags":[]}`, []string{"tags: must have at least 1 items"}},
		{"max items", `{"code":"AB","size":1,"tags":["a","b","c"]}`, []string{"tags: must have at most 2 items"}},
		{"ref to another file, allOf, ref within it", `{"code":"AB","size":1,"parts":[{"n":"x"},{}]}`,
			[]string{"parts[0].n: must be of type integer (have string)", "parts[1].n: is required"}},
		{"anyOf", `{"code":"AB","size":1,"either":true}`, []string{"either: matches none of anyOf"}},
		{"oneOf", `{"code":"AB","size":1,"exactly":2}`, []string{"exactly: matches 2 of oneOf, not exactly 1"}},
		{"additionalProperties schema", `{"code":"AB","size":1,"labels":{"a":"yes"}}`, []string{"labels.a: must be of type boolean (have string)"}},
		{"not an object", `[]`, []string{"(body): must be of type object (have array)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Validate(decode(t, tc.body))
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			var inv *oapi.Invalid
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tc.want, inv.Problems)
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"unsupported keyword", `{type: object, not: {type: string}}`, `keyword "not" is not supported`},
		{"bad type", `{type: date}`, "not an OpenAPI 3.0 type"},
		{"bad pattern", `{type: string, pattern: "("}`, "missing closing )"},
		{"missing ref", `{$ref: 'nowhere.yaml'}`, "nowhere.yaml"},
		{"bad pointer", `{$ref: '#/components/nothing'}`, `no "components"`},
		{"remote ref", `{$ref: 'https://example.com/s.yaml'}`, "remote $ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := "paths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: " + tc.schema + "\n"
			d, err := oapi.Load(write(t, "api.yaml", map[string]string{"api.yaml": doc}))
			require.NoError(t, err)
			_, err = d.RequestSchema("/x", "post", "application/json")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRecursiveRef(t *testing.T) {
	doc := `
paths:
  /x:
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Node'}
components:
  schemas:
    Node:
      type: object
      properties:
        next: {$ref: '#/components/schemas/Node'}
        v: {type: integer}
`
	d, err := oapi.Load(write(t, "api.yaml", map[string]string{"api.yaml": doc}))
	require.NoError(t, err)
	s, err := d.RequestSchema("/x", "post", "application/json")
	require.NoError(t, err)
	assert.NoError(t, s.Validate(decode(t, `{"next":{"next":{"v":1}}}`)))
	assert.ErrorContains(t, s.Validate(decode(t, `{"next":{"next":{"v":"1"}}}`)), "next.next.v: must be of type integer")
}

func TestRequestSchemaMissing(t *testing.T) {
	d, err := oapi.Load(write(t, "api.yaml", map[string]string{"api.yaml": api, "parts/Part.yaml": part}))
	require.NoError(t, err)
	_, err = d.RequestSchema("/nothing", "post", "application/json")
	assert.Error(t, err)
	_, err = d.RequestSchema("/things", "get", "application/json")
	assert.Error(t, err)
	_, err = d.RequestSchema("/things", "post", "application/xml")
	assert.Error(t, err)
}
