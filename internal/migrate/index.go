package migrate

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/golive/golive/internal/pgutil"
)

// concurrentIndex finds the index name of CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name.
var concurrentIndex = regexp.MustCompile(`(?is)\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`)

// ConcurrentIndexes lists the index names a migration builds CONCURRENTLY, as
// PostgreSQL stores them (unquoted names folded to lower case).
func ConcurrentIndexes(sqlText string) []string {
	var out []string
	for _, m := range concurrentIndex.FindAllStringSubmatch(sqlText, -1) {
		n := m[1]
		if strings.HasPrefix(n, `"`) {
			n = strings.ReplaceAll(n[1:len(n)-1], `""`, `"`)
		} else {
			n = strings.ToLower(n)
		}
		out = append(out, n)
	}
	return out
}

// dropInvalidIndexes drops the INVALID indexes a failed CREATE INDEX
// CONCURRENTLY of a pending no-transaction migration left behind, so the retry
// builds them again instead of failing on (or, with IF NOT EXISTS, silently
// keeping) a broken index. It runs under the migration lock, so no other golive
// migrator is building them at the same time.
func (m *Migrator) dropInvalidIndexes(ctx context.Context, pending []Source) ([]string, error) {
	var names []string
	for _, s := range pending {
		if s.NoTx {
			names = append(names, ConcurrentIndexes(section(s.up, "UP")+s.upIfPair())...)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	rows, err := m.db.QueryContext(ctx, `
		SELECT n.nspname, c.relname
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE NOT i.indisvalid AND c.relname = ANY($1)
		  AND n.nspname = ANY(current_schemas(false))`, names)
	if err != nil {
		return nil, m.redact(fmt.Errorf("look for invalid indexes: %w", err))
	}
	var drop []string
	for rows.Next() {
		var ns, name string
		if err := rows.Scan(&ns, &name); err != nil {
			rows.Close()
			return nil, err
		}
		drop = append(drop, pgutil.QualifiedIdent(ns, name))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, m.redact(err)
	}
	var done []string
	for _, q := range drop {
		m.opts.Logger.Info("dropping INVALID index left by a failed CREATE INDEX CONCURRENTLY", "index", q)
		if _, err := m.db.ExecContext(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+q); err != nil {
			return done, m.redact(fmt.Errorf("drop invalid index %s: %w", q, err))
		}
		done = append(done, q)
	}
	return done, nil
}

// upIfPair is the up text of an up/down pair (goose files are searched by section).
func (s Source) upIfPair() string {
	if s.Format == FormatUpDown {
		return s.up
	}
	return ""
}
