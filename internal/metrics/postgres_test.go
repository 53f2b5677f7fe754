package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/metrics"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// envResolver resolves env:// from a map, so tests never touch the process environment.
func envResolver(env map[string]string) *secrets.Resolver {
	return &secrets.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

// TestPostgresQueriesOnLocalServer runs the provider against the local
// server, in a database of its own: configured SQL, the read-only guard, the
// connection share, references, and slow queries without pg_stat_statements.
func TestPostgresQueriesOnLocalServer(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	ctx := context.Background()
	admin := pgtest.Connect(t, dbURL)
	if _, err := admin.Exec(ctx, `
		CREATE TABLE login_attempts (id serial PRIMARY KEY, ok boolean NOT NULL, at timestamptz NOT NULL DEFAULT now());
		INSERT INTO login_attempts (ok) SELECT i > 3 FROM generate_series(1, 60) i;
		CREATE TABLE empty_table (n int)`); err != nil {
		t.Fatal(err)
	}
	prov, err := metrics.New(spec.Metrics{Provider: "postgres", URL: "env://PORTAL_DB"}, metrics.WithSecrets(envResolver(map[string]string{"PORTAL_DB": dbURL})))
	if err != nil {
		t.Fatal(err)
	}
	p := prov.(*metrics.Postgres)
	failedLogins := `SELECT 100.0 * count(*) FILTER (WHERE NOT ok) / nullif(count(*), 0) FROM login_attempts`
	for q, want := range map[string]float64{
		failedLogins: 5,
		`  select count(*) from login_attempts where ok`:                               57,
		`WITH f AS (SELECT * FROM login_attempts WHERE NOT ok) SELECT count(*) FROM f`: 3,
		`VALUES (2.5::numeric)`: 2.5,
		`SELECT 7::bigint`:      7,
		`SELECT 0.25::real`:     0.25,
	} {
		got, err := p.Query(ctx, q, time.Time{})
		if err != nil || math.Abs(got-want) > 1e-9 {
			t.Errorf("Query(%s) = %v, %v; want %v", q, got, err, want)
		}
	}
	for q, wantErr := range map[string]string{
		`SELECT 100.0 * count(*) FILTER (WHERE NOT ok) / nullif(count(*), 0) FROM empty_table, login_attempts`: "NULL",
		`SELECT n FROM empty_table`:          "no row",
		`SELECT ok::int FROM login_attempts`: "more than one row",
		`SELECT 1, 2`:                        "2 columns",
		`SELECT 'many'`:                      "not a number",
		`SELECT true`:                        "not a number",
		`SELECT count(*) FROM no_such_table`: "no_such_table",
		`WITH d AS (DELETE FROM login_attempts RETURNING 1) SELECT count(*) FROM d`: "read-only transaction",
		`SELECT 'NaN'::float8`:       "not a number",
		`DELETE FROM login_attempts`: "want connections, slow_queries",
		`slow_queries(fast)`:         "not a positive duration",
		``:                           "empty",
	} {
		got, err := p.Query(ctx, q, time.Time{})
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Query(%s) = %v, %v; want an error containing %q", q, got, err, wantErr)
		}
	}
	short := metrics.NewPostgres(dbURL, nil, nil)
	metrics.SetPostgresTimeout(short, 300*time.Millisecond)
	if v, err := short.Query(ctx, `SELECT 1 FROM pg_sleep(2)`, time.Time{}); err == nil || !strings.Contains(err.Error(), "statement timeout") {
		t.Errorf("a query past the statement timeout = %v, %v", v, err)
	}
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM login_attempts`).Scan(&n); err != nil || n != 60 {
		t.Errorf("rows after the read-only attempts = %d, %v", n, err)
	}

	// Connections: the share of max_connections in use grows with the connections held open.
	var max float64
	if err := admin.QueryRow(ctx, `SELECT current_setting('max_connections')::float8`).Scan(&max); err != nil {
		t.Fatal(err)
	}
	before, err := p.Query(ctx, "connections", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		pgtest.Connect(t, dbURL)
	}
	after, err := p.Query(ctx, "Connections", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if after < 100*6/max || after > 100 || after <= before {
		t.Errorf("connections %.2f%% -> %.2f%% with 5 more open (max_connections %v)", before, after, max)
	}

	// Slow queries need pg_stat_statements: without it the reading is unavailable, never 0.
	_, err = p.Query(ctx, "slow_queries", time.Time{})
	if !errors.Is(err, metrics.ErrUnavailable) || !strings.Contains(err.Error(), "unavailable: pg_stat_statements is not installed") {
		t.Errorf("slow queries without the extension: %v", err)
	}
	var preload string
	if err := admin.QueryRow(ctx, `SELECT current_setting('shared_preload_libraries')`).Scan(&preload); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		t.Fatal(err)
	}
	v, err := p.Query(ctx, "slow_queries", time.Time{})
	if strings.Contains(preload, "pg_stat_statements") {
		if err != nil || v < 0 {
			t.Errorf("slow queries with the extension loaded: %v, %v", v, err)
		}
	} else if !errors.Is(err, metrics.ErrUnavailable) || !strings.Contains(err.Error(), "shared_preload_libraries") {
		t.Errorf("slow queries with the extension installed but not loaded: %v, %v", v, err)
	}
}

// TestPostgresReferencesAndServerDown: a literal password is refused, a
// missing reference and a server that does not answer are errors, not 0.
func TestPostgresReferencesAndServerDown(t *testing.T) {
	ctx := context.Background()
	p := metrics.NewPostgres("postgres://app:s3cret@127.0.0.1:5432/portal", nil, nil)
	if _, err := p.Query(ctx, "connections", time.Time{}); err == nil || !strings.Contains(err.Error(), "holds a password") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("literal password: %v", err)
	}
	p = metrics.NewPostgres("env://GOLIVE_TEST_UNSET_DB", envResolver(nil), nil)
	if _, err := p.Query(ctx, "connections", time.Time{}); err == nil || !strings.Contains(err.Error(), "env://GOLIVE_TEST_UNSET_DB") {
		t.Errorf("unset reference: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p = metrics.NewPostgres("env://DB", envResolver(map[string]string{"DB": "postgres://postgres:hunter2@" + addr + "/x?sslmode=disable"}), nil)
	v, err := p.Query(ctx, "connections", time.Time{})
	if err == nil {
		t.Fatalf("server down: %v and no error", v)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %v", err)
	}
}

// TestPostgresSlowQueriesCounted runs a private PostgreSQL with
// pg_stat_statements loaded (the shared server may not have it) and checks
// slow calls per hour: the first reading averages since the statistics reset
// over at least an hour; the next counts the calls of the interval between
// the two readings, by their mean over that interval.
func TestPostgresSlowQueriesCounted(t *testing.T) {
	dbURL := privatePostgres(t, "shared_preload_libraries=pg_stat_statements", "max_connections=20", "pg_stat_statements.track=all")
	ctx := context.Background()
	conn := pgtest.Connect(t, dbURL)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION pg_stat_statements`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		t.Fatal(err)
	}
	// Two statements (pg_stat_statements keys them by their normalised text):
	// a slow one, and a fast one whose sleep is too short to count.
	sleep := func(n int, seconds float64) {
		t.Helper()
		stmt := "SELECT pg_sleep(%g)"
		if seconds < 0.5 {
			stmt = "SELECT 1 FROM pg_sleep(%g)"
		}
		for range n {
			if _, err := conn.Exec(ctx, fmt.Sprintf(stmt, seconds)); err != nil {
				t.Fatal(err)
			}
		}
	}
	sleep(3, 0.55) // 3 slow calls
	sleep(5, 0.2)  // fast ones (below 500ms)

	tracker := &metrics.SlowQueryTracker{}
	p := metrics.NewPostgres(dbURL, nil, tracker)
	now := time.Now()
	metrics.SetPostgresClock(p, func() time.Time { return now })
	v, err := p.Query(ctx, "slow_queries", time.Time{})
	if err != nil || v != 3 {
		t.Fatalf("first reading = %v, %v; want 3 (3 slow calls since a reset under an hour ago)", v, err)
	}
	if v, err := metrics.NewPostgres(dbURL, nil, nil).Query(ctx, "slow_queries(150ms)", time.Time{}); err != nil || v != 8 {
		t.Errorf("slow_queries(150ms) = %v, %v; want 8", v, err)
	}

	// 15 minutes later (by the provider's clock): 2 more slow calls.
	sleep(2, 0.55)
	now = now.Add(15 * time.Minute)
	v, err = p.Query(ctx, "slow_queries", time.Time{})
	if err != nil || math.Abs(v-8) > 1e-9 {
		t.Fatalf("reading 15 min later = %v, %v; want 8/h (2 slow calls in a quarter hour)", v, err)
	}
	// A retry of that check 10 s later is measured from the same earlier reading, not from the first attempt.
	retry := now.Add(10 * time.Second)
	metrics.SetPostgresClock(p, func() time.Time { return retry })
	if v, err = p.Query(ctx, "slow_queries", time.Time{}); err != nil || math.Abs(v-2/(15*time.Minute+10*time.Second).Hours()) > 1e-9 {
		t.Errorf("retry 10 s later = %v, %v; want 2 calls over 15m10s", v, err)
	}
	metrics.SetPostgresClock(p, func() time.Time { return now })
	// Another 30 minutes without slow calls: 0 per hour, although the average since the reset is not.
	sleep(4, 0.01)
	now = now.Add(30 * time.Minute)
	if v, err = p.Query(ctx, "slow_queries", time.Time{}); err != nil || v != 0 {
		t.Errorf("quiet interval = %v, %v; want 0", v, err)
	}
	// A statistics reset starts over from the average.
	if _, err := conn.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		t.Fatal(err)
	}
	sleep(1, 0.55)
	var reset time.Time
	if err := conn.QueryRow(ctx, `SELECT stats_reset FROM pg_stat_statements_info`).Scan(&reset); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	want := 1 / max(now.Sub(reset).Hours(), 1)
	if v, err = p.Query(ctx, "slow_queries", time.Time{}); err != nil || math.Abs(v-want) > 1e-9 {
		t.Errorf("after a reset = %v, %v; want %v (1 slow call since the reset %s before the reading)", v, err, want, now.Sub(reset))
	}

	// Connections, exactly: this private server has no one else on it.
	for range 3 {
		pgtest.Connect(t, dbURL)
	}
	if v, err := p.Query(ctx, "connections", time.Time{}); err != nil || math.Abs(v-100*4.0/20) > 1e-9 {
		t.Errorf("connections = %v, %v; want 20 (4 of 20)", v, err)
	}
}

// privatePostgres initialises and starts a throwaway PostgreSQL cluster with
// the given settings on a free loopback port (as the postgres user when the
// test runs as root) and returns the URL of its postgres database. It is
// stopped and removed when the test ends.
func privatePostgres(t *testing.T, settings ...string) string {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatal("initdb not found under /usr/lib/postgresql/*/bin: this test starts a private PostgreSQL (Debian package postgresql)")
	}
	slices.SortFunc(bins, func(a, b string) int { return versionOf(a) - versionOf(b) })
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "golive-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user to run PostgreSQL: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
		cmd.Dir = dir
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	server := run("postgres", args...)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	server.Stdout, server.Stderr = logf, logf
	if err := server.Start(); err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = server.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		_ = server.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = server.Process.Kill()
			<-done
		}
	})
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, url)
		cancel()
		if err == nil {
			_ = c.Close(context.Background())
			return url
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("private postgres exited: %s", log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("private postgres not ready: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// versionOf reads the major version from /usr/lib/postgresql/NN/bin/initdb.
func versionOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}
