package deploy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Where the services' environment variables are declared, as Env…
// constants: what every service reads, what every transfer stage reads,
// and each service's own (its package directory).
var (
	envShared = []string{"../libs/service"}
	envStage  = []string{"../libs/stage", "../libs/spine", "../libs/directory"}
)

// Variables the Go runtime and standard library read, which a deployment
// may set (HTTPS_PROXY for the external APIs through an egress proxy).
var envRuntime = map[string]bool{"HTTPS_PROXY": true, "NO_PROXY": true, "GOMEMLIMIT": true, "GOMAXPROCS": true}

// TestEnvNamesKnown checks that every variable a Deployment sets (env and
// the ConfigMaps of envFrom) is one its service reads: a misspelt name
// would otherwise be ignored, leaving the default in force.
func TestEnvNamesKnown(t *testing.T) {
	shared := envConstants(t, envShared...)
	require.Contains(t, shared, "GP2GP_NATS_URL", "the constants of libs/service")
	stage := envConstants(t, envStage...)
	require.Contains(t, stage, "GP2GP_SPINE_TRANSPORT", "the constants of libs/stage and libs/spine")
	known := map[string]map[string]bool{}
	for _, svc := range services {
		known[svc] = envConstants(t, "../services/"+svc)
		for k := range shared {
			known[svc][k] = true
		}
		if isStage(svc) {
			for k := range stage {
				known[svc][k] = true
			}
		}
	}
	eachRender(t, func(t *testing.T, r *rendered) {
		for _, svc := range services {
			for name, v := range r.env(t, svc) {
				assert.True(t, known[svc][name] || envRuntime[name], "%s sets %s (%s), which the %s does not read", r.dir, name, v.From, svc)
			}
		}
	})
}

// envConstants collects the values of the constants named Env… that
// start with GP2GP_ in the non-test Go files of dirs (not their
// subdirectories).
func envConstants(t *testing.T, dirs ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, dir := range dirs {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files, dir)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			ast.Inspect(file, func(n ast.Node) bool {
				spec, ok := n.(*ast.ValueSpec)
				if !ok {
					return true
				}
				for i, name := range spec.Names {
					if !strings.HasPrefix(name.Name, "Env") || i >= len(spec.Values) {
						continue
					}
					lit, ok := spec.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					if v, err := strconv.Unquote(lit.Value); err == nil && strings.HasPrefix(v, "GP2GP_") {
						out[v] = true
					}
				}
				return true
			})
		}
	}
	return out
}
