package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/pgtest"
)

func runCmd(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

// golive db init, then audit verify / export; a row changed by hand is named by verify.
func TestDBInitAuditVerifyExport(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	dbName := pgtest.Connect(t, url).Config().Database
	writer := "golive_audit_writer_cli_" + strings.TrimPrefix(dbName, "golive_test_")
	t.Cleanup(func() {
		// Cleanups run last-in first-out: drop the database (and its grants) before the role.
		pgtest.Drop(t, dbName)
		c, err := pgx.Connect(context.Background(), pgtest.ServerURL())
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP ROLE IF EXISTS "+writer)
			c.Close(context.Background())
		}
	})
	t.Setenv("GOLIVE_AUDIT_URL", url)
	g := &globals{}
	if err := runCmd(t, newDBCmd(g), "init", "--writer", writer); err != nil {
		t.Fatal(err)
	}
	cfg, _ := pgx.ParseConfig(url)
	l, err := audit.Open(ctx, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, rel := range []string{"release:portal:prod/run1", "release:other:prod/run1", "release:portal:prod/run2"} {
		if _, err := l.Append(ctx, rel, []audit.Event{{Kind: audit.KindStage, Actor: "golive", Action: "deploy"}, {Kind: audit.KindRollback, Actor: "bob", Action: "revert", Reason: "errors 6%"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := runCmd(t, newAuditCmd(g), "verify"); err != nil {
		t.Fatalf("verify intact ledger: %v", err)
	}
	out := t.TempDir() + "/audit.jsonl"
	if err := runCmd(t, newAuditCmd(g), "export", "--release", "portal:prod", "--out", out); err != nil {
		t.Fatal(err)
	}
	if err := runCmd(t, newAuditCmd(g), "export", "--release", "portal:prod/run2", "--out", out+"2"); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]int{out: 4, out + "2": 2} {
		lines := readLines(t, file)
		if len(lines) != want {
			t.Fatalf("%s: %d lines, want %d", file, len(lines), want)
		}
		for _, l := range lines {
			var row map[string]any
			if err := json.Unmarshal([]byte(l), &row); err != nil || row["hash"] == nil || !strings.HasPrefix(row["release_id"].(string), "release:portal:prod/") {
				t.Fatalf("line %s: %v", l, err)
			}
		}
	}
	admin := pgtest.Connect(t, url)
	if _, err := admin.Exec(ctx, "SET session_replication_role = replica; UPDATE golive_audit SET reason = 'errors 1%' WHERE seq = 4"); err != nil {
		t.Fatal(err)
	}
	err = runCmd(t, newAuditCmd(g), "verify")
	if err == nil || !strings.Contains(err.Error(), "tampered at row 4") {
		t.Fatalf("verify after tampering: %v", err)
	}
	t.Log(err)
}

func readLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}
