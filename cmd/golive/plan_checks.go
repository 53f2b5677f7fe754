package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// planCheck is one automatic readiness item as golive plan ran it now.
type planCheck struct {
	ItemID   string        `json:"item_id"`
	Title    string        `json:"title"`
	Kind     string        `json:"kind"`
	Optional bool          `json:"optional,omitempty"`
	State    string        `json:"state"`
	Value    string        `json:"value,omitempty"`
	Detail   string        `json:"detail,omitempty"`
	Took     time.Duration `json:"took_ns"`
}

// runReadinessChecks runs the spec's automatic readiness items now, in
// parallel as the gate does, on the same check activities the worker runs
// (database checks on read-only connections), all within timeout; progress
// goes to progress. A check that errs or outlasts the timeout is unavailable,
// never passed.
func runReadinessChecks(ctx context.Context, s spec.Spec, timeout time.Duration, progress io.Writer) []planCheck {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := worker.Checkers(worker.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var items []spec.Item
	for _, it := range s.Readiness.Items {
		if it.Auto != nil {
			items = append(items, it)
		}
	}
	out := make([]planCheck, len(items))
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	fmt.Fprintf(progress, "running %d readiness checks (read-only, at most %s)\n", len(items), timeout)
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = runOneCheck(ctx, ch, s, it)
			mu.Lock()
			defer mu.Unlock()
			done++
			fmt.Fprintf(progress, "  [%d/%d] %-28s %s\n", done, len(items), it.ID, out[i].State)
		}()
	}
	wg.Wait()
	return out
}

func runOneCheck(ctx context.Context, ch activities.Checkers, s spec.Spec, it spec.Item) planCheck {
	in := activities.CheckInput{ReleaseID: "plan:" + workflows.ReleaseID(s.Service, s.Environment), ItemID: it.ID, Check: *it.Auto, App: s.App}
	begin := time.Now()
	res, err := runBounded(ctx, func(ctx context.Context) (activities.Result, error) { return ch.Run(ctx, in) })
	pc := planCheck{ItemID: it.ID, Title: it.Title, Kind: it.Auto.Kind, Optional: it.Optional, State: res.State, Value: res.Value, Detail: res.Detail, Took: time.Since(begin)}
	if err != nil {
		pc.State, pc.Detail = activities.StateUnavailable, err.Error()
	}
	return pc
}

// runBounded returns when f does or when ctx ends, whichever comes first: a
// check that ignores its context cannot hold the plan past its timeout.
func runBounded(ctx context.Context, f func(context.Context) (activities.Result, error)) (activities.Result, error) {
	type result struct {
		r   activities.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := f(ctx)
		done <- result{r, err}
	}()
	select {
	case r := <-done:
		return r.r, r.err
	case <-ctx.Done():
		return activities.Result{}, fmt.Errorf("no result within the plan's check timeout: %w", ctx.Err())
	}
}

// pendingMigrations is the result of the postgres.pending_migrations readiness
// item (the migrations T-0 applies, each with its checksum), if the spec has one.
func pendingMigrations(checks []planCheck) *planCheck {
	for i := range checks {
		if checks[i].Kind == string(spec.KindPendingMigrations) {
			return &checks[i]
		}
	}
	return nil
}
