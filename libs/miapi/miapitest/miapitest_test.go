package miapitest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/miapi"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

// recorder is a testing.TB that records a skip or a fatal failure
// instead of acting on the real test.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// specDir runs SpecDir with a recorder.
func specDir(t *testing.T) (dir string, r *recorder) {
	r = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dir = SpecDir(r)
	}()
	<-done
	return dir, r
}

func TestSpecDirSkipsWithoutSpec(t *testing.T) {
	t.Setenv(spectest.Env, "")
	t.Chdir(t.TempDir()) // no go.work above, so no default either
	_, r := specDir(t)
	assert.Contains(t, r.skipped, spectest.Env+" is not set")
	assert.Empty(t, r.fatal)
}

func TestSpecDirDefault(t *testing.T) {
	t.Setenv(spectest.Env, "")
	root, ok := workspaceRoot()
	require.True(t, ok)
	def := filepath.Join(root, DefaultSpecDir)
	if _, err := os.Stat(filepath.Join(def, OpenAPIFile)); err != nil {
		t.Skipf("no spec at the default %s", def)
	}
	dir, r := specDir(t)
	require.Empty(t, r.skipped+r.fatal)
	assert.Equal(t, filepath.Clean(def), filepath.Clean(dir))
}

func TestSpecDirWithoutContractFails(t *testing.T) {
	t.Setenv(spectest.Env, t.TempDir())
	_, r := specDir(t)
	assert.Contains(t, r.fatal, "has no MI API contract")
}

func TestExamplesCoverEveryType(t *testing.T) {
	examples := Load(t).Examples(t)
	count := map[string]int{}
	for _, ex := range examples {
		source, _, _ := strings.Cut(ex.Source, " ")
		count[source+" "+string(ex.Type)]++
		assert.NotContains(t, string(ex.Body), "{{", ex.Source)
	}
	for _, typ := range miapi.EventTypes() {
		assert.Equal(t, 1, count["openapi "+string(typ)], "OpenAPI examples of %s", typ)
		assert.Equal(t, 1, count["postman "+string(typ)], "Postman examples of %s", typ)
	}
}

func TestSubstitute(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`{"a": {{conversation_id}}}`, `{"a": "4345-986959-4930-684038"}`},
		{`{"a": "{{a_datetime}}"}`, `{"a": "2020-02-08T08:30:25Z"}`},
		{`{"a": "id-{{conversation_id}}"}`, `{"a": "id-4345-986959-4930-684038"}`},
		{`{"a": "{{ conversation_id }}-x"}`, `{"a": "4345-986959-4930-684038-x"}`},
	} {
		got, err := substitute(tc.raw)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
	_, err := substitute(`{"a": {{nhs_number}}}`)
	assert.ErrorContains(t, err, "{{nhs_number}}")
}

func TestCheckUnknownType(t *testing.T) {
	assert.Error(t, Load(t).Check("EHR_REQUESTED", []byte(`{}`)))
}
