package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// runCLI runs golive with args and returns stdout, stderr and the error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// demoSpecWith writes examples/demo.yaml with edits applied (old → new pairs)
// and extra appended, into a temporary file.
func demoSpecWith(t *testing.T, extra string, edits ...string) string {
	t.Helper()
	b, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("examples/demo.yaml has no %q", edits[i])
		}
		s = strings.ReplaceAll(s, edits[i], edits[i+1])
	}
	path := filepath.Join(t.TempDir(), "release.yaml")
	if err := os.WriteFile(path, []byte(s+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const yearEnd = `
freeze:
  - name: year-end
    reason: year-end change freeze
    time_zone: America/New_York
    start: 2030-12-24
    end: 2031-01-02
`

func decodePlan(t *testing.T, out string) planResult {
	t.Helper()
	var p planResult
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}
	return p
}

func TestPlanAndStartRefuseAT0InsideAFreezeWithItsReason(t *testing.T) {
	path := demoSpecWith(t, yearEnd)
	window := "2030-12-31T17:00:00Z" // noon in New York, inside the freeze
	out, _, err := runCLI(t, "plan", path, "--version", "1.1.0", "--window", window, "--no-checks", "-o", "json")
	want := `T-0 2030-12-31T17:00:00Z is inside freeze "year-end" (year-end change freeze), 2030-12-24T00:00:00-05:00 until 2031-01-02T00:00:00-05:00`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "start would refuse") {
		t.Fatalf("plan: %v, want a refusal with %q", err, want)
	}
	p := decodePlan(t, out)
	if p.StartAllowed || p.Freeze == nil || p.Freeze.Period.Name != "year-end" || !p.Freeze.Until.Equal(time.Date(2031, 1, 2, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("plan JSON: start_allowed %v freeze %+v", p.StartAllowed, p.Freeze)
	}
	// start refuses it the same way, before it dials any server.
	_, _, err = runCLI(t, "start", path, "--version", "1.1.0", "--window", window, "--as", "erin", "--address", "127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--override-freeze REASON") {
		t.Fatalf("start: %v, want the freeze refusal", err)
	}
	// Outside the freeze, or with an override, start may go on.
	if out, _, err := runCLI(t, "plan", path, "--version", "1.1.0", "--window", "2031-01-02T05:00:00Z", "--no-checks", "-o", "json"); err != nil || !decodePlan(t, out).StartAllowed {
		t.Errorf("plan at the freeze's end: %v", err)
	}
	out, _, err = runCLI(t, "plan", path, "--version", "1.1.0", "--window", window, "--no-checks", "-o", "json", "--override-freeze", "CVE-2030-1234 hotfix")
	if err != nil {
		t.Fatalf("plan with --override-freeze: %v", err)
	}
	p = decodePlan(t, out)
	if !p.StartAllowed || p.FreezeOverride != "CVE-2030-1234 hotfix" {
		t.Errorf("override: start_allowed %v freeze_override %q", p.StartAllowed, p.FreezeOverride)
	}
	// The plan lists the freeze the release will wait in unless two rollback approvers override it.
	if len(p.Freezes) != 1 || p.Freezes[0].Name != "year-end" || !p.Freezes[0].End.Equal(time.Date(2031, 1, 2, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("plan freezes %+v, want year-end until 2031-01-02 05:00 UTC", p.Freezes)
	}
}

func TestAFreezeOverrideIsInTheReleasesMemoAndDetails(t *testing.T) {
	path := demoSpecWith(t, yearEnd)
	pf := preflightFlags{version: "1.1.0", window: "2030-12-31T17:00:00Z", overrideFreeze: "CVE-2030-1234 hotfix"}
	p, err := runPreflight(context.Background(), path, pf, time.Date(2030, 12, 31, 9, 0, 0, 0, time.UTC))
	if err != nil || p.err() != nil {
		t.Fatalf("preflight: %v %v", err, p.err())
	}
	in := workflows.ReleaseInput{Spec: p.loaded.Spec, SpecFile: path, Version: p.version, Requester: "erin", Window: p.window}
	o := startOptions(in, p)
	memo, _ := o.Memo["golive_freeze_override"].(string)
	want := `T-0 2030-12-31T17:00:00Z inside freeze "year-end" (year-end change freeze), overridden by erin: CVE-2030-1234 hotfix`
	if memo != want || !strings.Contains(o.StaticDetails, want) {
		t.Errorf("memo %q\ndetails %q\nwant %q", memo, o.StaticDetails, want)
	}
	// Without a freeze there is no memo.
	p.override, p.freeze = "", nil
	if o := startOptions(in, p); o.Memo != nil || strings.Contains(o.StaticDetails, "Freeze overridden") {
		t.Errorf("no override, yet memo %v", o.Memo)
	}
}

func TestPlanTimelineIsInTheUsersZoneAndUTCFromT0(t *testing.T) {
	path := demoSpecWith(t, "")
	out, _, err := runCLI(t, "plan", path, "--version", "1.1.0", "--window", "2030-06-01T18:00:00Z", "--tz", "Europe/Berlin", "--no-checks", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	p := decodePlan(t, out)
	l, err := spec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2030, 6, 1, 18, 0, 0, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if !p.T0.Equal(t0) || p.TimeZone != "Europe/Berlin" || !p.StartAllowed || p.Readiness != nil {
		t.Fatalf("t0 %s zone %s start_allowed %v readiness %v", p.T0, p.TimeZone, p.StartAllowed, p.Readiness)
	}
	want := spec.Timeline(l.Spec, p.Start, t0)
	if len(p.Timeline) != len(want) {
		t.Fatalf("%d events, want %d", len(p.Timeline), len(want))
	}
	for i, e := range p.Timeline {
		w := want[i]
		if e.Kind != w.Kind || e.Title != w.Title || !e.At.Equal(w.At) || e.FromT0 != w.At.Sub(t0) || e.Offset != w.Offset || e.Anchor != w.Anchor {
			t.Errorf("event %d: %+v, want %+v", i, e, w)
		}
		if local, err := time.Parse(time.RFC3339, e.Local); err != nil || !local.Equal(e.At.Truncate(time.Second)) || e.Local != e.At.In(berlin).Format(time.RFC3339) {
			t.Errorf("event %d: at_local %q for %s", i, e.Local, e.At)
		}
	}
	checks := 0
	for _, e := range p.Timeline {
		if e.Kind == spec.EventWatchCheck {
			checks++
		}
	}
	if checks != len(l.Spec.Watch.Checkpoints()) {
		t.Errorf("%d watch checks planned, the workflow makes %d", checks, len(l.Spec.Watch.Checkpoints()))
	}
	text, _, err := runCLI(t, "plan", path, "--version", "1.1.0", "--window", "2030-06-01T18:00:00Z", "--tz", "Europe/Berlin", "--no-checks")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Sat 2030-06-01 20:00:00 CEST  2030-06-01 18:00:00Z  T-0", "T-4h: pre-deployment checks", "readiness checks: not run (--no-checks)"} {
		if !strings.Contains(text, line) {
			t.Errorf("text plan lacks %q:\n%s", line, text)
		}
	}
}

// plan runs the gate's automatic checks now against the real app and database:
// the app's checks pass, and the migrations T-0 would apply are listed with checksums.
func TestPlanRunsTheReadinessChecksAndListsPendingMigrations(t *testing.T) {
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	migrations := filepath.Join(t.TempDir(), "migrations")
	if err := migrate.Stage("../../examples/migrations/demo", migrations, 3); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOLIVE_DEMO_DATABASE_URL", pgtest.NewDatabase(t))
	path := demoSpecWith(t, "", "http://127.0.0.1:18080", srv.URL, "migrations: .golive/demo/migrations", "migrations: "+migrations)
	out, progress, err := runCLI(t, "plan", path, "--version", "1.1.0", "--window", "+6h", "--check-timeout", "60s", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	p := decodePlan(t, out)
	l, _ := spec.Load(path)
	auto := 0
	for _, it := range l.Spec.Readiness.Items {
		if it.Auto != nil {
			auto++
		}
	}
	if len(p.Readiness) != auto || !strings.Contains(progress, "running ") || strings.Count(progress, "] ") != auto {
		t.Fatalf("%d readiness results of %d auto items; progress:\n%s", len(p.Readiness), auto, progress)
	}
	states := map[string]string{}
	for _, c := range p.Readiness {
		states[c.ItemID] = string(c.State) + ": " + c.Value + " " + c.Detail
	}
	for _, id := range []string{"env.hosting", "sec.cors", "sec.csrf", "env.database", "db.rls"} {
		if !strings.HasPrefix(states[id], "passed") {
			t.Errorf("%s: %s", id, states[id])
		}
	}
	if p.Migrations == nil || p.Migrations.State != "passed" || !strings.Contains(p.Migrations.Value, "3 to apply at T-0") {
		t.Fatalf("pending migrations: %+v", p.Migrations)
	}
	set, err := migrate.Load(migrations)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range set.Sources {
		if !strings.Contains(p.Migrations.Detail, m.File+" "+m.Checksum()) {
			t.Errorf("pending migrations lack %s %s: %s", m.File, m.Checksum(), p.Migrations.Detail)
		}
	}
}

func TestDistancesFromT0ReadAsTheChecklistWritesThem(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "T-0", -4 * time.Hour: "T-4h", time.Hour + 15*time.Minute: "T+1h15m", 10 * time.Second: "T+10s",
		5*time.Hour + 5*time.Minute: "T+5h5m", -(24*time.Hour + 30*time.Minute + 58*time.Second + 374*time.Millisecond): "T-24h30m58s",
	} {
		if got := signed(d); got != want {
			t.Errorf("signed(%s) = %q, want %q", d, got, want)
		}
	}
}
