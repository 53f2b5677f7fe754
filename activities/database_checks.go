package activities

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// ping is "Production database provisioned and accessible": a real SQL round
// trip on database.url, not an HTTP 200 from the app.
func ping(ctx context.Context, conn *pgx.Conn) (Result, error) {
	var version, db string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version'), current_database()").Scan(&version, &db); err != nil {
		return Result{State: record.ItemFailed, Value: "query failed", Detail: err.Error()}, nil
	}
	start := time.Now()
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		return Result{State: record.ItemFailed, Value: "round trip failed", Detail: fmt.Sprint(err)}, nil
	}
	rtt := time.Since(start)
	return Result{State: record.ItemPassed, Value: fmt.Sprintf("PostgreSQL %s, database %s, round trip %.1fms", version, db, float64(rtt.Microseconds())/1000)}, nil
}

// pgAudit is "Audit logging verified (all PHI access logged)": pgaudit is in
// shared_preload_libraries, and either session logging covers reads and writes
// (pgaudit.log has read and write, or all), which covers every schema, or
// object logging's pgaudit.role may SELECT, INSERT, UPDATE and DELETE every
// table of schemas.
func pgAudit(ctx context.Context, conn *pgx.Conn, schemas []string) (Result, error) {
	if len(schemas) == 0 {
		schemas = []string{"public"}
	}
	var preload string
	var logClasses, role, version *string
	err := conn.QueryRow(ctx, `SELECT current_setting('shared_preload_libraries'), current_setting('pgaudit.log', true),
		current_setting('pgaudit.role', true), (SELECT extversion FROM pg_extension WHERE extname = 'pgaudit')`).Scan(&preload, &logClasses, &role, &version)
	if err != nil {
		return Result{}, err
	}
	if !slices.Contains(splitList(preload), "pgaudit") || logClasses == nil {
		return Result{State: record.ItemFailed, Value: "pgaudit not loaded", Detail: fmt.Sprintf("shared_preload_libraries is %q: PHI access is not audited", preload)}, nil
	}
	loaded := "pgaudit loaded"
	if version != nil {
		loaded = "pgaudit " + *version + " loaded"
	}
	if classes := auditClasses(*logClasses); classes["read"] && classes["write"] {
		return Result{State: record.ItemPassed, Value: fmt.Sprintf("%s, pgaudit.log = %q: session logging of reads and writes covers %s", loaded, *logClasses, strings.Join(schemas, ", "))}, nil
	}
	if role == nil || *role == "" {
		return Result{State: record.ItemFailed, Value: fmt.Sprintf("%s, pgaudit.log = %q", loaded, *logClasses),
			Detail: "pgaudit.log logs neither read nor write, and no pgaudit.role logs objects: PHI reads go unaudited"}, nil
	}
	rows, err := conn.Query(ctx, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1) AND NOT (has_table_privilege($2, c.oid, 'SELECT')
		AND has_table_privilege($2, c.oid, 'INSERT') AND has_table_privilege($2, c.oid, 'UPDATE') AND has_table_privilege($2, c.oid, 'DELETE'))
		ORDER BY 1 LIMIT 50`, schemas, *role)
	if err != nil {
		return Result{State: record.ItemFailed, Value: loaded, Detail: fmt.Sprintf("pgaudit.role %s: %v", *role, err)}, nil
	}
	uncovered, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Result{}, err
	}
	v := fmt.Sprintf("%s, object logging through role %s", loaded, *role)
	if len(uncovered) > 0 {
		return Result{State: record.ItemFailed, Value: v, Detail: "tables the audit role does not cover: " + strings.Join(uncovered, ", ")}, nil
	}
	return Result{State: record.ItemPassed, Value: v + " covers every table of " + strings.Join(schemas, ", ")}, nil
}

// auditClasses reads pgaudit.log ("all, -misc") into the classes it logs.
func auditClasses(v string) map[string]bool {
	all := []string{"read", "write", "function", "role", "ddl", "misc", "misc_set"}
	out := map[string]bool{}
	for _, c := range splitList(v) {
		on := !strings.HasPrefix(c, "-")
		c = strings.TrimPrefix(c, "-")
		if c == "all" {
			for _, a := range all {
				out[a] = on
			}
			continue
		}
		out[c] = on
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToLower(strings.Trim(strings.TrimSpace(p), `"`)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkPgBouncer is "Database connection pooling configured": PgBouncer's admin
// console at database.pooler_url answers SHOW CONFIG and SHOW POOLS, serves at
// least one pool, and no client waits for a server connection.
func (d *Database) checkPgBouncer(ctx context.Context, c spec.Check) (Result, error) {
	if c.Database == nil || c.Database.PoolerURL == "" {
		return Result{State: record.ItemUnavailable, Detail: "not configured: database.pooler_url is not set"}, nil
	}
	cfg, err := pgutil.Config(ctx, d.Secrets, c.Database.PoolerURL)
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}, nil
	}
	cfg = cfg.Copy()
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol // the admin console speaks only the simple protocol
	cfg.RuntimeParams = map[string]string{}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: pgutil.Redact(fmt.Errorf("connect to the pooler %s: %w", pgutil.Describe(c.Database.PoolerURL), err), cfg).Error()}, nil
	}
	defer conn.Close(context.WithoutCancel(ctx))
	conf, err := showRows(ctx, conn, "SHOW CONFIG")
	if err != nil {
		return Result{State: record.ItemFailed, Detail: "SHOW CONFIG: " + err.Error() + " (is this PgBouncer's admin console, database pgbouncer?)"}, nil
	}
	settings := map[string]string{}
	for _, row := range conf {
		settings[row["key"]] = row["value"]
	}
	pools, err := showRows(ctx, conn, "SHOW POOLS")
	if err != nil {
		return Result{State: record.ItemFailed, Detail: "SHOW POOLS: " + err.Error()}, nil
	}
	var served, waiting []string
	for _, p := range pools {
		if p["database"] == "pgbouncer" {
			continue
		}
		served = append(served, p["database"]+"/"+p["user"])
		if n, _ := strconv.Atoi(p["cl_waiting"]); n > 0 {
			waiting = append(waiting, fmt.Sprintf("%s/%s: %d waiting", p["database"], p["user"], n))
		}
	}
	v := fmt.Sprintf("pool_mode %s, default_pool_size %s, max_client_conn %s, %d pool(s)",
		settings["pool_mode"], settings["default_pool_size"], settings["max_client_conn"], len(served))
	switch {
	case len(served) == 0:
		return Result{State: record.ItemFailed, Value: v, Detail: "the pooler serves no database pool yet"}, nil
	case len(waiting) > 0:
		return Result{State: record.ItemFailed, Value: v, Detail: "clients wait for a server connection: " + strings.Join(waiting, ", ")}, nil
	}
	return Result{State: record.ItemPassed, Value: v + ": " + render.Truncate(strings.Join(served, ", "), 120)}, nil
}

// showRows runs an admin console SHOW and returns each row by column name.
func showRows(ctx context.Context, conn *pgx.Conn, q string) ([]map[string]string, error) {
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row := map[string]string{}
		for i, f := range rows.FieldDescriptions() {
			row[f.Name] = fmt.Sprint(vals[i])
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
