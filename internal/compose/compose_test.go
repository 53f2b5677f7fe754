// Package compose_test checks the production stack in docker-compose.yml and the
// Dockerfile without a Docker engine (none runs where `make test` does): the file
// is loaded with compose-go, the loader `docker compose` uses (schema validation,
// interpolation, normalisation), and its structure checked, and the golive
// commands the containers run are checked against the CLI built the way the
// Dockerfile builds it.
package compose_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/golive/golive/internal/compose"
)

// The services the production stack must have, and the one Temporal address they share.
const (
	svcPostgres = "postgresql"
	svcTemporal = "temporal"
	svcUI       = "temporal-ui"
	svcWorker   = "golive-worker"
	svcCodec    = "codec-server"

	temporalAddress = "temporal:7233"
)

var required = []string{svcPostgres, svcTemporal, svcUI, svcWorker, svcCodec}

// stackEnv is what an operator puts in .env: the one variable the file requires.
var stackEnv = map[string]string{"POSTGRES_PASSWORD": "from-dot-env"}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

func load(t *testing.T) (*types.Project, string) {
	t.Helper()
	root := repoRoot(t)
	p, err := compose.Load(context.Background(), filepath.Join(root, compose.File), stackEnv)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load as Compose loads it: %v", err)
	}
	return p, root
}

func TestServicesExist(t *testing.T) {
	p, _ := load(t)
	if p.Name != "golive" {
		t.Errorf("project name %q, want golive (the file's name:)", p.Name)
	}
	for _, name := range required {
		if _, ok := p.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
}

// TestTheLoaderRejectsWhatComposeRejects: the checks above mean something only
// if the loader judges the file as Compose does: an unknown service key, and a
// required variable left unset, are errors.
func TestTheLoaderRejectsWhatComposeRejects(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, compose.File))
	if err != nil {
		t.Fatal(err)
	}
	typo := strings.Replace(string(data), "    restart: unless-stopped\n", "    restrat: unless-stopped\n", 1)
	path := filepath.Join(t.TempDir(), compose.File)
	if err := os.WriteFile(path, []byte(typo), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := compose.Load(context.Background(), path, stackEnv); err == nil || !strings.Contains(err.Error(), "restrat") {
		t.Errorf("a misspelt service key loaded (err %v)", err)
	}
	if _, err := compose.Load(context.Background(), filepath.Join(root, compose.File), nil); err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
		t.Errorf("the stack loaded without POSTGRES_PASSWORD (err %v)", err)
	}
}

func TestImagesAndBuilds(t *testing.T) {
	p, root := load(t)
	images := map[string]string{
		svcPostgres: "postgres:16",
		svcTemporal: "temporalio/server:",
		svcUI:       "temporalio/ui:",
	}
	for name, prefix := range images {
		img := p.Services[name].Image
		if !strings.HasPrefix(img, prefix) && !(name == svcTemporal && strings.HasPrefix(img, "temporalio/auto-setup:")) {
			t.Errorf("service %s: image %q, want %s...", name, img, prefix)
		}
	}
	for name, s := range p.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s: neither image nor build", name)
		}
		if s.Image != "" && s.Build == nil {
			if _, tag, ok := strings.Cut(s.Image, ":"); !ok || tag == "" || tag == "latest" {
				t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
			}
		}
	}
	for _, name := range []string{svcWorker, svcCodec} {
		s := p.Services[name]
		if s.Build == nil {
			t.Errorf("service %s: not built from the repository's Dockerfile", name)
			continue
		}
		dockerfile := s.Build.Dockerfile
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		path := dockerfile
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.Build.Context, dockerfile)
		}
		if fileMissing(path) {
			t.Errorf("service %s: build file %s does not exist", name, path)
		}
		if s.Build.Context != root {
			t.Errorf("service %s: build context %s, want the repository root %s", name, s.Build.Context, root)
		}
	}
}

func fileMissing(path string) bool {
	_, err := os.Stat(path)
	return err != nil
}

func TestPorts(t *testing.T) {
	p, _ := load(t)
	want := map[string]uint32{svcTemporal: 7233, svcUI: 8080, svcCodec: 8081}
	for name, port := range want {
		var got []uint32
		for _, pc := range p.Services[name].Ports {
			got = append(got, pc.Target)
		}
		if !slices.Contains(got, port) {
			t.Errorf("service %s publishes %v, want container port %d", name, got, port)
		}
	}
	if len(p.Services[svcPostgres].Ports) > 0 {
		t.Errorf("PostgreSQL is published on the host (%v); only the stack needs it", p.Services[svcPostgres].Ports)
	}
	for name, s := range p.Services {
		for _, pc := range s.Ports {
			if pc.HostIP == "" || pc.HostIP == "0.0.0.0" || pc.HostIP == "::" {
				t.Errorf("service %s: port %d listens on every interface; bind it to an address", name, pc.Target)
			}
		}
	}
}

func TestHealthChecks(t *testing.T) {
	p, _ := load(t)
	for _, name := range required {
		h := p.Services[name].HealthCheck
		switch {
		case h == nil || h.Disable:
			t.Errorf("service %s has no health check", name)
		case len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL"):
			t.Errorf("service %s: health check test %q, want [CMD ...] or [CMD-SHELL ...]", name, h.Test)
		case h.Interval == nil || h.Retries == nil || *h.Retries == 0:
			t.Errorf("service %s: health check needs an interval and retries", name)
		}
	}
	// A dependency waited on as healthy must have a health check; one waited on
	// as completed must be a one-shot job (it must not restart forever).
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				t.Errorf("service %s depends on %s, which does not exist", name, dep)
				continue
			}
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil {
					t.Errorf("service %s waits for %s to be healthy, but %s has no health check", name, dep, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if target.Restart == types.RestartPolicyAlways || target.Restart == types.RestartPolicyUnlessStopped {
					t.Errorf("service %s waits for %s to complete, but %s restarts %s", name, dep, dep, target.Restart)
				}
			case "", types.ServiceConditionStarted:
			default:
				t.Errorf("service %s: unknown depends_on condition %q", name, d.Condition)
			}
		}
	}
}

func TestVolumes(t *testing.T) {
	p, _ := load(t)
	mounts := func(name string) map[string]types.ServiceVolumeConfig { // by target
		out := map[string]types.ServiceVolumeConfig{}
		for _, v := range p.Services[name].Volumes {
			out[v.Target] = v
		}
		return out
	}
	named := func(v types.ServiceVolumeConfig) bool { return v.Type == types.VolumeTypeVolume && v.Source != "" }
	if v := mounts(svcPostgres)["/var/lib/postgresql/data"]; !named(v) {
		t.Errorf("PostgreSQL data is not on a named volume (got %s %q)", v.Type, v.Source)
	}
	if v := mounts(svcWorker)["/var/lib/golive"]; !named(v) {
		t.Errorf("the worker's evidence directory /var/lib/golive is not on a named volume (got %s %q)", v.Type, v.Source)
	}
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if named(v) {
				if _, ok := p.Volumes[v.Source]; !ok {
					t.Errorf("service %s mounts volume %s, which is not declared under volumes", name, v.Source)
				}
			}
		}
		for _, c := range s.Configs {
			if _, ok := p.Configs[c.Source]; !ok {
				t.Errorf("service %s uses config %s, which is not declared under configs", name, c.Source)
			}
		}
	}
}

func env(t *testing.T, p *types.Project, name string) map[string]string {
	t.Helper()
	e, err := compose.Environment(p, name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestTemporalAddress(t *testing.T) {
	p, _ := load(t)
	for _, name := range []string{svcWorker, svcUI} {
		if got := env(t, p, name)["TEMPORAL_ADDRESS"]; got != temporalAddress {
			t.Errorf("service %s: TEMPORAL_ADDRESS %q, want %s", name, got, temporalAddress)
		}
	}
	e := env(t, p, svcTemporal)
	if e["DB"] != "postgres12" && e["DB"] != "postgres12_pgx" {
		t.Errorf("temporal: DB %q, want the PostgreSQL plugin (postgres12)", e["DB"])
	}
	if e["POSTGRES_SEEDS"] != svcPostgres {
		t.Errorf("temporal: POSTGRES_SEEDS %q, want %s", e["POSTGRES_SEEDS"], svcPostgres)
	}
	if e["POSTGRES_PWD"] != stackEnv["POSTGRES_PASSWORD"] {
		t.Errorf("temporal: POSTGRES_PWD %q, want the .env password", e["POSTGRES_PWD"])
	}
	if n, err := strconv.Atoi(e["NUM_HISTORY_SHARDS"]); err != nil || n < 1 {
		t.Errorf("temporal: NUM_HISTORY_SHARDS %q", e["NUM_HISTORY_SHARDS"])
	}
}

// TestTemporalDynamicConfig: the server refuses to start without its dynamic
// config file; the stack mounts one where the server's template looks for it.
func TestTemporalDynamicConfig(t *testing.T) {
	p, _ := load(t)
	c, err := compose.ConfigContent(p, svcTemporal, "/etc/temporal/config/dynamicconfig/docker.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c, "limit.maxIDLength") {
		t.Errorf("dynamic config %q lacks limit.maxIDLength", c)
	}
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{"FROM golang:", "-tags nodevserver", "./cmd/golive", `ENTRYPOINT ["/usr/local/bin/golive"]`} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^ARG GO_VERSION=1\.26`).MatchString(text) {
		t.Error("Dockerfile does not build with Go 1.26")
	}
	users := regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(users) == 0 {
		t.Fatal("Dockerfile runs as root (no USER)")
	}
	if u := users[len(users)-1][1]; u == "root" || u == "0" || strings.HasPrefix(u, "0:") {
		t.Errorf("Dockerfile runs as %s", u)
	}
}

var (
	buildOnce sync.Once
	golive    string
	buildErr  error
	buildOut  []byte
)

// productionCLI builds ./cmd/golive once, as the Dockerfile does (-tags nodevserver).
func productionCLI(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the CLI; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "golive-compose-")
		if err != nil {
			buildErr = err
			return
		}
		golive = filepath.Join(dir, "golive")
		goBin, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command(goBin, "build", "-tags", "nodevserver", "-o", golive, "./cmd/golive")
		cmd.Dir = repoRoot(t)
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build the production CLI: %v\n%s", buildErr, buildOut)
	}
	return golive
}

func TestMain(m *testing.M) {
	code := m.Run()
	if golive != "" {
		_ = os.RemoveAll(filepath.Dir(golive))
	}
	os.Exit(code)
}

// runsGolive reports whether a service runs the golive image (ENTRYPOINT golive).
func runsGolive(s types.ServiceConfig) bool { return s.Build != nil && len(s.Entrypoint) == 0 }

// TestCommandsAreGoliveSubcommands runs each golive command line of the stack
// with --help against the production build: an unknown command or flag fails.
func TestCommandsAreGoliveSubcommands(t *testing.T) {
	p, _ := load(t)
	bin := productionCLI(t)
	check := func(what string, args []string) {
		t.Helper()
		if len(args) == 0 {
			t.Errorf("%s: no golive command", what)
			return
		}
		var out bytes.Buffer
		cmd := exec.Command(bin, append(slices.Clone(args), "--help")...)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: `golive %s` is not a command of the production build: %v\n%s", what, strings.Join(args, " "), err, out.String())
			return
		}
		if !strings.Contains(out.String(), "golive "+args[0]) {
			t.Errorf("%s: `golive %s --help` printed the help of another command:\n%s", what, strings.Join(args, " "), out.String())
		}
	}
	for _, name := range []string{svcWorker, svcCodec} {
		if !runsGolive(p.Services[name]) {
			t.Errorf("service %s does not run the golive image's entrypoint", name)
		}
	}
	if c := p.Services[svcWorker].Command; len(c) == 0 || c[0] != "worker" {
		t.Errorf("service %s runs %q, want golive worker", svcWorker, c)
	}
	if c := p.Services[svcCodec].Command; len(c) == 0 || c[0] != "codec-server" {
		t.Errorf("service %s runs %q, want golive codec-server", svcCodec, c)
	}
	for name, s := range p.Services {
		if runsGolive(s) {
			check("service "+name, s.Command)
		}
		if h := s.HealthCheck; h != nil && len(h.Test) > 1 && h.Test[0] == "CMD" && filepath.Base(h.Test[1]) == "golive" {
			check("health check of "+name, h.Test[2:])
		}
	}
	// The production build leaves the embedded server out.
	if err := exec.Command(bin, "dev", "--help").Run(); err == nil {
		t.Error("`golive dev` exists in the -tags nodevserver build; the embedded server is compiled in")
	}
}
