package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

// withFreezes is the minimal spec with a freeze list appended ("freeze:" on line 22, its first item on 23).
func withFreezes(t *testing.T, freeze string) (*spec.Loaded, error) {
	t.Helper()
	return spec.Parse("freeze.yaml", []byte(minimal+"freeze:\n"+freeze))
}

func TestFreezeProblemsArePlacedAtFileLineColumn(t *testing.T) {
	_, err := withFreezes(t, `  - name: year-end
    reason: year-end change freeze
    time_zone: America/Nowhere
    start: 2026-12-24
    end: 2027-01-02 noon
  - name: bad-order
    reason: ends before it starts
    time_zone: UTC
    start: 2026-12-24T18:00
    end: 2026-12-24T06:00
  - name: weekend
    reason: no weekend releases
    time_zone: Europe/Berlin
    days: [sat, sunday]
    from: "00:00"
    to: "25:00"
  - name: weekend
    time_zone: UTC
    start: 2026-12-01
    days: [mon]
    from: "01:00"
    to: "02:00"
`)
	if err == nil {
		t.Fatal("spec with bad freezes loaded")
	}
	want := []string{
		`freeze.yaml:25:16: freeze[0].time_zone: unknown time zone "America/Nowhere" (want an IANA name such as America/New_York or UTC)`,
		`freeze.yaml:27:10: freeze[0].end: want a date (2026-12-24) or a date and time (2026-12-24T18:00) in the freeze's time zone, got "2027-01-02 noon"`,
		`freeze.yaml:32:10: freeze[1].end: 2026-12-24T06:00 is not after start 2026-12-24T18:00`,
		`freeze.yaml:36:17: freeze[2].days[1]: unknown day "sunday" (want one of sun, mon, tue, wed, thu, fri, sat)`,
		`freeze.yaml:38:9: freeze[2].to: want a time of day HH:MM from 00:00 to 24:00, got "25:00"`,
		`freeze.yaml:39:11: freeze[3].name: "weekend" is also the name of freeze[2]`,
		`freeze.yaml:39:5: freeze[3].reason: is required (every refusal quotes it)`,
		`freeze.yaml:39:5: freeze[3]: give start and end (a one-off freeze) or days, from and to (a weekly one), not both`,
	}
	got := err.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != len(want) {
		t.Errorf("%d problems, want %d:\n%s", n, len(want), got)
	}
}

func TestAValidFreezeListLoads(t *testing.T) {
	l, err := withFreezes(t, `  - {name: year-end, reason: year-end freeze, time_zone: America/New_York, start: 2026-12-24, end: 2027-01-02T06:00}
  - {name: nights, reason: on-call is thin, time_zone: UTC, days: [mon, tue], from: "22:00", to: "06:00"}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Spec.Freeze) != 2 || !l.Spec.Freeze[1].Weekly() || l.Spec.Freeze[0].Weekly() {
		t.Fatalf("freezes %+v", l.Spec.Freeze)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestFreezeAtOneOffPeriodInItsTimeZone(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	fs := []spec.Freeze{{Name: "year-end", Reason: "year-end freeze", TimeZone: "America/New_York", Start: "2026-12-24", End: "2027-01-02T06:00"}}
	for _, tc := range []struct {
		at   time.Time
		in   bool
		name string
	}{
		{time.Date(2026, 12, 23, 23, 59, 0, 0, ny), false, "a minute before"},
		{time.Date(2026, 12, 24, 0, 0, 0, 0, ny), true, "at its start (midnight in New York, 05:00 UTC)"},
		{time.Date(2026, 12, 24, 4, 59, 0, 0, time.UTC), false, "23:59 in New York, though the 24th in UTC"},
		{time.Date(2027, 1, 2, 5, 59, 0, 0, ny), true, "just before its end"},
		{time.Date(2027, 1, 2, 6, 0, 0, 0, ny), false, "at its end (exclusive)"},
	} {
		hit, in := spec.FreezeAt(fs, tc.at)
		if in != tc.in {
			t.Errorf("%s: inside %v, want %v", tc.name, in, tc.in)
			continue
		}
		if in && (hit.Period.Name != "year-end" || hit.Period.Reason != "year-end freeze" || !hit.Until.Equal(time.Date(2027, 1, 2, 6, 0, 0, 0, ny))) {
			t.Errorf("%s: hit %+v", tc.name, hit)
		}
	}
}

func TestWeeklyFreezeKeepsItsWallClockAcrossDaylightSaving(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	// Saturday nights 22:00-06:00 New York time. On 2026-03-07 the night is
	// 7 hours long (clocks go forward at 02:00 on the 8th), on 2026-10-31 it is 9.
	fs := []spec.Freeze{{Name: "nights", Reason: "batch jobs", TimeZone: "America/New_York", Days: []spec.Weekday{spec.Saturday}, From: "22:00", To: "06:00"}}
	for _, tc := range []struct {
		day       int
		month     time.Month
		wantHours time.Duration
	}{{7, time.March, 7}, {31, time.October, 9}, {14, time.March, 8}} {
		start := time.Date(2026, tc.month, tc.day, 22, 0, 0, 0, ny)
		hit, in := spec.FreezeAt(fs, start.Add(30*time.Minute))
		if !in {
			t.Fatalf("%s: not inside the freeze", start)
		}
		if !hit.Period.Start.Equal(start) || hit.Until.Sub(start) != tc.wantHours*time.Hour {
			t.Errorf("%s: period %s - %s (%s), want %dh", start, hit.Period.Start, hit.Until, hit.Until.Sub(start), tc.wantHours)
		}
		if got := hit.Until.In(ny); got.Hour() != 6 || got.Weekday() != time.Sunday {
			t.Errorf("%s: ends %s, want Sunday 06:00 New York time", start, got)
		}
		// Past midnight the window began the day before: still inside.
		if _, in := spec.FreezeAt(fs, hit.Until.Add(-time.Minute)); !in {
			t.Errorf("%s: a minute before its end is outside", start)
		}
		if _, in := spec.FreezeAt(fs, hit.Until); in {
			t.Errorf("%s: its end is inside", start)
		}
	}
	// Friday night is not frozen.
	if _, in := spec.FreezeAt(fs, time.Date(2026, 3, 6, 23, 0, 0, 0, ny)); in {
		t.Error("Friday 23:00 is inside a Saturday freeze")
	}
}

func TestBackToBackFreezesEndWhenTheLastOneDoes(t *testing.T) {
	fs := []spec.Freeze{
		{Name: "weekend", Reason: "no weekend releases", TimeZone: "UTC", Days: []spec.Weekday{spec.Saturday, spec.Sunday}, From: "00:00", To: "24:00"},
		{Name: "monday-morning", Reason: "change board", TimeZone: "UTC", Start: "2026-12-07", End: "2026-12-07T09:00"},
	}
	hit, in := spec.FreezeAt(fs, time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)) // Saturday noon
	if !in || hit.Period.Name != "weekend" {
		t.Fatalf("Saturday noon: %+v %v", hit, in)
	}
	if want := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC); !hit.Period.End.Equal(want) {
		t.Errorf("Saturday's period ends %s, want %s", hit.Period.End, want)
	}
	if want := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC); !hit.Until.Equal(want) {
		t.Errorf("deploying allowed again %s, want %s (after Sunday and the Monday morning freeze)", hit.Until, want)
	}
	if _, in := spec.FreezeAt(fs, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)); in {
		t.Error("Monday 09:00 is still frozen")
	}
}

func TestFreezesBetweenListsEveryOccurrenceThatOverlapsTheSpan(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	freezes := []spec.Freeze{
		{Name: "nightly", Reason: "billing batch", TimeZone: "America/New_York", Days: []spec.Weekday{spec.Monday, spec.Tuesday, spec.Wednesday}, From: "22:00", To: "02:00"},
		{Name: "audit", Reason: "external audit", TimeZone: "UTC", Start: "2026-12-09T10:00", End: "2026-12-09T12:00"},
	}
	// Monday 20:00 to Wednesday 11:00 New York time.
	from, to := time.Date(2026, 12, 7, 20, 0, 0, 0, ny), time.Date(2026, 12, 9, 11, 0, 0, 0, ny)
	got := spec.FreezesBetween(freezes, from, to)
	var names []string
	for _, p := range got {
		names = append(names, p.Name+"@"+p.Start.In(ny).Format("Mon 15:04"))
	}
	want := []string{"nightly@Mon 22:00", "nightly@Tue 22:00", "audit@Wed 05:00"}
	if strings.Join(names, ", ") != strings.Join(want, ", ") {
		t.Errorf("freezes between %s and %s: %v, want %v", from, to, names, want)
	}
	if len(spec.FreezesBetween(freezes, to, to.Add(time.Minute))) != 0 {
		t.Error("an empty span overlaps no freeze")
	}
}
