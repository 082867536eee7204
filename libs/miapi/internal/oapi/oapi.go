// Package oapi validates JSON values against the schemas of an OpenAPI
// 3.0 document split over several YAML files, for tests. It supports what
// the MI API's schemas use and a little more: $ref to other files
// (relative paths, with an optional JSON pointer) and within a file,
// allOf, anyOf, oneOf, type (object, array, string, integer, number,
// boolean), nullable, enum, required, properties, additionalProperties,
// items, minimum, maximum, exclusiveMinimum, exclusiveMaximum, pattern,
// minLength, maxLength, minItems, maxItems and format date-time. A schema
// keyword it does not know is an error when the schema is compiled, so an
// unsupported constraint is never silently ignored.
package oapi

import (
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Document is an OpenAPI document and the files it refers to.
type Document struct {
	file    string
	root    map[string]any
	files   map[string]any
	schemas map[string]*Schema
}

// Load reads the OpenAPI document in file. Files it refers to are read
// when a schema needs them.
func Load(file string) (*Document, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	d := &Document{file: abs, files: map[string]any{}, schemas: map[string]*Schema{}}
	v, err := d.read(abs)
	if err != nil {
		return nil, err
	}
	root, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("oapi: %s: not a YAML mapping", file)
	}
	d.root = root
	return d, nil
}

// Root returns the document as decoded from YAML.
func (d *Document) Root() map[string]any { return d.root }

func (d *Document) read(file string) (any, error) {
	if v, ok := d.files[file]; ok {
		return v, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("oapi: %w", err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("oapi: %s: %w", file, err)
	}
	d.files[file] = v
	return v, nil
}

// Resolve follows ref (a relative file path, "#/json/pointer" or both)
// from the file from, and returns the node it names with the file it is
// in.
func (d *Document) Resolve(from, ref string) (any, string, error) {
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" {
		return nil, "", fmt.Errorf("oapi: remote $ref %q is not supported", ref)
	}
	path, pointer, _ := strings.Cut(ref, "#")
	file := from
	if path != "" {
		file = filepath.Join(filepath.Dir(from), filepath.FromSlash(path))
	}
	node, err := d.read(file)
	if err != nil {
		return nil, "", err
	}
	if pointer == "" || pointer == "/" {
		return node, file, nil
	}
	for _, token := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
		switch n := node.(type) {
		case map[string]any:
			var ok bool
			if node, ok = n[token]; !ok {
				return nil, "", fmt.Errorf("oapi: $ref %q: no %q", ref, token)
			}
		case []any:
			i, err := strconv.Atoi(token)
			if err != nil || i < 0 || i >= len(n) {
				return nil, "", fmt.Errorf("oapi: $ref %q: no item %q", ref, token)
			}
			node = n[i]
		default:
			return nil, "", fmt.Errorf("oapi: $ref %q: %q is not in a mapping or list", ref, token)
		}
	}
	return node, file, nil
}

// Operation returns the operation of method (lower case, "post") on path,
// with any $ref of the path item followed.
func (d *Document) Operation(path, method string) (map[string]any, error) {
	paths, _ := d.root["paths"].(map[string]any)
	item, ok := paths[path].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("oapi: no path %q", path)
	}
	op, ok := item[method].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("oapi: no %s %s", method, path)
	}
	return op, nil
}

// RequestSchema returns the schema of the request body of method on path
// for mediaType ("application/json").
func (d *Document) RequestSchema(path, method, mediaType string) (*Schema, error) {
	op, err := d.Operation(path, method)
	if err != nil {
		return nil, err
	}
	body, file := any(op["requestBody"]), d.file
	if m, ok := body.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok {
			if body, file, err = d.Resolve(file, ref); err != nil {
				return nil, err
			}
		}
	}
	content, _ := body.(map[string]any)["content"].(map[string]any)
	media, ok := content[mediaType].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("oapi: %s %s has no %s request body", method, path, mediaType)
	}
	return d.compile(media["schema"], file, fmt.Sprintf("%s#%s %s request body", file, method, path))
}

// Schema is a compiled schema.
type Schema struct {
	where                string // for messages
	typ                  string
	format               string
	nullable             bool
	enum                 []any
	required             []string
	properties           map[string]*Schema
	additional           *Schema // nil: anything is allowed
	noAdditional         bool
	items                *Schema
	allOf, anyOf, oneOf  []*Schema
	minimum, maximum     *big.Float
	exclMin, exclMax     bool
	pattern              *regexp.Regexp
	minLength, maxLength int
	minItems, maxItems   int
}

// annotations are keywords that do not constrain a value ("definitions"
// only holds schemas for $ref).
var annotations = map[string]bool{
	"description": true, "example": true, "examples": true, "title": true, "default": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "externalDocs": true, "xml": true,
	"discriminator": true, "definitions": true,
}

func (d *Document) compile(node any, file, where string) (*Schema, error) {
	m, ok := node.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("oapi: %s: schema is not a mapping", where)
	}
	if ref, ok := m["$ref"].(string); ok {
		target, tfile, err := d.Resolve(file, ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		_, pointer, _ := strings.Cut(ref, "#")
		key := tfile + "#" + pointer
		if s, ok := d.schemas[key]; ok {
			return s, nil
		}
		s := &Schema{}
		d.schemas[key] = s // before compiling: a schema may refer to itself
		compiled, err := d.compile(target, tfile, key)
		if err != nil {
			return nil, err
		}
		*s = *compiled
		return s, nil
	}
	s := &Schema{where: where, minLength: -1, maxLength: -1, minItems: -1, maxItems: -1}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		var err error
		switch {
		case annotations[k] || strings.HasPrefix(k, "x-"):
		case k == "type":
			s.typ, ok = v.(string)
			if !ok || !map[string]bool{"object": true, "array": true, "string": true, "integer": true, "number": true, "boolean": true}[s.typ] {
				err = fmt.Errorf("type %v is not an OpenAPI 3.0 type", v)
			}
		case k == "format":
			s.format, _ = v.(string)
		case k == "nullable":
			s.nullable, ok = v.(bool)
			if !ok {
				err = errors.New("nullable is not a boolean")
			}
		case k == "enum":
			if s.enum, ok = v.([]any); !ok {
				err = errors.New("enum is not a list")
			}
		case k == "required":
			list, ok := v.([]any)
			if !ok {
				err = errors.New("required is not a list")
			}
			for _, r := range list {
				name, ok := r.(string)
				if !ok {
					err = errors.New("required holds a non-string")
				}
				s.required = append(s.required, name)
			}
		case k == "properties":
			props, ok := v.(map[string]any)
			if !ok {
				err = errors.New("properties is not a mapping")
				break
			}
			s.properties = map[string]*Schema{}
			for name, p := range props {
				if s.properties[name], err = d.compile(p, file, where+"/properties/"+name); err != nil {
					return nil, err
				}
			}
		case k == "additionalProperties":
			switch a := v.(type) {
			case bool:
				s.noAdditional = !a
			default:
				s.additional, err = d.compile(a, file, where+"/additionalProperties")
			}
		case k == "items":
			s.items, err = d.compile(v, file, where+"/items")
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			list, ok := v.([]any)
			if !ok {
				err = fmt.Errorf("%s is not a list", k)
				break
			}
			var subs []*Schema
			for i, sub := range list {
				c, cerr := d.compile(sub, file, fmt.Sprintf("%s/%s/%d", where, k, i))
				if cerr != nil {
					return nil, cerr
				}
				subs = append(subs, c)
			}
			switch k {
			case "allOf":
				s.allOf = subs
			case "anyOf":
				s.anyOf = subs
			default:
				s.oneOf = subs
			}
		case k == "minimum" || k == "maximum":
			n, ok := number(v)
			if !ok {
				err = fmt.Errorf("%s is not a number", k)
			} else if k == "minimum" {
				s.minimum = n
			} else {
				s.maximum = n
			}
		case k == "exclusiveMinimum" || k == "exclusiveMaximum":
			b, ok := v.(bool)
			if !ok {
				err = fmt.Errorf("%s is not a boolean (OpenAPI 3.0)", k)
			} else if k == "exclusiveMinimum" {
				s.exclMin = b
			} else {
				s.exclMax = b
			}
		case k == "pattern":
			p, ok := v.(string)
			if !ok {
				err = errors.New("pattern is not a string")
				break
			}
			s.pattern, err = regexp.Compile(p)
		case k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems":
			n, ok := v.(int)
			if !ok || n < 0 {
				err = fmt.Errorf("%s is not a non-negative integer", k)
				break
			}
			switch k {
			case "minLength":
				s.minLength = n
			case "maxLength":
				s.maxLength = n
			case "minItems":
				s.minItems = n
			default:
				s.maxItems = n
			}
		default:
			err = fmt.Errorf("keyword %q is not supported", k)
		}
		if err != nil {
			return nil, fmt.Errorf("oapi: %s: %w", where, err)
		}
	}
	return s, nil
}

// Invalid lists what is wrong with a value, one "path: problem" per line.
type Invalid struct {
	Problems []string
}

func (e *Invalid) Error() string {
	return "oapi: value does not match the schema:\n\t" + strings.Join(e.Problems, "\n\t")
}

// Validate checks v, a value decoded from JSON (numbers as json.Number or
// float64), and returns an *Invalid listing every problem, or nil.
func (s *Schema) Validate(v any) error {
	var problems []string
	s.validate(v, "", &problems)
	if len(problems) == 0 {
		return nil
	}
	return &Invalid{Problems: problems}
}

func at(path string) string {
	if path == "" {
		return "(body)"
	}
	return path
}

func child(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (s *Schema) validate(v any, path string, problems *[]string) {
	add := func(format string, args ...any) {
		*problems = append(*problems, at(path)+": "+fmt.Sprintf(format, args...))
	}
	for _, sub := range s.allOf {
		sub.validate(v, path, problems)
	}
	if len(s.anyOf) > 0 && matching(s.anyOf, v) == 0 {
		add("matches none of anyOf")
	}
	if len(s.oneOf) > 0 {
		if n := matching(s.oneOf, v); n != 1 {
			add("matches %d of oneOf, not exactly 1", n)
		}
	}
	if v == nil {
		if s.typ != "" && !s.nullable {
			add("must not be null")
		}
		return
	}
	if s.typ != "" && !hasType(v, s.typ) {
		add("must be of type %s (have %s)", s.typ, typeOf(v))
		return
	}
	if len(s.enum) > 0 && !inEnum(s.enum, v) {
		add("must be one of %v (have %v)", s.enum, v)
	}
	switch x := v.(type) {
	case string:
		n := utf8.RuneCountInString(x)
		if s.minLength >= 0 && n < s.minLength {
			add("must be at least %d characters long", s.minLength)
		}
		if s.maxLength >= 0 && n > s.maxLength {
			add("must be at most %d characters long (have %d)", s.maxLength, n)
		}
		if s.pattern != nil && !s.pattern.MatchString(x) {
			add("must match %s (have %q)", s.pattern, x)
		}
		if s.format == "date-time" {
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				add("must be an RFC 3339 date-time (have %q)", x)
			}
		}
	case map[string]any:
		for _, name := range s.required {
			if _, ok := x[name]; !ok {
				*problems = append(*problems, child(path, name)+": is required")
			}
		}
		names := make([]string, 0, len(x))
		for name := range x {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if p, ok := s.properties[name]; ok {
				p.validate(x[name], child(path, name), problems)
				continue
			}
			switch {
			case s.noAdditional:
				*problems = append(*problems, child(path, name)+": is not allowed")
			case s.additional != nil:
				s.additional.validate(x[name], child(path, name), problems)
			}
		}
	case []any:
		if s.minItems >= 0 && len(x) < s.minItems {
			add("must have at least %d items", s.minItems)
		}
		if s.maxItems >= 0 && len(x) > s.maxItems {
			add("must have at most %d items", s.maxItems)
		}
		if s.items != nil {
			for i, item := range x {
				s.items.validate(item, fmt.Sprintf("%s[%d]", path, i), problems)
			}
		}
	default:
		if n, ok := number(v); ok {
			if s.minimum != nil {
				if c := n.Cmp(s.minimum); c < 0 || (c == 0 && s.exclMin) {
					add("must be at least %v (have %v)", s.minimum, v)
				}
			}
			if s.maximum != nil {
				if c := n.Cmp(s.maximum); c > 0 || (c == 0 && s.exclMax) {
					add("must be at most %v (have %v)", s.maximum, v)
				}
			}
		}
	}
}

func matching(schemas []*Schema, v any) int {
	n := 0
	for _, s := range schemas {
		var p []string
		s.validate(v, "", &p)
		if len(p) == 0 {
			n++
		}
	}
	return n
}

func hasType(v any, typ string) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		n, ok := number(v)
		return ok && n.IsInt()
	}
	return false
}

func typeOf(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	if _, ok := number(v); ok {
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// number returns v as a number when it is one: a json.Number, or a
// numeric type decoded from JSON or YAML.
func number(v any) (*big.Float, bool) {
	var s string
	switch x := v.(type) {
	case interface{ Float64() (float64, error) }: // json.Number
		s = fmt.Sprint(x)
	case float64, float32, int, int64, int32, uint, uint64, uint32:
		s = fmt.Sprint(x)
	default:
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 10, 256, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	return f, true
}

func inEnum(enum []any, v any) bool {
	for _, e := range enum {
		if equal(e, v) {
			return true
		}
	}
	return false
}

func equal(a, b any) bool {
	if na, ok := number(a); ok {
		nb, ok := number(b)
		return ok && na.Cmp(nb) == 0
	}
	switch x := a.(type) {
	case string, bool, nil:
		return a == b
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !equal(x[k], y[k]) {
				return false
			}
		}
		return true
	}
	return false
}
