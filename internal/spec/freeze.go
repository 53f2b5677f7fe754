package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	// A worker or CLI image without /usr/share/zoneinfo still knows every IANA
	// zone a freeze may name, so a freeze never fails open for want of tzdata.
	_ "time/tzdata"
)

// Freeze is a period in which no release may deploy: either one-off (start
// and end) or weekly (days, from and to), written in its own time zone so a
// weekly window keeps its wall-clock hours across daylight saving changes.
type Freeze struct {
	// Name names the freeze in refusals, the plan and the record, e.g. "year-end".
	Name string `yaml:"name" json:"name"`
	// Reason says why nothing deploys then; every refusal quotes it.
	Reason string `yaml:"reason" json:"reason"`
	// TimeZone is the IANA time zone the freeze's times are written in, e.g. America/New_York or UTC.
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// Start begins a one-off freeze: a date (2026-12-24, its midnight) or a date and time (2026-12-24T18:00), in TimeZone.
	Start string `yaml:"start,omitempty" json:"start,omitempty"`
	// End ends a one-off freeze, written like Start; the freeze holds until just before it.
	End string `yaml:"end,omitempty" json:"end,omitempty"`
	// Days are the weekdays a weekly freeze begins on: mon, tue, wed, thu, fri, sat, sun.
	Days []Weekday `yaml:"days,omitempty" json:"days,omitempty"`
	// From is the time of day (HH:MM, in TimeZone) a weekly freeze begins on each of its days.
	From string `yaml:"from,omitempty" json:"from,omitempty"`
	// To is the time of day (HH:MM, up to 24:00) a weekly freeze ends; at or before From it ends the next day.
	To string `yaml:"to,omitempty" json:"to,omitempty"`
}

// Weekday names a day of a weekly freeze.
type Weekday string

// The days of the week, as a weekly freeze writes them.
const (
	Monday    Weekday = "mon"
	Tuesday   Weekday = "tue"
	Wednesday Weekday = "wed"
	Thursday  Weekday = "thu"
	Friday    Weekday = "fri"
	Saturday  Weekday = "sat"
	Sunday    Weekday = "sun"
)

// Weekdays are the values of a freeze's days, in time.Weekday order (Sunday first).
var Weekdays = []Weekday{Sunday, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday}

// Weekly reports whether the freeze repeats every week (days, from, to) rather than once.
func (f Freeze) Weekly() bool { return len(f.Days) > 0 || f.From != "" || f.To != "" }

// FreezePeriod is one occurrence of a freeze: from Start until just before End.
type FreezePeriod struct {
	Name   string    `json:"name"`
	Reason string    `json:"reason"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// Contains reports whether t is inside the period.
func (p FreezePeriod) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// FreezeHit is what FreezeAt answers for a time inside a freeze.
type FreezeHit struct {
	// Period is the freeze occurrence that holds the time (the earliest-starting one when several do).
	Period FreezePeriod `json:"period"`
	// Until is when deploying is allowed again: the end of Period, or later when
	// other freezes overlap it or follow it without a gap.
	Until time.Time `json:"until"`
}

// maxChainedFreezes bounds FreezeAt's walk over back-to-back freezes: a spec
// whose weekly freezes cover the whole week never ends, and Until stops there.
const maxChainedFreezes = 1000

// FreezeAt answers whether t is inside one of the freezes: which one, and when
// deploying is allowed again. It is a pure function of its arguments (no
// clock), so the CLI and, later, workflow code can both ask it. Freezes that do
// not parse (Validate refuses them) are ignored.
func FreezeAt(freezes []Freeze, t time.Time) (FreezeHit, bool) {
	first, ok := freezeContaining(freezes, t)
	if !ok {
		return FreezeHit{}, false
	}
	hit := FreezeHit{Period: first, Until: first.End}
	for range maxChainedFreezes {
		next, ok := freezeContaining(freezes, hit.Until)
		if !ok {
			break
		}
		hit.Until = next.End
	}
	return hit, true
}

// freezeContaining is the earliest-starting occurrence of any freeze holding t,
// with the latest end among those that start then.
func freezeContaining(freezes []Freeze, t time.Time) (FreezePeriod, bool) {
	var best FreezePeriod
	found := false
	for _, f := range freezes {
		p, ok := f.occurrence(t)
		if !ok {
			continue
		}
		if !found || p.Start.Before(best.Start) || (p.Start.Equal(best.Start) && p.End.After(best.End)) {
			best, found = p, true
		}
	}
	return best, found
}

// occurrence is the period of f that holds t, if any.
func (f Freeze) occurrence(t time.Time) (FreezePeriod, bool) {
	var found FreezePeriod
	ok := false
	f.periods(t, t, func(p FreezePeriod) bool {
		found, ok = p, p.Contains(t)
		return !ok
	})
	return found, ok
}

// periods calls each, by start, with the occurrences of f that may overlap
// [from, to] (starting at or before to, ending after from; a one-off freeze
// has one), until each returns false. An unreadable freeze has none.
func (f Freeze) periods(from, to time.Time, each func(FreezePeriod) bool) {
	loc, err := freezeZone(f.TimeZone)
	if err != nil {
		return
	}
	near := func(p FreezePeriod) bool { return !p.Start.After(to) && p.End.After(from) }
	if !f.Weekly() {
		start, err1 := parseFreezeTime(f.Start, loc)
		end, err2 := parseFreezeTime(f.End, loc)
		if p := (FreezePeriod{Name: f.Name, Reason: f.Reason, Start: start, End: end}); err1 == nil && err2 == nil && near(p) {
			each(p)
		}
		return
	}
	fromMin, err1 := parseClock(f.From)
	toMin, err2 := parseClock(f.To)
	if err1 != nil || err2 != nil {
		return
	}
	// From the day before from: a window that began then and runs past
	// midnight may reach into the span.
	y, m, d := from.In(loc).Date()
	ty, tm, td := to.In(loc).Date()
	last := time.Date(ty, tm, td, 12, 0, 0, 0, loc)
	for day := time.Date(y, m, d-1, 12, 0, 0, 0, loc); !day.After(last); day = day.AddDate(0, 0, 1) {
		if !slices.Contains(f.Days, Weekdays[day.Weekday()]) {
			continue
		}
		dy, dm, dd := day.Date()
		endDay := dd
		if toMin <= fromMin {
			endDay++
		}
		// time.Date counts wall-clock minutes in loc, so 22:00-06:00 stays
		// 22:00-06:00 on the night the clocks change (8 or 10 hours long).
		p := FreezePeriod{Name: f.Name, Reason: f.Reason,
			Start: time.Date(dy, dm, dd, 0, fromMin, 0, 0, loc), End: time.Date(dy, dm, endDay, 0, toMin, 0, 0, loc)}
		if near(p) && !each(p) {
			return
		}
	}
}

// maxListedFreezes bounds FreezesBetween: a weekly freeze over a long span lists
// at most this many occurrences.
const maxListedFreezes = 100

// FreezesBetween lists the occurrences of the freezes that overlap [from, to),
// by start (at most maxListedFreezes): what golive plan shows between now and
// the end of the deployment window, since a release waits inside any of them
// before its code freeze, migrations and deploy.
func FreezesBetween(freezes []Freeze, from, to time.Time) []FreezePeriod {
	var out []FreezePeriod
	for _, f := range freezes {
		f.periods(from, to, func(p FreezePeriod) bool {
			if p.Start.Before(to) {
				out = append(out, p)
			}
			return len(out) < maxListedFreezes
		})
	}
	slices.SortStableFunc(out, func(a, b FreezePeriod) int { return a.Start.Compare(b.Start) })
	if len(out) > maxListedFreezes {
		out = out[:maxListedFreezes]
	}
	return out
}

// freezeZone loads a freeze's IANA zone; "Local" is refused, as it would mean
// whatever machine reads the spec.
func freezeZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("want an IANA time zone such as America/New_York or UTC, got %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (want an IANA name such as America/New_York or UTC)", name)
	}
	return loc, nil
}

// freezeLayouts are how a one-off freeze writes its start and end.
var freezeLayouts = []string{"2006-01-02T15:04", "2006-01-02"}

func parseFreezeTime(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range freezeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a date (2026-12-24) or a date and time (2026-12-24T18:00) in the freeze's time zone, got %q", s)
}

// parseClock reads HH:MM (00:00 to 24:00) as minutes after midnight.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || mm < 0 || hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("want a time of day HH:MM from 00:00 to 24:00, got %q", s)
	}
	return hh*60 + mm, nil
}

// freezes checks the freeze list: a name, a reason, a real zone, and either a
// one-off period that ends after it starts or a weekly window on known days.
func (c *checker) freezes() {
	names := map[string]int{}
	for i, f := range c.s.Freeze {
		path := fmt.Sprintf("freeze[%d]", i)
		c.name(path+".name", f.Name, "refusals and the plan name the freeze")
		if j, dup := names[f.Name]; dup && f.Name != "" {
			c.add(path+".name", "%q is also the name of freeze[%d]", f.Name, j)
		}
		names[f.Name] = i
		c.required(path+".reason", f.Reason, "every refusal quotes it")
		loc, err := freezeZone(f.TimeZone)
		if err != nil {
			c.add(path+".time_zone", "%v", err)
		}
		oneOff := f.Start != "" || f.End != ""
		switch {
		case oneOff && f.Weekly():
			c.add(path, "give start and end (a one-off freeze) or days, from and to (a weekly one), not both")
		case f.Weekly():
			c.weeklyFreeze(path, f)
		case !oneOff:
			c.add(path, "give start and end (a one-off freeze) or days, from and to (a weekly one)")
		default:
			if loc == nil {
				loc = time.UTC // still check how start and end are written
			}
			c.oneOffFreeze(path, f, loc)
		}
	}
}

func (c *checker) oneOffFreeze(path string, f Freeze, loc *time.Location) {
	var start, end time.Time
	var bad bool
	for _, p := range []struct {
		key string
		v   string
		t   *time.Time
	}{{"start", f.Start, &start}, {"end", f.End, &end}} {
		if !c.required(path+"."+p.key, p.v, "a one-off freeze has a start and an end") {
			bad = true
			continue
		}
		t, err := parseFreezeTime(p.v, loc)
		if err != nil {
			c.add(path+"."+p.key, "%v", err)
			bad = true
		}
		*p.t = t
	}
	if !bad && !end.After(start) {
		c.add(path+".end", "%s is not after start %s", f.End, f.Start)
	}
}

func (c *checker) weeklyFreeze(path string, f Freeze) {
	if len(f.Days) == 0 {
		c.add(path+".days", "is required (a weekly freeze names its days: %s)", joinWeekdays())
	}
	seen := map[Weekday]bool{}
	for j, d := range f.Days {
		switch {
		case !slices.Contains(Weekdays, d):
			c.add(fmt.Sprintf("%s.days[%d]", path, j), "unknown day %q (want one of %s)", d, joinWeekdays())
		case seen[d]:
			c.add(fmt.Sprintf("%s.days[%d]", path, j), "%s is listed twice", d)
		}
		seen[d] = true
	}
	for _, p := range []struct{ key, v string }{{"from", f.From}, {"to", f.To}} {
		if !c.required(path+"."+p.key, p.v, "a weekly freeze has a from and a to time of day") {
			continue
		}
		if _, err := parseClock(p.v); err != nil {
			c.add(path+"."+p.key, "%v", err)
		}
	}
}

func joinWeekdays() string {
	s := make([]string, len(Weekdays))
	for i, d := range Weekdays {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
}
