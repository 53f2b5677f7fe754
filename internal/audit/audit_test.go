package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/pgtest"
)

func TestCanonical(t *testing.T) {
	b, err := audit.Canonical(map[string]any{"b": 1, "a": []any{"x<y", 2.5}, "c": map[string]string{"z": "1", "y": "2"}})
	if err != nil || string(b) != `{"a":["x<y",2.5],"b":1,"c":{"y":"2","z":"1"}}` {
		t.Fatalf("%s %v", b, err)
	}
}

// ledger creates the ledger in a fresh database and a writer that may log in.
func ledger(t *testing.T) (url string, writer string, admin *pgx.Conn) {
	t.Helper()
	url = pgtest.NewDatabase(t)
	admin = pgtest.Connect(t, url)
	ctx := context.Background()
	writer = "golive_audit_writer_" + strings.TrimPrefix(admin.Config().Database, "golive_test_")
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgtest.ServerURL())
		if err == nil {
			pgtest.Drop(t, admin.Config().Database)
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+writer)
			c.Close(context.Background())
		}
	})
	for range 2 { // init twice: it is idempotent
		if err := audit.Init(ctx, admin, audit.InitOptions{Writer: writer, WriterLogin: true}); err != nil {
			t.Fatal(err)
		}
	}
	return url, writer, admin
}

func open(t *testing.T, url, user string) *audit.Ledger {
	t.Helper()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		cfg.User = user
	}
	l, err := audit.Open(context.Background(), cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

func events(n int, release string) []audit.Event {
	var out []audit.Event
	at := time.Date(2025, 3, 1, 9, 0, 0, 123456789, time.UTC)
	for i := range n {
		out = append(out, audit.Event{At: at.Add(time.Duration(i) * time.Minute), Kind: audit.KindApproval, Actor: "alice",
			Action: "rejected", Reason: fmt.Sprintf("release %s: needs \"more\" <tests> %d", release, i), Data: map[string]string{"slot": "development_lead"}})
	}
	return out
}

func TestAppendVerifyExport(t *testing.T) {
	url, writer, _ := ledger(t)
	ctx := context.Background()
	l := open(t, url, writer) // the writer role appends
	if _, err := l.Append(ctx, "release:a:prod", events(3, "a"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, "release:b:prod", []audit.Event{{Kind: audit.KindStage, Action: "deploy", Actor: "golive"}}, nil); err != nil {
		t.Fatal(err)
	}
	// Idempotent appends: the same keys twice add nothing the second time.
	keys := []string{"run1/5/0", "run1/5/1"}
	for range 2 {
		if _, err := l.Append(ctx, "release:a:prod", events(2, "a"), keys); err != nil {
			t.Fatal(err)
		}
	}
	// Concurrent appends keep one chain.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Append(ctx, fmt.Sprintf("release:c%d:prod", i), events(2, "c"), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rep, err := l.Verify(ctx)
	if err != nil || !rep.OK() || rep.Rows != 22 || rep.HeadSeq != 22 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	var buf bytes.Buffer
	n, err := l.Export(ctx, "release:a:prod", &buf)
	if err != nil || n != 5 {
		t.Fatalf("export: %d %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["seq"] != 1.0 || first["actor"] != "alice" || first["at"] != "2025-03-01T09:00:00.123456Z" || first["prev_hash"] != audit.Genesis {
		t.Fatalf("first exported row: %s", lines[0])
	}
	t.Logf("export line: %s", lines[0])
}

func TestTamperingIsCaught(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		sql  string
		seq  int64
		miss bool
	}{
		"modified":           {"UPDATE golive_audit SET reason = 'approved after all' WHERE seq = 3", 3, false},
		"modified+rehashed":  {"REHASH", 2, false},
		"deleted":            {"DELETE FROM golive_audit WHERE seq = 4", 4, true},
		"data changed":       {`UPDATE golive_audit SET data = '{"slot":"ops"}' WHERE seq = 5`, 5, false},
		"prev_hash replaced": {"UPDATE golive_audit SET prev_hash = repeat('0', 64) WHERE seq = 6", 6, false},
	} {
		t.Run(name, func(t *testing.T) {
			url, _, admin := ledger(t)
			l := open(t, url, "")
			if _, err := l.Append(ctx, "release:a:prod", events(8, "a"), nil); err != nil {
				t.Fatal(err)
			}
			if tc.sql == "REHASH" {
				// Change row 2 and recompute its hash properly: the link from row 3 gives it away.
				var r audit.Row
				if err := admin.QueryRow(ctx, "SELECT seq, release_id, at, kind, actor, action, reason, prev_hash FROM golive_audit WHERE seq = 2").
					Scan(&r.Seq, &r.ReleaseID, &r.At, &r.Kind, &r.Actor, &r.Action, &r.Reason, &r.PrevHash); err != nil {
					t.Fatal(err)
				}
				r.Actor, r.Data = "mallory", map[string]string{"slot": "development_lead"}
				tc.sql = fmt.Sprintf("UPDATE golive_audit SET actor = 'mallory', hash = '%s' WHERE seq = 2", r.ComputeHash())
			}
			// Only the owner, with the append-only triggers switched off, can tamper.
			if _, err := admin.Exec(ctx, "SET session_replication_role = replica; "+tc.sql+"; SET session_replication_role = origin"); err != nil {
				t.Fatal(err)
			}
			rep, err := l.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || rep.Problem.Seq != tc.seq || rep.Problem.Missing != tc.miss {
				t.Fatalf("verify: %+v problem %+v, want row %d", rep, rep.Problem, tc.seq)
			}
			t.Logf("%s: %s", name, rep.Problem)
		})
	}
}

func TestWriterCannotUpdateOrDelete(t *testing.T) {
	url, writer, admin := ledger(t)
	ctx := context.Background()
	l := open(t, url, writer)
	if _, err := l.Append(ctx, "release:a:prod", events(2, "a"), nil); err != nil {
		t.Fatal(err)
	}
	cfg, _ := pgx.ParseConfig(url)
	cfg.User = writer
	w, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	for _, sql := range []string{
		"UPDATE golive_audit SET reason = 'x' WHERE seq = 1",
		"DELETE FROM golive_audit WHERE seq = 2",
		"TRUNCATE golive_audit",
		"ALTER TABLE golive_audit DISABLE TRIGGER append_only",
	} {
		_, err := w.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "42P01") {
			t.Errorf("writer ran %q: %v", sql, err)
		}
	}
	// Even the owner cannot UPDATE or DELETE while the triggers are on.
	for _, sql := range []string{"UPDATE golive_audit SET reason = 'x' WHERE seq = 1", "DELETE FROM golive_audit", "TRUNCATE golive_audit"} {
		if _, err := admin.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("owner ran %q: %v", sql, err)
		}
	}
	if rep, err := l.Verify(ctx); err != nil || !rep.OK() || rep.Rows != 2 {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
