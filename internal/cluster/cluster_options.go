package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/golive/golive/internal/compose"
)

// ServerModule is the Go module the server and the SQL tool are built from;
// its version is go.mod's, and its schema files are the ones applied.
const ServerModule = "go.temporal.io/server"

// Options configure Start and Down. The zero value runs the compose stack's
// cluster from the current directory's repository on 127.0.0.1:5432 with the
// server template's default ports (frontend 7233, as the stack publishes it).
type Options struct {
	// Root is the repository root (docker-compose.yml, bin/, .golive/); default:
	// the nearest directory above the working directory holding go.mod.
	Root string
	// ComposeFile defaults to Root/docker-compose.yml.
	ComposeFile string
	// StateDir holds the dynamic config, the environment of each process, logs
	// and the state `down` reads (default Root/.golive/cluster).
	StateDir string
	// ServerBin and SQLToolBin default to Root/bin/temporal-server and
	// Root/bin/temporal-sql-tool (`make cluster` builds them; see Build).
	ServerBin, SQLToolBin string
	// SchemaDir is the module's schema/postgresql/v12 directory (default: found
	// with `go list -m`, in the module cache).
	SchemaDir string

	// PostgreSQL the cluster uses (default 127.0.0.1:5432, user postgres, no
	// password: the local server's trust authentication).
	PGHost     string
	PGPort     int
	PGUser     string
	PGPassword string
	// DatabasePrefix names the databases <prefix>temporal and
	// <prefix>temporal_visibility (default none: the stack's names).
	DatabasePrefix string

	// FreePorts picks free loopback ports for every listener instead of the
	// template's defaults (tests, and a second cluster beside a first).
	FreePorts bool
	// LogLevel is the servers' LOG_LEVEL (default: the compose file's, else the template's info).
	LogLevel string
	// DynamicConfig is YAML added to the compose file's dynamic config, for
	// settings it does not name (a benchmark lifts a server limit with it).
	DynamicConfig string
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL (default 20 s).
	StopGrace time.Duration
	// Logger receives the supervisor's lines (default: discard).
	Logger *slog.Logger
}

// setDefaults fills the defaults and checks that the binaries, the compose
// file and the schema exist.
func (o *Options) setDefaults(ctx context.Context) error {
	if err := o.fill(); err != nil {
		return err
	}
	if o.SchemaDir == "" {
		dir, err := moduleDir(ctx, o.Root)
		if err != nil {
			return err
		}
		o.SchemaDir = filepath.Join(dir, "schema", "postgresql", "v12")
	}
	for _, f := range []string{o.ServerBin, o.SQLToolBin, o.ComposeFile, o.SchemaDir} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("cluster: %w (run `make cluster`, which builds the binaries)", err)
		}
	}
	return nil
}

// fill sets the defaults that need no I/O beyond finding the repository root.
func (o *Options) fill() error {
	if o.Root == "" {
		root, err := findRoot()
		if err != nil {
			return err
		}
		o.Root = root
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.ComposeFile, filepath.Join(o.Root, compose.File))
	def(&o.StateDir, filepath.Join(o.Root, ".golive", "cluster"))
	def(&o.ServerBin, filepath.Join(o.Root, "bin", "temporal-server"))
	def(&o.SQLToolBin, filepath.Join(o.Root, "bin", "temporal-sql-tool"))
	def(&o.PGHost, loopback)
	def(&o.PGUser, "postgres")
	if o.PGPort == 0 {
		o.PGPort = 5432
	}
	if o.StopGrace == 0 {
		o.StopGrace = 20 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// findRoot is the nearest directory above the working directory with a go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cluster: no go.mod above the working directory; pass the repository root")
		}
		dir = parent
	}
}

// moduleDir is the server module's directory in the module cache, at go.mod's version.
func moduleDir(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", ServerModule)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cluster: locate %s: %w", ServerModule, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Build builds the server and the SQL tool from the module into dir, at the
// versions go.mod pins (the go.mod tool directives keep their go.sum entries).
func Build(ctx context.Context, root, dir string) (server, sqlTool string, err error) {
	server, sqlTool = filepath.Join(dir, "temporal-server"), filepath.Join(dir, "temporal-sql-tool")
	for bin, pkg := range map[string]string{server: ServerModule + "/cmd/server", sqlTool: ServerModule + "/cmd/tools/sql"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("build %s: %w\n%s", pkg, err, out)
		}
	}
	return server, sqlTool, nil
}
