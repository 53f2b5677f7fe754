package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PgBinDir finds the PostgreSQL server binaries (PG_BINDIR overrides): the
// newest /usr/lib/postgresql/*/bin with initdb, as Debian installs them.
func PgBinDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		tb.Fatal("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): install postgresql, or set PG_BINDIR")
	}
	sort.Strings(dirs)
	return filepath.Dir(dirs[len(dirs)-1])
}

// ownedDir is a fresh directory the PostgreSQL tools may use: owned by the
// postgres user when the test runs as root (they refuse to run as root), removed at the end.
func ownedDir(tb testing.TB, prefix string) (dir string, asUser []string) {
	tb.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() != 0 {
		return dir, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		tb.Fatalf("running as root needs the postgres user to run PostgreSQL tools: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		tb.Fatal(err)
	}
	return dir, []string{"runuser", "-u", "postgres", "--"}
}

// FreePort returns a loopback TCP port nobody listens on now.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartCluster initialises and starts a private PostgreSQL server on a free
// loopback port with the given postgresql.conf settings, values written as in
// that file (e.g. shared_preload_libraries: "pgaudit"), for
// tests that need a server configured unlike the shared one; it is stopped
// and removed when the test ends. It returns the URL of its postgres database.
func StartCluster(tb testing.TB, settings map[string]string) string {
	tb.Helper()
	bin := PgBinDir(tb)
	dir, as := ownedDir(tb, "golive-pgcluster-")
	data := filepath.Join(dir, "data")
	run := func(args ...string) {
		tb.Helper()
		argv := append(append([]string{}, as...), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	port := FreePort(tb)
	opts := []string{"-c listen_addresses=127.0.0.1", fmt.Sprintf("-c port=%d", port), "-c unix_socket_directories=" + dir, "-c fsync=off"}
	// Settings go into postgresql.conf (not -c), so ALTER SYSTEM can still change them.
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var conf strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&conf, "%s = %s\n", k, settings[k])
	}
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf.String())
		f.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	run(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", strings.Join(opts, " "), "-w", "-t", "60", "start")
	tb.Cleanup(func() {
		stop := append(append([]string{}, as...), filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		_ = exec.Command(stop[0], stop[1:]...).Run()
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// PgBouncer is a PgBouncer process a test started in front of a server.
type PgBouncer struct {
	// AdminURL is its admin console (database pgbouncer); PoolURL(db) a pooled connection to db.
	AdminURL string
	port     int
}

// PoolURL is the URL of database db through the pooler.
func (b *PgBouncer) PoolURL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", b.port, db)
}

// StartPgBouncer runs the Debian pgbouncer binary (PGBOUNCER overrides) on a
// free loopback port, pooling every database of the test server in
// transaction mode; it is stopped when the test ends.
func StartPgBouncer(tb testing.TB) *PgBouncer {
	tb.Helper()
	bin := os.Getenv("PGBOUNCER")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("pgbouncer"); err != nil {
			if bin = "/usr/sbin/pgbouncer"; func() bool { _, err := os.Stat(bin); return err != nil }() {
				tb.Fatal("pgbouncer is not installed: apt-get install -y pgbouncer (or set PGBOUNCER)")
			}
		}
	}
	dir, _ := ownedDir(tb, "golive-pgbouncer-")
	port := FreePort(tb)
	host, pgPort := "127.0.0.1", "5432"
	if u := ServerURL(); strings.Contains(u, "@") {
		if hp := strings.SplitN(strings.SplitN(u, "@", 2)[1], "/", 2)[0]; hp != "" {
			if h, p, err := net.SplitHostPort(hp); err == nil {
				host, pgPort = h, p
			}
		}
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
admin_users = postgres
pool_mode = transaction
default_pool_size = 5
max_client_conn = 50
logfile = %s
`, host, pgPort, port, filepath.Join(dir, "userlist.txt"), filepath.Join(dir, "pgbouncer.log"))
	for name, body := range map[string]string{"pgbouncer.ini": ini, "userlist.txt": `"postgres" ""` + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres"}, args...) // it refuses to run as root
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start pgbouncer: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			tb.Fatalf("pgbouncer exited during start-up:\n%s", log)
		case <-ctx.Done():
			tb.Fatal("pgbouncer did not listen within 10s")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return &PgBouncer{AdminURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/pgbouncer?sslmode=disable", port), port: port}
}
