// Package pgcheck holds the PostgreSQL readiness checks of the checklist's
// Database and Performance sections: row level security, foreign keys without
// a covering index, connections in use, slow queries, and a plain SQL check.
// Each check reads the catalog only, and says "unavailable" (never "passed")
// when it cannot look.
package pgcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/record"
)

// Result is one check's outcome.
type Result struct {
	// State is the checklist item state the check gives (record.Item*).
	State record.ItemState
	// Value is the short measured value.
	Value string
	// Detail explains the state; for failures it lists the offenders.
	Detail string
	// Offenders are the objects at fault, one per entry (table names, FKs with their fix...).
	Offenders []string
}

// Querier is what the checks need: a *pgx.Conn or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// list formats offenders for Detail, at most max of them.
func list(items []string, max int) string {
	if len(items) <= max {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:max], "; ") + fmt.Sprintf("; and %d more", len(items)-max)
}

// schemasOrAll is the schema filter: the given schemas, or every non-system schema.
func schemasOrAll(schemas []string) (string, []any) {
	if len(schemas) == 0 {
		return `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'`, nil
	}
	return `n.nspname = ANY($1)`, []any{schemas}
}
