package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/secrets"
)

// defaultAuditURL is where golive's own database is found unless --url says otherwise.
const defaultAuditURL = "env://GOLIVE_AUDIT_URL"

// auditConfig resolves to golive's own database: --url is a reference
// (env://NAME, secret://...) or a literal connection string.
func auditConfig(ctx context.Context, ref string) (*pgx.ConnConfig, error) {
	cfg, err := pgutil.Config(ctx, &secrets.Resolver{}, ref)
	if err != nil {
		return nil, fmt.Errorf("golive's database: %w (set --url or GOLIVE_AUDIT_URL)", err)
	}
	return cfg, nil
}

func newDBCmd(g *globals) *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Manage golive's own database (audit ledger, notification ledger, evidence)",
	}
	var url, table, writer, writerPassword string
	var login bool
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the audit ledger, notification ledger and evidence tables and the writer role",
		Long: `init creates, in golive's own PostgreSQL database, the audit ledger: an
append-only, hash-chained table (UPDATE, DELETE and TRUNCATE refused by
triggers), and a writer role that may INSERT and SELECT but never UPDATE or
DELETE. Grant the writer role to the role the worker logs in as, or let the
writer log in itself with --writer-login. Running it again keeps what exists.
Retention is the database's: rows are never removed by golive.

It also creates what workers share there so any worker can pick up any
release: the notification dedupe ledger (golive_notify_ledger, entries kept
48 h; the writer may change it) and the evidence table (golive_evidence,
append-only like the ledger, the writer may only INSERT and SELECT; used with
golive worker --evidence-store postgres).`,
		Example: "  golive db init --url env://GOLIVE_AUDIT_URL\n" +
			"  golive db init --url postgres://admin@db.internal/golive --writer-login --writer-password env://GOLIVE_WRITER_PASSWORD",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
			defer cancel()
			cfg, err := auditConfig(ctx, url)
			if err != nil {
				return err
			}
			pw := ""
			if writerPassword != "" {
				r := &secrets.Resolver{}
				if pw, err = r.Resolve(ctx, writerPassword); err != nil {
					return fmt.Errorf("--writer-password: %w", err)
				}
				login = true
			}
			c, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				return pgutil.Redact(fmt.Errorf("connect to %s: %w", pgutil.Describe(url), err), cfg)
			}
			defer c.Close(context.WithoutCancel(ctx))
			if err := audit.Init(ctx, c, audit.InitOptions{Table: table, Writer: writer, WriterLogin: login, WriterPassword: pw}); err != nil {
				return pgutil.Redact(err, cfg)
			}
			if err := initStores(ctx, c, writer); err != nil {
				return pgutil.Redact(err, cfg)
			}
			if g.json() {
				return json.NewEncoder(os.Stdout).Encode(dbInitResult{Database: cfg.Database, Table: table, Writer: writer, WriterLogin: login})
			}
			fmt.Printf("audit ledger ready in database %s: table %s (append-only, hash-chained), writer role %s (INSERT and SELECT only)\n",
				cfg.Database, table, writer)
			if !login {
				fmt.Printf("grant it to the worker's login role: GRANT %s TO <worker role>;\n", writer)
			}
			return nil
		},
	}
	f := initCmd.Flags()
	f.StringVar(&url, "url", defaultAuditURL, "golive's database: a reference (env://NAME, secret://...) or a connection string without a password")
	f.StringVar(&table, "table", audit.DefaultTable, "ledger table")
	f.StringVar(&writer, "writer", audit.DefaultWriter, "role that may append to the ledger and nothing else")
	f.BoolVar(&login, "writer-login", false, "let the writer role log in")
	f.StringVar(&writerPassword, "writer-password", "", "reference to the writer role's password (implies --writer-login)")
	db.AddCommand(initCmd)
	return db
}

// dbInitResult is what `golive db init -o json` prints.
type dbInitResult struct {
	Database    string `json:"database"`
	Table       string `json:"table"`
	Writer      string `json:"writer"`
	WriterLogin bool   `json:"writer_login"`
}
