package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/pgutil"
)

func newAuditCmd(g *globals) *cobra.Command {
	var url, table string
	root := &cobra.Command{
		Use:   "audit",
		Short: "Verify and export the audit ledger",
	}
	root.PersistentFlags().StringVar(&url, "url", defaultAuditURL, "golive's database: a reference (env://NAME, secret://...) or a connection string without a password")
	root.PersistentFlags().StringVar(&table, "table", audit.DefaultTable, "ledger table")

	open := func(ctx context.Context) (*audit.Ledger, error) {
		cfg, err := auditConfig(ctx, url)
		if err != nil {
			return nil, err
		}
		return audit.Open(ctx, cfg, table)
	}

	var head string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Prove the hash chain of the ledger; name the first tampered row",
		Long: `verify walks the ledger in order and recomputes every row's SHA-256 over its
canonical JSON and the previous row's hash. It exits non-zero at the first row
that was changed or deleted, and names it. It prints the head (last row and its
hash): compare it with --expect-head to detect rows removed from the end.`,
		Example: "  golive audit verify\n  golive audit verify --expect-head 3f1c...e9",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			l, err := open(ctx)
			if err != nil {
				return err
			}
			defer l.Close()
			rep, err := l.Verify(ctx)
			if err != nil {
				return err
			}
			if rep.OK() && head != "" && !strings.EqualFold(head, rep.Head) {
				rep.Problem = &audit.Problem{Seq: rep.HeadSeq, Reason: "the head is not the expected one: rows were removed from the end, or added"}
			}
			if g.json() {
				if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
					return err
				}
			} else if rep.OK() {
				fmt.Printf("audit ledger intact: %d rows, head row %d %s\n", rep.Rows, rep.HeadSeq, rep.Head)
			}
			if !rep.OK() {
				return fmt.Errorf("audit ledger tampered at row %d: %s", rep.Problem.Seq, rep.Problem.Reason)
			}
			return nil
		},
	}
	verify.Flags().StringVar(&head, "expect-head", "", "hash the last row must have (from an earlier verify or the release evidence)")

	var release, out string
	export := &cobra.Command{
		Use:   "export --release ID",
		Short: "Write a release's audit rows as JSON lines",
		Long: `export writes the ledger rows of one release, oldest first, one canonical JSON
object per line with its seq, prev_hash and hash, so the chain can be checked
outside golive. ID is the release's workflow ID (release:SERVICE:ENV, or
SERVICE:ENV), optionally followed by /RUN_ID.`,
		Example: "  golive audit export --release patient-portal:production > audit.jsonl",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if release == "" {
				return fmt.Errorf("--release is required")
			}
			l, err := open(ctx)
			if err != nil {
				return err
			}
			defer l.Close()
			var w io.Writer = os.Stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			n, err := l.Export(ctx, releaseID(release), w)
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("no audit rows for release %s in %s", releaseID(release), pgutil.Describe(url))
			}
			if out != "" && out != "-" {
				fmt.Fprintf(os.Stderr, "wrote %d rows to %s\n", n, out)
			}
			return nil
		},
	}
	export.Flags().StringVar(&release, "release", "", "release ID (workflow ID, optionally /RUN_ID)")
	export.Flags().StringVar(&out, "out", "-", "file to write (default standard output)")
	root.AddCommand(verify, export)
	return root
}
