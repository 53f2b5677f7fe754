package activities_test

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// Every kind the spec accepts is sent to an activity that runs it: handed a
// check of that kind without its settings, the activity says what is missing
// (failed or unavailable), never that it does not run the kind.
func TestEveryCheckKindHasAnActivityThatRunsIt(t *testing.T) {
	real := map[string]func(context.Context, activities.CheckInput) (activities.Result, error){
		"(*Prober).Check":           (&activities.Prober{Logger: quiet()}).Check,
		"(*Database).CheckDatabase": (&activities.Database{Logger: quiet()}).CheckDatabase,
		"(*Metrics).CheckMetric":    (&activities.Metrics{}).CheckMetric,
		"(*Audit).CheckDrill":       (&activities.Audit{}).CheckDrill,
	}
	for _, k := range spec.AllCheckKinds() {
		name := runtime.FuncForPC(reflect.ValueOf(activities.CheckActivity(k)).Pointer()).Name()
		name = strings.TrimSuffix(name[strings.LastIndex(name, ".(")+1:], "-fm")
		run, ok := real[name]
		if !ok {
			t.Errorf("kind %s: activity %s is not one of the check activities", k, name)
			continue
		}
		r, err := run(context.Background(), activities.CheckInput{ItemID: "x", Check: spec.Check{Kind: string(k), Timeout: spec.Duration(5e9)}})
		if err != nil {
			t.Errorf("kind %s on %s: %v", k, name, err)
			continue
		}
		if r.Passed() || strings.Contains(r.Detail, "does not run kind") || r.State == "" {
			t.Errorf("kind %s on %s = %+v, want failed or unavailable for what is missing", k, name, r)
		}
	}
}

func TestAKindOutsideTheSpecFailsByName(t *testing.T) {
	r := check(t, &activities.Prober{Logger: quiet()}, spec.Check{Kind: "telepathy"}, spec.App{})
	wantState(t, "unknown kind", r, record.ItemFailed, `does not run kind "telepathy"`)
}
