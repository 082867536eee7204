package deploy_test

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dockerfile = "docker/Dockerfile"

// How the Dockerfile builds a binary; TestServiceBinariesStatic builds the
// same way.
var (
	buildEnv   = "CGO_ENABLED=0"
	buildFlags = []string{"-trimpath", `-ldflags=-s -w`}
)

// instruction is one Dockerfile instruction: its keyword (upper case) and
// the rest, continuation lines joined.
type instruction struct {
	Cmd, Args string
}

// stage is one FROM … of a multi-stage Dockerfile.
type stage struct {
	From         string
	Instructions []instruction
}

// parseDockerfile splits a Dockerfile into stages, resolving ARGs declared
// before the first FROM (with their defaults) in FROM lines.
func parseDockerfile(t *testing.T, path string) (args map[string]string, stages []stage) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	args = map[string]string{}
	var cur strings.Builder
	var ins []instruction
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		cmd, rest, _ := strings.Cut(cur.String(), " ")
		ins = append(ins, instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(rest)})
		cur.Reset()
	}
	require.NoError(t, sc.Err())
	require.Zero(t, cur.Len(), "a continued instruction at the end of %s", path)
	argRef := regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)
	for _, in := range ins {
		switch {
		case in.Cmd == "FROM":
			from := argRef.ReplaceAllStringFunc(in.Args, func(ref string) string {
				name := argRef.FindStringSubmatch(ref)[1]
				v, ok := args[name]
				require.True(t, ok, "FROM uses ARG %s without a default before the first FROM", name)
				return v
			})
			stages = append(stages, stage{From: from})
		case len(stages) == 0:
			require.Equal(t, "ARG", in.Cmd, "only ARG comes before the first FROM")
			name, def, _ := strings.Cut(in.Args, "=")
			args[name] = def
		default:
			stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
		}
	}
	return args, stages
}

func TestDockerfile(t *testing.T) {
	args, stages := parseDockerfile(t, dockerfile)
	require.GreaterOrEqual(t, len(stages), 2, "a multi-stage build")

	// The builder: the Go of go.work, building statically with the flags
	// TestServiceBinariesStatic uses.
	work, err := os.ReadFile("../go.work")
	require.NoError(t, err)
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(work)
	require.NotNil(t, goLine, "go.work's go line")
	build := stages[0]
	assert.Equal(t, "golang:"+string(goLine[1])+" AS build", build.From, "the builder's Go is go.work's (ARG GO_VERSION=%s)", args["GO_VERSION"])
	var gobuild string
	for _, in := range build.Instructions {
		if in.Cmd == "RUN" && strings.Contains(in.Args, "go build") {
			gobuild = in.Args
		}
	}
	require.NotEmpty(t, gobuild, "a RUN … go build")
	assert.Contains(t, gobuild, buildEnv+" go build", "a static build")
	assert.Contains(t, gobuild, `-trimpath -ldflags="-s -w"`, "the flags of buildFlags")
	assert.Contains(t, gobuild, `./services/${SERVICE}/cmd/${SERVICE}`)
	accepted := regexp.MustCompile(`case "\$\{SERVICE\}" in\s+([a-z0-9|]+)\)`).FindStringSubmatch(gobuild)
	require.NotNil(t, accepted, "the build checks SERVICE against a list")
	assert.ElementsMatch(t, imageServices(t), strings.Split(accepted[1], "|"), "the Dockerfile's SERVICE values are the Makefile's IMAGE_SERVICES")

	// The image: distroless static (or scratch), a numeric non-root user,
	// the binary as the entrypoint.
	final := stages[len(stages)-1]
	assert.Regexp(t, `^(gcr\.io/distroless/static(-debian\d+)?:nonroot(@sha256:[0-9a-f]{64})?|scratch)$`, final.From)
	var user, entrypoint string
	var labels []string
	for _, in := range final.Instructions {
		switch in.Cmd {
		case "USER":
			user = in.Args
		case "ENTRYPOINT":
			entrypoint = in.Args
		case "LABEL":
			labels = append(labels, in.Args)
		case "RUN":
			t.Errorf("the final stage runs %q: distroless has no shell", in.Args)
		}
	}
	uid, gid, ok := strings.Cut(user, ":")
	require.True(t, ok, "USER uid:gid, got %q", user)
	for _, id := range []string{uid, gid} {
		n, err := strconv.Atoi(id)
		require.NoError(t, err, "USER %q is numeric (Kubernetes' runAsNonRoot can only check a number)", user)
		assert.Equal(t, nonroot, n, "USER: the manifests' runAsUser and runAsGroup")
	}
	assert.Equal(t, `["/app"]`, entrypoint, "ENTRYPOINT in exec form")
	for _, l := range []string{"title", "source", "version", "revision"} {
		assert.Contains(t, strings.Join(labels, " "), "org.opencontainers.image."+l+"=")
	}
}

// imageServices are the commands that get an image: the Makefile's
// IMAGE_SERVICES, which must be the Dockerfile's SERVICE values and
// include every deployed service.
func imageServices(t *testing.T) []string {
	t.Helper()
	mk, err := os.ReadFile("../Makefile")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^IMAGE_SERVICES :?= (.+)$`).FindSubmatch(mk)
	require.NotNil(t, m, "the Makefile's IMAGE_SERVICES")
	out := strings.Fields(string(m[1]))
	require.Subset(t, out, services, "every deployed service has an image")
	for _, svc := range out {
		assert.DirExists(t, "../services/"+svc+"/cmd/"+svc)
	}
	return out
}

// TestServiceBinariesStatic builds every image's binary as the Dockerfile
// does and checks that each is statically linked: distroless static has no
// C library or dynamic loader to run anything else.
func TestServiceBinariesStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every service binary; skipped with -short")
	}
	out := t.TempDir()
	svcs := imageServices(t)
	cmdArgs := append([]string{"build"}, buildFlags...)
	cmdArgs = append(cmdArgs, "-o", out+string(filepath.Separator))
	for _, svc := range svcs {
		cmdArgs = append(cmdArgs, "./services/"+svc+"/cmd/"+svc)
	}
	cmd := exec.CommandContext(t.Context(), "go", cmdArgs...)
	cmd.Dir = ".." // the repository root, as the image build: go.work resolves the libraries
	cmd.Env = append(os.Environ(), buildEnv)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "go %s:\n%s", strings.Join(cmdArgs, " "), b)

	for _, svc := range svcs {
		f, err := elf.Open(filepath.Join(out, svc))
		require.NoError(t, err, svc)
		for _, p := range f.Progs {
			assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s asks for a dynamic loader", svc)
		}
		libs, err := f.ImportedLibraries()
		require.NoError(t, err, svc)
		assert.Empty(t, libs, "%s needs shared libraries (DT_NEEDED)", svc)
		require.NoError(t, f.Close())
	}
}
