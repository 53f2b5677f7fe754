package backup

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/pgutil"
)

// ProbeResult says whether a full pg_dump of the database can run from here.
type ProbeResult struct {
	OK          bool
	ToolVersion string
	Server      string
	Tables      int
	SchemaDump  time.Duration
	// Problems lists what would make a dump fail (tool too old, tables the role cannot read).
	Problems []string
}

var majorRe = regexp.MustCompile(`(\d+)(?:\.(\d+))?`)

// Probe checks, without dumping any data, that a backup of the database is
// possible now: pg_dump is installed and not older than the server, a
// schema-only dump succeeds, and the role can read every table a data dump reads.
func Probe(ctx context.Context, cfg *pgx.ConnConfig, pgDump string) (res ProbeResult, err error) {
	defer func() { err = pgutil.Redact(err, cfg) }()
	if pgDump == "" {
		pgDump = "pg_dump"
	}
	path, lerr := exec.LookPath(pgDump)
	if lerr != nil {
		return res, fmt.Errorf("%w: %s", ErrToolMissing, pgDump)
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return res, fmt.Errorf("pg_dump --version: %w", err)
	}
	res.ToolVersion = strings.TrimSpace(string(out))
	c, err := pgx.ConnectConfig(ctx, withApp(cfg, "golive-backup-probe"))
	if err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	var serverNum int
	if err := c.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('server_version_num')::int").Scan(&res.Server, &serverNum); err != nil {
		return res, err
	}
	if m := majorRe.FindStringSubmatch(strings.TrimPrefix(res.ToolVersion, "pg_dump (PostgreSQL) ")); m != nil {
		tool, _ := strconv.Atoi(m[1])
		if tool < serverNum/10000 {
			res.Problems = append(res.Problems, fmt.Sprintf("%s is older than server %s: pg_dump refuses newer servers", res.ToolVersion, res.Server))
		}
	}
	rows, err := c.Query(ctx, `
		SELECT n.nspname || '.' || c.relname, has_table_privilege(c.oid, 'SELECT')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'S', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
		ORDER BY 1`)
	if err != nil {
		return res, err
	}
	for rows.Next() {
		var name string
		var ok bool
		if err := rows.Scan(&name, &ok); err != nil {
			rows.Close()
			return res, err
		}
		res.Tables++
		if !ok {
			res.Problems = append(res.Problems, "cannot read "+name)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	t0 := time.Now()
	if err := run(ctx, path, pgutil.Env(cfg), "--schema-only", "--no-password", "--file=/dev/null"); err != nil {
		res.Problems = append(res.Problems, "schema dump failed: "+err.Error())
	}
	res.SchemaDump = time.Since(t0)
	res.OK = len(res.Problems) == 0
	return res, nil
}
