// Package backup verifies a PostgreSQL backup by restoring it: pg_dump of the
// target in custom format (from a snapshot the comparison also reads), restore
// into a scratch database, row counts of every table and checksums of the named
// tables compared, scratch database dropped. Any difference fails.
package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/pgutil"
)

// ErrToolMissing means pg_dump or pg_restore is not installed where the worker runs.
var ErrToolMissing = errors.New("PostgreSQL client tool not found")

// Options configure a verification.
type Options struct {
	// Source is the database to back up.
	Source *pgx.ConnConfig
	// Scratch is the server the scratch database is created on (its Database is
	// where CREATE DATABASE runs); nil means the source's server.
	Scratch *pgx.ConnConfig
	// ChecksumTables are compared by content checksum ("table" or "schema.table").
	ChecksumTables []string
	// PgDump and PgRestore are the tools [found on PATH].
	PgDump, PgRestore string
	// Jobs is pg_restore's parallelism. 0 or 1 streams pg_dump straight into
	// pg_restore (no dump file, both at once); more writes a dump file to TempDir
	// and restores it with that many jobs.
	Jobs int
	// TempDir receives the dump file when Jobs > 1 [os.TempDir()].
	TempDir string
	// Progress is called with the current step, now and every few seconds (heartbeats).
	Progress func(step string)
	// BeforeCompare runs on the restored database before it is read (tests tamper with it here).
	BeforeCompare func(ctx context.Context, scratch *pgx.Conn) error
	// AfterCompare runs on the restored database once it matched the source,
	// before it is dropped: the rollback rehearsal works on this verified copy.
	AfterCompare func(ctx context.Context, scratch *pgx.ConnConfig) error
}

// Table is one table's comparison.
type Table struct {
	Name           string `json:"name"`
	SourceRows     int64  `json:"source_rows"`
	RestoredRows   int64  `json:"restored_rows"`
	SourceSum      string `json:"source_checksum,omitempty"`
	RestoredSum    string `json:"restored_checksum,omitempty"`
	Checksummed    bool   `json:"checksummed,omitempty"`
	MissingRestore bool   `json:"missing_in_restore,omitempty"`
	ExtraRestore   bool   `json:"extra_in_restore,omitempty"`
}

// Report is what a verification measured.
type Report struct {
	DumpBytes   int64         `json:"dump_bytes"`
	DumpTime    time.Duration `json:"dump_time"`
	RestoreTime time.Duration `json:"restore_time"`
	CompareTime time.Duration `json:"compare_time"`
	Total       time.Duration `json:"total"`
	Scratch     string        `json:"scratch_database"`
	Tables      []Table       `json:"tables"`
	Rows        int64         `json:"rows"`
	// Mismatches lists every difference; empty means the restore matches the source.
	Mismatches  []string `json:"mismatches,omitempty"`
	ToolVersion string   `json:"pg_dump_version,omitempty"`
	// Absent lists checksum tables the source does not have (yet): not compared.
	Absent []string `json:"absent,omitempty"`
}

// OK reports whether the restore matched the source.
func (r Report) OK() bool { return len(r.Mismatches) == 0 }

// Summary is a one-line account for the checklist.
func (r Report) Summary() string {
	checked := 0
	for _, t := range r.Tables {
		if t.Checksummed {
			checked++
		}
	}
	verdict := "restore matches"
	if !r.OK() {
		verdict = fmt.Sprintf("%d mismatch(es)", len(r.Mismatches))
	}
	if len(r.Absent) > 0 {
		verdict += fmt.Sprintf(" (not in the source yet, not compared: %s)", strings.Join(r.Absent, ", "))
	}
	return fmt.Sprintf("dump %s in %s, restored in %s, compared in %s: %d tables, %d rows, %d checksums; %s",
		Size(r.DumpBytes), r.DumpTime.Round(time.Millisecond), r.RestoreTime.Round(time.Millisecond),
		r.CompareTime.Round(time.Millisecond), len(r.Tables), r.Rows, checked, verdict)
}

// Size formats a byte count (KiB, MiB, GiB).
func Size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Verify dumps, restores, compares and cleans up. An error means the
// verification could not run (connection, tools, disk); a mismatch is not an
// error but Report.Mismatches.
func Verify(ctx context.Context, o Options) (rep Report, err error) {
	start := time.Now()
	defer func() { rep.Total = time.Since(start); err = pgutil.Redact(err, o.Source) }()
	if o.PgDump == "" {
		o.PgDump = "pg_dump"
	}
	if o.PgRestore == "" {
		o.PgRestore = "pg_restore"
	}
	for _, tool := range []*string{&o.PgDump, &o.PgRestore} {
		p, err := exec.LookPath(*tool)
		if err != nil {
			return rep, fmt.Errorf("%w: %s (install the PostgreSQL client, e.g. apt-get install postgresql-client)", ErrToolMissing, *tool)
		}
		*tool = p
	}
	progress := newProgress(o.Progress)
	defer progress.stop()

	// A repeatable-read transaction exports the snapshot pg_dump uses, and reads
	// the source's counts and checksums from that same snapshot while pg_dump runs.
	progress.set("taking a snapshot of the source")
	src, err := pgx.ConnectConfig(ctx, withApp(o.Source, "golive-backup-verify"))
	if err != nil {
		return rep, fmt.Errorf("connect to the source: %w", err)
	}
	defer src.Close(context.WithoutCancel(ctx))
	tx, err := src.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return rep, fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := sessionSettings(ctx, tx); err != nil {
		return rep, err
	}
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
		return rep, fmt.Errorf("export snapshot: %w", err)
	}
	// A named table that does not exist yet (the release creates it) has
	// nothing to compare: it is reported as absent, not as a mismatch.
	checksum, absent := resolveTables(ctx, tx, o.ChecksumTables)
	rep.Absent = absent

	if out, err := exec.CommandContext(ctx, o.PgDump, "--version").Output(); err == nil {
		rep.ToolVersion = strings.TrimSpace(string(out))
	}

	// Scratch database on the scratch server (default: the source's).
	admin := o.Scratch
	if admin == nil {
		admin = o.Source
	}
	rep.Scratch = pgutil.RandomName("golive_verify_")
	progress.set("creating scratch database " + rep.Scratch)
	ac, err := pgx.ConnectConfig(ctx, withApp(admin, "golive-backup-verify"))
	if err != nil {
		return rep, pgutil.Redact(fmt.Errorf("connect to the scratch server: %w", err), admin)
	}
	defer ac.Close(context.WithoutCancel(ctx))
	if _, err := ac.Exec(ctx, "CREATE DATABASE "+pgutil.Ident(rep.Scratch)+" TEMPLATE template0"); err != nil {
		return rep, fmt.Errorf("create scratch database (the role needs CREATEDB, or set backup.scratch_url): %w", err)
	}
	defer func() {
		progress.set("dropping scratch database " + rep.Scratch)
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if _, derr := ac.Exec(dctx, "DROP DATABASE IF EXISTS "+pgutil.Ident(rep.Scratch)+" WITH (FORCE)"); derr != nil && err == nil {
			err = fmt.Errorf("drop scratch database %s: %w", rep.Scratch, derr)
		}
	}()
	scratchCfg := pgutil.WithDatabase(admin, rep.Scratch)

	// The source's counts and checksums are read from the snapshot while the dump runs.
	var srcStats map[string]Table
	var statsErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		srcStats, statsErr = readStats(ctx, tx, checksum)
	}()
	dumpArgs := []string{"--format=custom", "--no-password", "--snapshot=" + snapshot}
	restoreArgs := []string{"--no-owner", "--no-acl", "--exit-on-error", "--no-password", "--dbname=" + rep.Scratch}
	var dumpErr, restoreErr error
	if o.Jobs <= 1 {
		// Streamed: pg_dump | pg_restore, no dump file, dump and restore overlap.
		progress.set("pg_dump | pg_restore into " + rep.Scratch)
		rep.DumpBytes, rep.DumpTime, rep.RestoreTime, dumpErr, restoreErr = pipe(ctx,
			o.PgDump, pgutil.Env(o.Source), dumpArgs, o.PgRestore, pgutil.Env(scratchCfg), restoreArgs)
		wg.Wait()
	} else {
		// Through a file, so pg_restore can load tables in parallel.
		dir, err := os.MkdirTemp(o.TempDir, "golive-backup-")
		if err != nil {
			return rep, fmt.Errorf("temporary directory for the dump: %w", err)
		}
		defer os.RemoveAll(dir)
		dump := filepath.Join(dir, "backup.dump")
		progress.set("pg_dump of " + o.Source.Database)
		t0 := time.Now()
		dumpErr = run(ctx, o.PgDump, pgutil.Env(o.Source), append(dumpArgs, "--file="+dump)...)
		rep.DumpTime = time.Since(t0)
		wg.Wait()
		if fi, err := os.Stat(dump); err == nil {
			rep.DumpBytes = fi.Size()
		}
		if dumpErr == nil && statsErr == nil {
			_ = tx.Rollback(ctx)
			progress.set("pg_restore into " + rep.Scratch)
			t0 = time.Now()
			restoreErr = run(ctx, o.PgRestore, pgutil.Env(scratchCfg), append(restoreArgs, fmt.Sprintf("--jobs=%d", o.Jobs), dump)...)
			rep.RestoreTime = time.Since(t0)
		}
	}
	_ = tx.Rollback(ctx)
	if dumpErr != nil {
		return rep, fmt.Errorf("pg_dump: %w", dumpErr)
	}
	if statsErr != nil {
		return rep, fmt.Errorf("read the source tables: %w", statsErr)
	}
	if restoreErr != nil {
		rep.Mismatches = append(rep.Mismatches, "pg_restore failed: "+restoreErr.Error())
		return rep, nil
	}

	progress.set("comparing the restore with the source")
	t0 := time.Now()
	sc, err := pgx.ConnectConfig(ctx, withApp(scratchCfg, "golive-backup-verify"))
	if err != nil {
		return rep, pgutil.Redact(fmt.Errorf("connect to the scratch database: %w", err), scratchCfg)
	}
	defer sc.Close(context.WithoutCancel(ctx))
	if o.BeforeCompare != nil {
		if err := o.BeforeCompare(ctx, sc); err != nil {
			return rep, err
		}
	}
	if err := sessionSettings(ctx, sc); err != nil {
		return rep, err
	}
	dstStats, err := readStats(ctx, sc, checksum)
	if err != nil {
		return rep, fmt.Errorf("read the restored tables: %w", err)
	}
	rep.Tables, rep.Mismatches = compare(srcStats, dstStats, checksum)
	for _, t := range rep.Tables {
		rep.Rows += t.SourceRows
	}
	rep.CompareTime = time.Since(t0)
	if o.AfterCompare != nil && rep.OK() {
		sc.Close(ctx)
		progress.set("rehearsing on " + rep.Scratch)
		if err := o.AfterCompare(ctx, scratchCfg); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// compare lines up source and restore.
func compare(src, dst map[string]Table, checksum []string) ([]Table, []string) {
	names := map[string]bool{}
	for n := range src {
		names[n] = true
	}
	for n := range dst {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var tables []Table
	var bad []string
	for _, n := range sorted {
		s, inSrc := src[n]
		d, inDst := dst[n]
		t := Table{Name: n, SourceRows: s.SourceRows, RestoredRows: d.SourceRows, SourceSum: s.SourceSum, RestoredSum: d.SourceSum, Checksummed: s.Checksummed}
		switch {
		case !inDst:
			t.MissingRestore = true
			bad = append(bad, n+": missing from the restore")
		case !inSrc:
			t.ExtraRestore = true
			bad = append(bad, n+": in the restore but not in the source")
		default:
			if t.SourceRows != t.RestoredRows {
				bad = append(bad, fmt.Sprintf("%s: %d rows in the source, %d restored", n, t.SourceRows, t.RestoredRows))
			} else if t.Checksummed && t.SourceSum != t.RestoredSum {
				bad = append(bad, fmt.Sprintf("%s: checksum %s in the source, %s restored", n, short(t.SourceSum), short(t.RestoredSum)))
			}
		}
		tables = append(tables, t)
	}
	return tables, bad
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// sessionSettings fixes the text forms the checksums hash, so source and restore agree.
func sessionSettings(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) error {
	rows, err := q.Query(ctx, "SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, MDY', true), "+
		"set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)")
	if err != nil {
		return fmt.Errorf("session settings: %w", err)
	}
	rows.Close()
	return rows.Err()
}

// userTables lists the ordinary tables of user schemas, without extension members.
const userTables = `
	SELECT n.nspname, c.relname
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
	  AND n.nspname NOT LIKE 'pg\_%'
	  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
	ORDER BY 1, 2`

// resolveTables turns the spec's checksum table names into schema.table.
func resolveTables(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, names []string) (found, absent []string) {
	for _, n := range names {
		var ns, rel string
		err := q.QueryRow(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.oid = to_regclass($1)`, n).Scan(&ns, &rel)
		if err != nil {
			absent = append(absent, n)
			continue
		}
		found = append(found, ns+"."+rel)
	}
	return found, absent
}

// readStats counts the rows of every user table and checksums the named ones.
// The checksum is order-independent: the sum of the first 64 bits of the MD5 of
// each row's text form, so no sort is needed.
func readStats(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, checksum []string) (map[string]Table, error) {
	rows, err := q.Query(ctx, userTables)
	if err != nil {
		return nil, err
	}
	type rel struct{ ns, name string }
	var rels []rel
	for rows.Next() {
		var r rel
		if err := rows.Scan(&r.ns, &r.name); err != nil {
			rows.Close()
			return nil, err
		}
		rels = append(rels, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, c := range checksum {
		want[c] = true
	}
	out := map[string]Table{}
	for _, r := range rels {
		name := r.ns + "." + r.name
		q1 := pgutil.QualifiedIdent(r.ns, r.name)
		t := Table{Name: name}
		if want[name] {
			t.Checksummed = true
			err = q.QueryRow(ctx, `SELECT count(*), coalesce(sum(('x' || left(md5(_golive_row::text), 16))::bit(64)::bigint), 0)::text
				FROM ONLY `+q1+` AS _golive_row`).Scan(&t.SourceRows, &t.SourceSum)
		} else {
			err = q.QueryRow(ctx, "SELECT count(*) FROM ONLY "+q1).Scan(&t.SourceRows)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pipe runs dump | restore, counting the bytes between them. The times are
// from the start to each tool's exit.
func pipe(ctx context.Context, dumpTool string, dumpEnv, dumpArgs []string, restoreTool string, restoreEnv, restoreArgs []string) (
	n int64, dumpTime, restoreTime time.Duration, dumpErr, restoreErr error) {
	dump := exec.CommandContext(ctx, dumpTool, dumpArgs...)
	dump.Env = append(os.Environ(), dumpEnv...)
	var dumpStderr, restoreStderr bytes.Buffer
	dump.Stderr = &dumpStderr
	out, err := dump.StdoutPipe()
	if err != nil {
		return 0, 0, 0, err, nil
	}
	restore := exec.CommandContext(ctx, restoreTool, restoreArgs...)
	restore.Env = append(os.Environ(), restoreEnv...)
	restore.Stderr = &restoreStderr
	in, err := restore.StdinPipe()
	if err != nil {
		return 0, 0, 0, nil, err
	}
	t0 := time.Now()
	if err := restore.Start(); err != nil {
		return 0, 0, 0, nil, err
	}
	if err := dump.Start(); err != nil {
		in.Close()
		_ = restore.Wait()
		return 0, 0, 0, err, nil
	}
	n, copyErr := io.Copy(in, out)
	if copyErr != nil { // pg_restore gave up: stop pg_dump too
		_ = dump.Process.Kill()
		_, _ = io.Copy(io.Discard, out)
	}
	dumpErr = toolErr(dumpTool, dump.Wait(), &dumpStderr)
	dumpTime = time.Since(t0)
	in.Close()
	restoreErr = toolErr(restoreTool, restore.Wait(), &restoreStderr)
	restoreTime = time.Since(t0)
	if copyErr != nil && restoreErr != nil {
		dumpErr = nil // the dump was stopped because the restore failed
	}
	return n, dumpTime, restoreTime, dumpErr, restoreErr
}

func toolErr(tool string, err error, stderr *bytes.Buffer) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimSpace(stderr.String())
	if len(msg) > 600 {
		msg = "..." + msg[len(msg)-600:]
	}
	return fmt.Errorf("%s %v: %s", filepath.Base(tool), err, msg)
}

// run runs a PostgreSQL tool with the connection in its environment; the error
// carries the tail of its stderr.
func run(ctx context.Context, tool string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return toolErr(tool, cmd.Run(), &stderr)
}

func withApp(cfg *pgx.ConnConfig, app string) *pgx.ConnConfig {
	c := cfg.Copy()
	if c.RuntimeParams == nil {
		c.RuntimeParams = map[string]string{}
	}
	c.RuntimeParams["application_name"] = app
	return c
}

// progress reports the current step now and every 5 s until stopped.
type progress struct {
	mu   sync.Mutex
	step string
	fn   func(string)
	done chan struct{}
}

func newProgress(fn func(string)) *progress {
	p := &progress{fn: fn, done: make(chan struct{})}
	if fn == nil {
		return p
	}
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.mu.Lock()
				s := p.step
				p.mu.Unlock()
				fn(s)
			}
		}
	}()
	return p
}

func (p *progress) set(step string) {
	p.mu.Lock()
	p.step = step
	p.mu.Unlock()
	if p.fn != nil {
		p.fn(step)
	}
}

func (p *progress) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}
