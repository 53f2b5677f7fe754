// Package render is how golive shows a release to people, in one place: the
// checklist box and the terminal mark of an item state, the colour of a
// verdict, the one-line summary of a set of readings, and truncation. The
// workflows (the Temporal UI's current details), the evidence (Markdown,
// HTML, charts) and the CLI all use it, so they never drift apart.
//
// Everything here is pure and deterministic, so workflow code may call it.
package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
)

// look is how one item (or slot) state shows: its Markdown checklist box,
// its terminal mark and its CSS class on the approval pages.
type look struct{ box, mark, class string }

var looks = map[record.ItemState]look{
	record.ItemPassed:      {"[x]", "✔", "pass"},
	record.ItemFailed:      {"[!]", "✘", "fail"},
	record.ItemUnavailable: {"[?]", "?", "fail"},
	record.ItemSkipped:     {"[-]", "-", "none"},
	record.ItemWaiting:     {"[…]", "-", "wait"},
	record.ItemRunning:     {"[…]", "-", "none"},
}

// pending is the look of a state not (yet) in looks: pending.
var pending = look{"[ ]", "-", "none"}

func lookOf(s record.ItemState) look {
	if l, ok := looks[s]; ok {
		return l
	}
	return pending
}

// Box renders an item or slot state as a Markdown checklist box.
func Box(s record.ItemState) string { return lookOf(s).box }

// Mark renders an item state as a single terminal glyph.
func Mark(s record.ItemState) string { return lookOf(s).mark }

// Class is the CSS class of an item state: fail, pass, wait or none.
func Class(s record.ItemState) string { return lookOf(s).class }

// VerdictColor is the colour of a reading's verdict, in charts and tables.
func VerdictColor(v record.Verdict) string {
	switch v {
	case record.VerdictOK:
		return "#1a7f37"
	case record.VerdictTargetMissed:
		return "#b26b00"
	case record.VerdictInconclusive:
		return "#8250df"
	case record.VerdictCritical:
		return "#d4380d"
	case record.VerdictRollback:
		return "#b00020"
	}
	return "#6e7781"
}

// Readings summarises readings on one line: "error_rate 0.2% · latency_p95 12ms".
func Readings(rs []record.Reading) string {
	parts := make([]string, 0, len(rs))
	for _, rd := range rs {
		if rd.Verdict == record.VerdictUnavailable {
			parts = append(parts, rd.Metric+" unavailable")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.3g%s", rd.Metric, rd.Value, rd.Unit))
	}
	return strings.Join(parts, " · ")
}

// Count is a number with its noun: "1 table", "2 tables".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Truncate shortens s to at most n bytes, never inside a character, ending in
// "…" when cut; invalid UTF-8 in what is kept is dropped.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Wait says what a release waits for and until when, the deadline in loc and
// in UTC ("until Tue 2026-12-08 09:00 EST (14:00 UTC); then ...").
func Wait(w record.Wait, loc *time.Location) string {
	s := w.For
	if w.Until.IsZero() {
		if w.Kind == record.WaitHold {
			s += " (no deadline)"
		}
		return s
	}
	s += " until " + When(w.Until, loc)
	if w.Then != "" {
		s += "; then " + w.Then
	}
	return s
}

// When is a moment in loc and in UTC: "Tue 2026-12-08 09:00:00 EST (14:00:00 UTC)";
// in UTC alone when loc is UTC.
func When(t time.Time, loc *time.Location) string {
	utc := t.UTC()
	if loc == nil || loc == time.UTC || loc.String() == "UTC" {
		return utc.Format("Mon 2006-01-02 15:04:05 UTC")
	}
	local := t.In(loc)
	if local.Format("2006-01-02") == utc.Format("2006-01-02") {
		return local.Format("Mon 2006-01-02 15:04:05 MST") + " (" + utc.Format("15:04:05 UTC") + ")"
	}
	return local.Format("Mon 2006-01-02 15:04:05 MST") + " (" + utc.Format("Mon 15:04:05 UTC") + ")"
}
