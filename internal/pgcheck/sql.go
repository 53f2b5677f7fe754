package pgcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// SQL runs a checklist query. It passes when the query returns no rows, or one
// row whose single column is true; any other rows are the offenders (at most 20
// are read). Run it on a read-only connection.
func SQL(ctx context.Context, q Querier, query string) (Result, error) {
	if strings.TrimSpace(query) == "" {
		return Result{}, fmt.Errorf("sql check without a query")
	}
	rows, err := q.Query(ctx, query)
	if err != nil {
		return Result{State: record.ItemFailed, Value: "query failed", Detail: err.Error()}, nil
	}
	defer rows.Close()
	var offenders []string
	n := 0
	single := true
	var verdict *bool
	for rows.Next() {
		n++
		vals, err := rows.Values()
		if err != nil {
			return Result{}, err
		}
		if len(vals) == 1 {
			if b, ok := vals[0].(bool); ok && n == 1 {
				verdict = &b
			}
		}
		if len(vals) != 1 {
			single = false
		}
		if n <= 20 {
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = fmt.Sprint(v)
			}
			offenders = append(offenders, strings.Join(parts, " | "))
		}
	}
	if err := rows.Err(); err != nil {
		return Result{State: record.ItemFailed, Value: "query failed", Detail: err.Error()}, nil
	}
	switch {
	case n == 0:
		return Result{State: record.ItemPassed, Value: "no rows"}, nil
	case n == 1 && single && verdict != nil:
		if *verdict {
			return Result{State: record.ItemPassed, Value: "true"}, nil
		}
		return Result{State: record.ItemFailed, Value: "false", Detail: "the query returned false"}, nil
	}
	return Result{State: record.ItemFailed, Value: render.Count(n, "row", "rows") + " returned", Detail: list(offenders, 20), Offenders: offenders}, nil
}
