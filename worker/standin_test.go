package worker_test

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
)

// standInRegistry registers golive's workflows on a worker as worker.Register
// does, and keeps the activity names it registers instead of the activities:
// the stand-ins are registered under exactly those names.
type standInRegistry struct {
	w     sdkworker.Worker
	names []string
}

func (r *standInRegistry) RegisterWorkflow(w any) { r.w.RegisterWorkflow(w) }

func (r *standInRegistry) RegisterActivity(a any) { r.names = append(r.names, activityNames(a)...) }

// activityNames are the names the SDK registers a as: every exported method of
// an activity struct, or a function's own name.
func activityNames(a any) []string {
	v := reflect.ValueOf(a)
	if v.Kind() == reflect.Func {
		name := runtime.FuncForPC(v.Pointer()).Name()
		return []string{strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], "-fm")}
	}
	var out []string
	for i := range v.Type().NumMethod() {
		out = append(out, v.Type().Method(i).Name)
	}
	return out
}

// registerStandIns registers golive's workflows on w, as worker.Register does,
// and in place of each activity it registers, one under the same name that
// returns at once with a result that lets the release pass. asked gets a tick
// (never blocking) on every notification that asks people to act, as people
// get one when the release waits for them. It fails tb when worker.Register registers an
// activity without a stand-in, or a stand-in is left for one it no longer
// registers.
func registerStandIns(tb testing.TB, w sdkworker.Worker, asked chan<- struct{}) {
	tb.Helper()
	reg := &standInRegistry{w: w}
	worker.Register(reg, worker.Options{Directory: worker.DemoDirectory("..")})
	fns := standIns(tb, asked)
	slices.Sort(reg.names)
	for _, name := range reg.names {
		fn, ok := fns[name]
		if !ok {
			tb.Fatalf("worker.Register registers activity %s, which has no stand-in in standIns", name)
		}
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		delete(fns, name)
	}
	for name := range fns {
		tb.Fatalf("stand-in %s is for an activity worker.Register no longer registers", name)
	}
}

// standIns are golive's activities as functions that return at once, keyed
// by activity name, with the real input and result types (so payloads are
// encoded and decoded as in production). The team directory is the demo one,
// resolved once here.
func standIns(tb testing.TB, asked chan<- struct{}) map[string]any {
	tb.Helper()
	dir, err := worker.DemoDirectory("..").Resolve(context.Background(), activities.ResolveInput{Service: "overhead", Environment: "demo"})
	if err != nil {
		tb.Fatalf("demo directory: %v", err)
	}
	pass := activities.Result{State: record.ItemPassed, Value: "stand-in"}
	check := func(context.Context, activities.CheckInput) (activities.Result, error) { return pass, nil }
	backup := func(context.Context, activities.BackupInput) (activities.Result, error) { return pass, nil }
	return map[string]any{
		// Audit: a chain head of the real length.
		"Append": func(_ context.Context, in activities.AppendInput) (activities.AppendResult, error) {
			return activities.AppendResult{Head: strings.Repeat("ab", 32), Rows: len(in.Events)}, nil
		},
		"CheckDrill": check, "CheckDatabase": check, "CheckMetric": check, "Check": check,
		"VerifyBackup": backup, "RehearseRollback": backup,
		"DrillPITR": func(context.Context, activities.DrillPITRInput) (activities.Result, error) { return pass, nil },
		"Migrate": func(context.Context, activities.MigrateInput) (activities.MigrateResult, error) {
			return activities.MigrateResult{Result: pass, Before: 0, After: 3, Applied: []string{"001", "002", "003"}}, nil
		},
		"MigrateDown": func(_ context.Context, in activities.MigrateInput) (activities.MigrateResult, error) {
			return activities.MigrateResult{Result: pass, Before: 3, After: in.TargetVersion}, nil
		},
		"CurrentVersion": func(context.Context, activities.DeployInput) (string, error) { return "1.0.0", nil },
		"Deploy": func(_ context.Context, in activities.DeployInput) (activities.DeployResult, error) {
			return activities.DeployResult{Previous: "1.0.0", Live: in.Version}, nil
		},
		"Revert": func(_ context.Context, in activities.DeployInput) (activities.DeployResult, error) {
			return activities.DeployResult{Previous: in.Version, Live: in.Previous}, nil
		},
		"Resolve": func(_ context.Context, in activities.ResolveInput) (directory.Snapshot, error) {
			s := dir
			s.Service, s.Environment = in.Service, in.Environment
			return s, nil
		},
		"Sample": func(_ context.Context, in activities.SampleInput) (activities.Sample, error) {
			return healthySample(in), nil
		},
		"Notify": func(_ context.Context, in activities.NotifyInput) (activities.NotifyResult, error) {
			// Only a notice that asks people to act wakes the answerer: its status
			// query is load the bare workflows never get (T-0's notices would put
			// two inside the segment measured).
			if ev, ok := notify.Lookup(in.Event); ok && ev.Action {
				select {
				case asked <- struct{}{}:
				default:
				}
			}
			return loggedNotice(in), nil
		},
		"Health":        func(context.Context, spec.App) (activities.Result, error) { return pass, nil },
		"VerifyVersion": func(context.Context, activities.VerifyInput) (activities.Result, error) { return pass, nil },
		"Smoke": func(_ context.Context, in activities.SmokeInput) (activities.SmokeResult, error) {
			var res activities.SmokeResult
			for _, f := range in.Flows {
				res.Flows = append(res.Flows, activities.FlowResult{ID: f.ID, Title: f.Title, Result: pass})
			}
			return res, nil
		},
		"Evidence": func(_ context.Context, in activities.RecordInput) (string, error) {
			return "stand-in://evidence/" + in.Status.ReleaseID, nil
		},
		"Incident": func(_ context.Context, in activities.RecordInput) (string, error) {
			return "stand-in://incident/" + in.Status.ReleaseID, nil
		},
	}
}

// healthySample reads every metric of in as healthy for its unit: well under
// the targets, so no alert is raised and no trigger fires.
func healthySample(in activities.SampleInput) activities.Sample {
	at := in.At
	if at.IsZero() {
		at = time.Now()
	}
	s := activities.Sample{At: at}
	for _, m := range in.Metrics.All() {
		unit := spec.MetricUnit(m.Name)
		v := map[string]float64{"%": 0.02, "ms": 120, "/h": 1}[unit]
		s.Values = append(s.Values, activities.MetricValue{Name: m.Name, Query: m.Query, Value: v, Unit: unit})
	}
	return s
}

// loggedNotice is what the notifier in log mode returns: every recipient reached.
func loggedNotice(in activities.NotifyInput) activities.NotifyResult {
	res := activities.NotifyResult{Result: activities.Result{State: record.ItemPassed, Value: fmt.Sprintf("logged for %d", len(in.To))}, Delivered: len(in.To)}
	for _, to := range in.To {
		res.Deliveries = append(res.Deliveries, record.Notice{Event: in.Event, Person: to.Person, Channel: "log", OK: true})
	}
	return res
}
