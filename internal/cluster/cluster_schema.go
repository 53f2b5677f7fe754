package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// stateFile is the plan Start writes in the state directory, read by Down.
const stateFile = "cluster.json"

// schemaDirs maps each database to its versioned schema directory, as the
// compose stack's temporal-schema job does (visibility for temporal_visibility).
func (pl *Plan) schemaDirs(schemaDir string) map[string]string {
	return map[string]string{
		pl.Databases[0]: filepath.Join(schemaDir, "temporal", "versioned"),
		pl.Databases[1]: filepath.Join(schemaDir, "visibility", "versioned"),
	}
}

// applySchema runs the temporal-schema job's three steps with the real SQL
// tool for both databases: create-database, setup-schema -v 0.0 and
// update-schema -d <the module's versioned dir>. Each is idempotent, so a
// second `make cluster` upgrades in place, as `docker compose up` does.
func (c *Cluster) applySchema(ctx context.Context) error {
	dirs := c.plan.schemaDirs(c.o.SchemaDir)
	for _, db := range c.plan.Databases {
		for _, args := range [][]string{
			{"--db", db, "create-database"},
			{"--db", db, "setup-schema", "-v", "0.0"},
			{"--db", db, "update-schema", "-d", dirs[db]},
		} {
			if err := c.sqlTool(ctx, args...); err != nil {
				return err
			}
		}
		c.log.Info("schema ready", "database", db, "schema", dirs[db])
	}
	return nil
}

func (c *Cluster) sqlTool(ctx context.Context, args ...string) error {
	return runSQLTool(ctx, c.o.SQLToolBin, c.plan.SchemaEnv(), args...)
}

func runSQLTool(ctx context.Context, bin string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("temporal-sql-tool %v: %w\n%s", args, err, out)
	}
	return nil
}

// Down stops the services a previous Start left running (their pids are in
// the state directory and still run the server binary), drops the databases
// it created and removes the state directory. Without state it does nothing.
func Down(ctx context.Context, o Options) error {
	if err := o.setDefaults(ctx); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(o.StateDir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		o.Logger.Info("no cluster state; nothing to remove", "dir", o.StateDir)
		return nil
	}
	if err != nil {
		return err
	}
	var pl Plan
	if err := json.Unmarshal(b, &pl); err != nil {
		return fmt.Errorf("cluster state %s: %w", filepath.Join(o.StateDir, stateFile), err)
	}
	pl.password = o.PGPassword
	for svc, pid := range pl.Pids {
		if isOurs(pid, o.ServerBin) {
			o.Logger.Info("stopping temporal service", "service", svc, "pid", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, db := range pl.Databases {
		if err := runSQLTool(ctx, o.SQLToolBin, pl.SchemaEnv(), "--db", db, "drop-database", "-f"); err != nil {
			return err
		}
		o.Logger.Info("dropped database", "database", db)
	}
	return os.RemoveAll(o.StateDir)
}
