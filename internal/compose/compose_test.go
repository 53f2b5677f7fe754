// Package compose_test checks the production stack in docker-compose.yml and the
// Dockerfile without a Docker engine (none runs where `make test` does): the file
// is parsed with yaml.v3 and its structure checked, and the golive commands the
// containers run are checked against the CLI built the way the Dockerfile builds it.
package compose_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// composeFile is the part of the Compose specification the stack uses.
type composeFile struct {
	Name     string                 `yaml:"name"`
	Services map[string]service     `yaml:"services"`
	Volumes  map[string]any         `yaml:"volumes"`
	Configs  map[string]composeConf `yaml:"configs"`
}

type service struct {
	Image       string                `yaml:"image"`
	Build       *build                `yaml:"build"`
	Command     []string              `yaml:"command"`
	Entrypoint  []string              `yaml:"entrypoint"`
	Environment map[string]string     `yaml:"environment"`
	Ports       []string              `yaml:"ports"`
	Expose      []string              `yaml:"expose"`
	Volumes     []string              `yaml:"volumes"`
	DependsOn   map[string]dependency `yaml:"depends_on"`
	Healthcheck *healthcheck          `yaml:"healthcheck"`
	Configs     []serviceConfig       `yaml:"configs"`
	Restart     string                `yaml:"restart"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
	Disable     bool     `yaml:"disable"`
}

type serviceConfig struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

type composeConf struct {
	Content string `yaml:"content"`
	File    string `yaml:"file"`
}

// composeServiceKeys are the service keys of the Compose specification; any other
// key in the file is a typo that Compose would reject (or, worse, ignore).
var composeServiceKeys = []string{
	"annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent",
	"command", "configs", "container_name", "cpu_count", "cpu_percent", "cpu_period", "cpu_quota",
	"cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset", "credential_spec", "depends_on",
	"deploy", "develop", "device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search", "domainname",
	"driver_opts", "entrypoint", "env_file", "environment", "expose", "extends", "external_links",
	"extra_hosts", "gpus", "group_add", "healthcheck", "hostname", "image", "init", "ipc", "isolation",
	"labels", "label_file", "links", "logging", "mac_address", "mem_limit", "mem_reservation",
	"mem_swappiness", "memswap_limit", "models", "network_mode", "networks", "oom_kill_disable",
	"oom_score_adj", "pid", "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged",
	"profiles", "provider", "pull_policy", "read_only", "restart", "runtime", "scale", "secrets",
	"security_opt", "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt",
	"sysctls", "tmpfs", "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts", "volumes",
	"volumes_from", "working_dir",
}

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

func load(t *testing.T) (composeFile, string) {
	t.Helper()
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("docker-compose.yml does not have the shape this test reads: %v", err)
	}
	return f, root
}

var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}`)

// expand resolves ${VAR:-default} and ${VAR-default} to the default, as Compose
// does with VAR unset; ${VAR}, ${VAR:?message} and ${VAR?message} become "".
func expand(s string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		sub := interpolation.FindStringSubmatch(m)
		if strings.HasSuffix(sub[2], "-") {
			return sub[3]
		}
		return ""
	})
}

// containerPort is the container side of a port mapping ("127.0.0.1:8080:8080/tcp" -> "8080").
func containerPort(mapping string) string {
	p := expand(mapping)
	p, _, _ = strings.Cut(p, "/")
	return p[strings.LastIndex(p, ":")+1:]
}

func TestServicesExist(t *testing.T) {
	f, root := load(t)
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Services map[string]map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for name, keys := range raw.Services {
		for k := range keys {
			if !slices.Contains(composeServiceKeys, k) {
				t.Errorf("service %s: %q is not a Compose service key", name, k)
			}
		}
	}
	if f.Name == "" {
		t.Error("the stack has no project name")
	}
	for _, name := range required {
		if _, ok := f.Services[name]; !ok {
			t.Errorf("service %s is missing", name)
		}
	}
}

func TestImagesAndBuilds(t *testing.T) {
	f, root := load(t)
	images := map[string]string{
		svcPostgres: "postgres:16",
		svcTemporal: "temporalio/server:",
		svcUI:       "temporalio/ui:",
	}
	for name, prefix := range images {
		img := expand(f.Services[name].Image)
		if !strings.HasPrefix(img, prefix) && !(name == svcTemporal && strings.HasPrefix(img, "temporalio/auto-setup:")) {
			t.Errorf("service %s: image %q, want %s...", name, img, prefix)
		}
	}
	for name, s := range f.Services {
		img := expand(s.Image)
		if img == "" && s.Build == nil {
			t.Errorf("service %s: neither image nor build", name)
		}
		if img != "" && s.Build == nil {
			if _, tag, ok := strings.Cut(img, ":"); !ok || tag == "" || tag == "latest" {
				t.Errorf("service %s: image %q is not pinned to a version", name, img)
			}
		}
	}
	for _, name := range []string{svcWorker, svcCodec} {
		s := f.Services[name]
		if s.Build == nil {
			t.Errorf("service %s: not built from the repository's Dockerfile", name)
			continue
		}
		dockerfile := s.Build.Dockerfile
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		if path := filepath.Join(root, s.Build.Context, dockerfile); fileMissing(path) {
			t.Errorf("service %s: build file %s does not exist", name, path)
		}
	}
}

func fileMissing(path string) bool {
	_, err := os.Stat(path)
	return err != nil
}

func TestPorts(t *testing.T) {
	f, _ := load(t)
	want := map[string]string{svcTemporal: "7233", svcUI: "8080", svcCodec: "8081"}
	for name, port := range want {
		var got []string
		for _, p := range f.Services[name].Ports {
			got = append(got, containerPort(p))
		}
		if !slices.Contains(got, port) {
			t.Errorf("service %s publishes %v, want container port %s", name, f.Services[name].Ports, port)
		}
	}
	if len(f.Services[svcPostgres].Ports) > 0 {
		t.Errorf("PostgreSQL is published on the host (%v); only the stack needs it", f.Services[svcPostgres].Ports)
	}
	for name, s := range f.Services {
		for _, p := range s.Ports {
			if parts := strings.Split(expand(p), ":"); len(parts) < 3 {
				t.Errorf("service %s: port %q listens on every interface; bind it to an address", name, p)
			}
		}
	}
}

func TestHealthChecks(t *testing.T) {
	f, _ := load(t)
	for _, name := range required {
		h := f.Services[name].Healthcheck
		switch {
		case h == nil || h.Disable:
			t.Errorf("service %s has no health check", name)
		case len(h.Test) < 2 || (h.Test[0] != "CMD" && h.Test[0] != "CMD-SHELL"):
			t.Errorf("service %s: health check test %q, want [CMD ...] or [CMD-SHELL ...]", name, h.Test)
		case h.Interval == "" || h.Retries == 0:
			t.Errorf("service %s: health check needs an interval and retries", name)
		}
	}
	// A dependency waited on as healthy must have a health check; one waited on
	// as completed must be a one-shot job (it must not restart forever).
	for name, s := range f.Services {
		for dep, d := range s.DependsOn {
			target, ok := f.Services[dep]
			if !ok {
				t.Errorf("service %s depends on %s, which does not exist", name, dep)
				continue
			}
			switch d.Condition {
			case "service_healthy":
				if target.Healthcheck == nil {
					t.Errorf("service %s waits for %s to be healthy, but %s has no health check", name, dep, dep)
				}
			case "service_completed_successfully":
				if target.Restart == "always" || target.Restart == "unless-stopped" {
					t.Errorf("service %s waits for %s to complete, but %s restarts %s", name, dep, dep, target.Restart)
				}
			case "", "service_started":
			default:
				t.Errorf("service %s: unknown depends_on condition %q", name, d.Condition)
			}
		}
	}
}

func TestVolumes(t *testing.T) {
	f, _ := load(t)
	mounts := func(name string) map[string]string { // target -> source
		out := map[string]string{}
		for _, v := range f.Services[name].Volumes {
			parts := strings.Split(v, ":")
			if len(parts) >= 2 {
				out[parts[1]] = parts[0]
			}
		}
		return out
	}
	named := func(src string) bool { return src != "" && !strings.ContainsAny(src, "/.~$") }
	if src := mounts(svcPostgres)["/var/lib/postgresql/data"]; !named(src) {
		t.Errorf("PostgreSQL data is not on a named volume (got %q)", src)
	}
	if src := mounts(svcWorker)["/var/lib/golive"]; !named(src) {
		t.Errorf("the worker's evidence directory /var/lib/golive is not on a named volume (got %q)", src)
	}
	for name, s := range f.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if named(src) {
				if _, ok := f.Volumes[src]; !ok {
					t.Errorf("service %s mounts volume %s, which is not declared under volumes", name, src)
				}
			}
		}
		for _, c := range s.Configs {
			if _, ok := f.Configs[c.Source]; !ok {
				t.Errorf("service %s uses config %s, which is not declared under configs", name, c.Source)
			}
		}
	}
}

func TestTemporalAddress(t *testing.T) {
	f, _ := load(t)
	for _, name := range []string{svcWorker, svcUI} {
		if got := f.Services[name].Environment["TEMPORAL_ADDRESS"]; got != temporalAddress {
			t.Errorf("service %s: TEMPORAL_ADDRESS %q, want %s", name, got, temporalAddress)
		}
	}
	env := f.Services[svcTemporal].Environment
	if env["DB"] != "postgres12" && env["DB"] != "postgres12_pgx" {
		t.Errorf("temporal: DB %q, want the PostgreSQL plugin (postgres12)", env["DB"])
	}
	if env["POSTGRES_SEEDS"] != svcPostgres {
		t.Errorf("temporal: POSTGRES_SEEDS %q, want %s", env["POSTGRES_SEEDS"], svcPostgres)
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
func runsGolive(s service) bool { return s.Build != nil && len(s.Entrypoint) == 0 }

// TestCommandsAreGoliveSubcommands runs each golive command line of the stack
// with --help against the production build: an unknown command or flag fails.
func TestCommandsAreGoliveSubcommands(t *testing.T) {
	f, _ := load(t)
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
		if !runsGolive(f.Services[name]) {
			t.Errorf("service %s does not run the golive image's entrypoint", name)
		}
	}
	if c := f.Services[svcWorker].Command; len(c) == 0 || c[0] != "worker" {
		t.Errorf("service %s runs %q, want golive worker", svcWorker, c)
	}
	if c := f.Services[svcCodec].Command; len(c) == 0 || c[0] != "codec-server" {
		t.Errorf("service %s runs %q, want golive codec-server", svcCodec, c)
	}
	for name, s := range f.Services {
		if runsGolive(s) {
			check("service "+name, s.Command)
		}
		if h := s.Healthcheck; h != nil && len(h.Test) > 1 && h.Test[0] == "CMD" && filepath.Base(h.Test[1]) == "golive" {
			check("health check of "+name, h.Test[2:])
		}
	}
	// The production build leaves the embedded server out.
	if err := exec.Command(bin, "dev", "--help").Run(); err == nil {
		t.Error("`golive dev` exists in the -tags nodevserver build; the embedded server is compiled in")
	}
}
