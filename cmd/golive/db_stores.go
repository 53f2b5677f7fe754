package main

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/notify"
)

// initStores creates, beside the audit ledger, the rest of what workers keep in
// golive's database so that any worker can pick up any release: the
// notification dedupe ledger and the evidence table (append-only, INSERT and
// SELECT for the writer), both for the ledger's writer role.
func initStores(ctx context.Context, c *pgx.Conn, writer string) error {
	if writer == "" {
		writer = audit.DefaultWriter
	}
	if err := notify.InitLedger(ctx, c, "", writer); err != nil {
		return err
	}
	return evidencestore.Init(ctx, c, "", writer)
}
