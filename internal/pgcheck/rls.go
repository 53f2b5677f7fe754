package pgcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// RLS checks that every table of the schemas has row level security enabled and
// at least one policy. Tables without RLS, and tables with RLS but no policy
// (which deny every row to everyone but the owner), are the offenders. Tables
// named in exclude (schema.table or table, e.g. the migration version table)
// and tables owned by extensions are not checked.
func RLS(ctx context.Context, q Querier, schemas []string, exclude []string) (Result, error) {
	if len(schemas) == 0 {
		schemas = []string{"public"}
	}
	rows, err := q.Query(ctx, `
		SELECT n.nspname, c.relname, c.relrowsecurity,
		       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1)
		  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
		ORDER BY n.nspname, c.relname`, schemas)
	if err != nil {
		return Result{}, fmt.Errorf("read tables: %w", err)
	}
	defer rows.Close()
	skip := map[string]bool{}
	for _, e := range exclude {
		skip[e] = true
	}
	var total int
	var noRLS, noPolicy []string
	for rows.Next() {
		var ns, name string
		var rls, policy bool
		if err := rows.Scan(&ns, &name, &rls, &policy); err != nil {
			return Result{}, err
		}
		if skip[name] || skip[ns+"."+name] {
			continue
		}
		total++
		q := pgutil.QualifiedIdent(ns, name)
		q = strings.ReplaceAll(q, `"`, "")
		switch {
		case !rls:
			noRLS = append(noRLS, q)
		case !policy:
			noPolicy = append(noPolicy, q)
		}
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	r := Result{State: record.ItemPassed, Value: fmt.Sprintf("%s in %s: all with RLS and a policy", render.Count(total, "table", "tables"), strings.Join(schemas, ", "))}
	if len(noRLS)+len(noPolicy) == 0 {
		return r, nil
	}
	r.State = record.ItemFailed
	r.Value = fmt.Sprintf("%s in %s: %d without RLS, %d with RLS but no policy",
		render.Count(total, "table", "tables"), strings.Join(schemas, ", "), len(noRLS), len(noPolicy))
	var parts []string
	for _, t := range noRLS {
		r.Offenders = append(r.Offenders, t+": RLS not enabled")
	}
	for _, t := range noPolicy {
		r.Offenders = append(r.Offenders, t+": RLS enabled but no policy")
	}
	if len(noRLS) > 0 {
		parts = append(parts, "without RLS: "+list(noRLS, 20))
	}
	if len(noPolicy) > 0 {
		parts = append(parts, "RLS but no policy: "+list(noPolicy, 20))
	}
	r.Detail = strings.Join(parts, " | ")
	return r, nil
}
