package main

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/drills"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestEveryJSONOutputIsSnakeCase walks the Go types each `-o json` prints
// (plan, start, status, list, validate, the input commands' answers, audit verify,
// db init, drill schedule, list and run) and requires every key to be a snake_case json tag.
func TestEveryJSONOutputIsSnakeCase(t *testing.T) {
	for name, v := range map[string]any{
		"plan": planResult{}, "start": startResult{}, "status": record.Status{}, "list": listRow{}, "validate": spec.Spec{},
		"approve, attest, ack, abort, hold, resume, rollback": workflows.InputResult{},
		"audit verify": audit.VerifyReport{}, "db init": dbInitResult{},
		"drill schedule": drills.Outcome{}, "drill list": drills.Entry{}, "drill run": workflows.DrillResult{},
	} {
		for _, bad := range nonSnakeKeys(reflect.TypeOf(v), name, map[reflect.Type]bool{}) {
			t.Errorf("%s", bad)
		}
	}
}

func TestListPrintsSnakeCaseKeys(t *testing.T) {
	b, err := json.Marshal([]listRow{{ID: "release:a:b", RunID: "r", Status: "running", Started: time.Unix(0, 0).UTC()}})
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"release_id":"release:a:b","run_id":"r","status":"running","version":"","stage":"","started_at":"1970-01-01T00:00:00Z"}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// nonSnakeKeys lists the fields under t that would print a key that is not snake_case.
func nonSnakeKeys(t reflect.Type, at string, seen map[reflect.Type]bool) []string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] || t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) {
		return nil
	}
	seen[t] = true
	var bad []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			bad = append(bad, nonSnakeKeys(f.Type, at, seen)...)
			continue
		}
		switch {
		case name == "":
			bad = append(bad, at+": "+t.String()+"."+f.Name+" has no json tag, so it prints as "+f.Name)
		case !snakeCase.MatchString(name):
			bad = append(bad, at+": "+t.String()+"."+f.Name+" prints key "+name)
		}
		bad = append(bad, nonSnakeKeys(f.Type, at+" "+name, seen)...)
	}
	return bad
}
