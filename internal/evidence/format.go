package evidence

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
)

// StageTitle is the checklist section a stage encodes.
func StageTitle(s record.Stage) string {
	for _, st := range record.Stages {
		if st.Stage == s {
			return st.Title
		}
	}
	return string(s)
}

// BlockTitle is the checklist's heading of a sign-off block.
func BlockTitle(block string) string {
	switch block {
	case "approvals":
		return "Deployment Approved By"
	case "completion":
		return "Deployment Completed By"
	case "review":
		return "Post-Deployment Sign-off"
	}
	return block
}

// stageGroup is one stage's items, split into the checklist's sections.
type stageGroup struct {
	stage    record.Stage
	sections []sectionGroup
}

// sectionGroup is the items of one section ("" when the stage has no sections).
type sectionGroup struct {
	title string
	items []record.Item
}

// counts tallies item states.
type counts struct{ total, passed, failed, unavailable, skipped, open int }

func (c *counts) add(it record.Item) {
	c.total++
	switch it.State {
	case record.ItemPassed:
		c.passed++
	case record.ItemFailed:
		c.failed++
	case record.ItemUnavailable:
		c.unavailable++
	case record.ItemSkipped:
		c.skipped++
	default:
		c.open++
	}
}

// String reads as "12 of 14 passed · 1 failed · 1 not available".
func (c counts) String() string {
	parts := []string{fmt.Sprintf("%d of %d passed", c.passed, c.total)}
	for _, p := range []struct {
		n    int
		text string
	}{{c.failed, "failed"}, {c.unavailable, "not available"}, {c.skipped, "skipped"}, {c.open, "open"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.text))
		}
	}
	return strings.Join(parts, " · ")
}

func (g stageGroup) counts() counts {
	var c counts
	for _, s := range g.sections {
		for _, it := range s.items {
			c.add(it)
		}
	}
	return c
}

// groupItems orders items by lifecycle stage (record.Stages; unknown stages
// last, in order of appearance), then by section in order of first appearance,
// keeping the record's order within a section.
func groupItems(items []record.Item) []stageGroup {
	rank := map[record.Stage]int{}
	for i, s := range record.Stages {
		rank[s.Stage] = i
	}
	var order []record.Stage
	byStage := map[record.Stage][]record.Item{}
	for _, it := range items {
		if _, ok := byStage[it.Stage]; !ok {
			order = append(order, it.Stage)
		}
		byStage[it.Stage] = append(byStage[it.Stage], it)
	}
	// Stable insertion sort by rank: few stages.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && stageRank(rank, order[j]) < stageRank(rank, order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	groups := make([]stageGroup, 0, len(order))
	for _, s := range order {
		g := stageGroup{stage: s}
		idx := map[string]int{}
		for _, it := range byStage[s] {
			i, ok := idx[it.Section]
			if !ok {
				i = len(g.sections)
				idx[it.Section] = i
				g.sections = append(g.sections, sectionGroup{title: it.Section})
			}
			g.sections[i].items = append(g.sections[i].items, it)
		}
		groups = append(groups, g)
	}
	return groups
}

func stageRank(rank map[record.Stage]int, s record.Stage) int {
	if r, ok := rank[s]; ok {
		return r
	}
	return len(rank)
}

// blocks lists the sign-off blocks in the order of the record, each with its slots.
func blocks(slots []record.SlotState) (names []string, by map[string][]record.SlotState) {
	by = map[string][]record.SlotState{}
	for _, sl := range slots {
		if _, ok := by[sl.Block]; !ok {
			names = append(names, sl.Block)
		}
		by[sl.Block] = append(by[sl.Block], sl)
	}
	return names, by
}

// metricNames lists the metrics of the baseline and the checks in order of first appearance.
func metricNames(st record.Status) []string {
	seen := map[string]bool{}
	var names []string
	add := func(rs []record.Reading) {
		for _, r := range rs {
			if !seen[r.Metric] {
				seen[r.Metric] = true
				names = append(names, r.Metric)
			}
		}
	}
	add(st.Baseline)
	for _, c := range st.Checks {
		add(c.Readings)
	}
	return names
}

// readingOf finds the reading of metric in rs.
func readingOf(rs []record.Reading, metric string) (record.Reading, bool) {
	for _, r := range rs {
		if r.Metric == metric {
			return r, true
		}
	}
	return record.Reading{}, false
}

// readingText is one reading as "4.36ms", or "n/a" when it could not be measured.
func readingText(r record.Reading) string {
	if r.Verdict == record.VerdictUnavailable {
		return "n/a"
	}
	s := num(r.Value) + r.Unit
	if r.DryRun {
		s += " (dry run)"
	}
	return s
}

func readingList(rs []record.Reading) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, r.Metric+" "+readingText(r))
	}
	return strings.Join(parts, ", ")
}

// num formats a measured value with a sensible number of digits.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case a == 0:
		return "0"
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
	case a >= 0.01:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	}
	return strconv.FormatFloat(v, 'g', 2, 64)
}

// trimZeros drops trailing zeros after a decimal point ("310.0" -> "310").
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func short(d string) string {
	if len(d) > 12 {
		return "sha256:" + d[:12]
	}
	return d
}

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// auditHead is the audit chain head line's value.
func auditHead(st record.Status) string {
	if st.AuditHead == "" {
		return "not recorded (no audit ledger configured for this release)"
	}
	return st.AuditHead
}

// isHash reports whether s is a hex SHA-256 (an audit chain head, as opposed to a note why there is none).
func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// personName is "Alice Adams (alice)", or the ID alone when the name is unknown.
func personName(by record.SignedBy) string {
	if by.Name == "" || by.Name == by.Person {
		return by.Person
	}
	return by.Name + " (" + by.Person + ")"
}

// decisionText reads a sign-off decision.
func decisionText(d string) string {
	switch d {
	case "approve":
		return "approved"
	case "reject":
		return "rejected"
	}
	return d
}

// outcomeText reads an outcome for people.
func outcomeText(o record.Outcome) string { return strings.ReplaceAll(string(o), "_", " ") }
