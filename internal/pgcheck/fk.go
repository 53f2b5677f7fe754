package pgcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// FKIndexes lists foreign keys whose columns are not the leading columns of a
// valid, non-partial index on the referencing table: deletes and updates on the
// referenced table then scan the whole referencing table. Each offender carries
// the CREATE INDEX that fixes it. schemas empty means every non-system schema.
func FKIndexes(ctx context.Context, q Querier, schemas []string) (Result, error) {
	filter, args := schemasOrAll(schemas)
	rows, err := q.Query(ctx, `
		SELECT n.nspname, t.relname, c.conname,
		       array_agg(a.attname::text ORDER BY k.ord)
		FROM pg_constraint c
		JOIN pg_class t ON t.oid = c.conrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
		WHERE c.contype = 'f' AND `+filter+`
		  AND NOT EXISTS (
		    SELECT 1 FROM pg_index i
		    WHERE i.indrelid = c.conrelid AND i.indpred IS NULL AND i.indisvalid
		      AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] @> c.conkey
		      AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] <@ c.conkey)
		GROUP BY n.nspname, t.relname, c.conname
		ORDER BY n.nspname, t.relname, c.conname`, args...)
	if err != nil {
		return Result{}, fmt.Errorf("read foreign keys: %w", err)
	}
	defer rows.Close()
	var offenders []string
	for rows.Next() {
		var ns, table, con string
		var cols []string
		if err := rows.Scan(&ns, &table, &con, &cols); err != nil {
			return Result{}, err
		}
		offenders = append(offenders, fmt.Sprintf("%s.%s (%s) → %s", ns, table, strings.Join(cols, ", "), FixFor(ns, table, cols)))
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	var total int
	cf, cargs := schemasOrAll(schemas)
	if err := q.QueryRow(ctx, `SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace WHERE c.contype = 'f' AND `+cf, cargs...).Scan(&total); err != nil {
		return Result{}, fmt.Errorf("count foreign keys: %w", err)
	}
	if len(offenders) == 0 {
		return Result{State: record.ItemPassed, Value: render.Count(total, "foreign key", "foreign keys") + ", every one with a covering index"}, nil
	}
	return Result{
		State:     record.ItemFailed,
		Value:     fmt.Sprintf("%d of %s without a covering index", len(offenders), render.Count(total, "foreign key", "foreign keys")),
		Detail:    list(offenders, 20),
		Offenders: offenders,
	}, nil
}

// FixFor is the CREATE INDEX that covers a foreign key on table(cols).
func FixFor(schema, table string, cols []string) string {
	name := table + "_" + strings.Join(cols, "_") + "_fk_idx"
	if len(name) > 63 {
		name = name[:63]
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgutil.Ident(c)
	}
	return fmt.Sprintf("CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s (%s);",
		pgutil.Ident(name), pgutil.QualifiedIdent(schema, table), strings.Join(quoted, ", "))
}
