// Package evidence renders the release record as the filled checklist: every
// item with who, when and which value, the sign-off blocks, metric readings
// (charted in HTML), alerts, the rollback record and the audit chain head, as
// Markdown and as a self-contained HTML page that prints to PDF.
package evidence

import (
	"fmt"
	"strings"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// Markdown renders the filled checklist.
func Markdown(st record.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Release %s %s → %s\n\n", st.Service, st.Environment, st.Version)
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, cell(v))
		}
	}
	for _, f := range facts(st) {
		row(f.key, f.value)
	}
	if h := auditHead(st); isHash(h) {
		fmt.Fprintf(&b, "\nAudit chain head: `%s`\n", h)
	} else {
		fmt.Fprintf(&b, "\nAudit chain head: %s\n", h)
	}

	for _, g := range groupItems(st.Items) {
		fmt.Fprintf(&b, "\n## %s\n\n_%s_\n", StageTitle(g.stage), g.counts())
		for _, sec := range g.sections {
			if sec.title != "" && sec.title != StageTitle(g.stage) {
				fmt.Fprintf(&b, "\n### %s\n", sec.title)
			}
			b.WriteString("\n")
			for _, it := range sec.items {
				writeItemMD(&b, it)
			}
		}
	}
	writeDecisions(&b, st)
	writeSignoffs(&b, st)
	writeIdentity(&b, st)
	writeReadings(&b, st)
	writeAlerts(&b, st)
	writeNotices(&b, st)
	writeRollback(&b, st)
	return b.String()
}

// fact is one line of the release summary.
type fact struct{ key, value string }

// facts are the summary lines of a release, empty values included (callers skip them).
func facts(st record.Status) []fact {
	spec := strings.TrimSpace(st.SpecFile + " " + short(st.SpecDigest))
	return []fact{
		{"Release", st.ReleaseID},
		{"Service / environment", strings.TrimSpace(st.Service + " / " + st.Environment)},
		{"Version", st.Version},
		{"Outcome", outcomeText(st.Outcome)},
		{"Reason", oneLine(st.Reason)},
		{"Requested by", RequesterText(st)},
		{"Team directory", DirectoryText(st)},
		{"Previous version", st.PreviousVersion},
		{"Live version", st.LiveVersion},
		{"Started", stamp(st.StartedAt)},
		{"Window (T-0)", stamp(st.Window)},
		{"Deployed at", stamp(st.DeployAt)},
		{"Spec", spec},
		{"Evidence file", st.Evidence},
	}
}

func writeItemMD(b *strings.Builder, it record.Item) {
	fmt.Fprintf(b, "- %s %s", render.Box(it.State), it.Title)
	var facts []string
	if it.Value != "" {
		facts = append(facts, oneLine(it.Value))
	}
	if it.Actor != "" {
		facts = append(facts, "by "+it.Actor)
	}
	if !it.At.IsZero() {
		facts = append(facts, stamp(it.At))
	}
	if it.State != record.ItemPassed {
		facts = append(facts, string(it.State))
	}
	if it.Optional {
		facts = append(facts, "optional")
	}
	if len(facts) > 0 {
		fmt.Fprintf(b, " — %s", strings.Join(facts, ", "))
	}
	if it.Detail != "" && it.State != record.ItemPassed {
		fmt.Fprintf(b, "\n  - %s", oneLine(it.Detail))
	}
	for _, a := range AttemptLines(it) {
		fmt.Fprintf(b, "\n  - %s", a)
	}
	b.WriteString("\n")
}

// AttemptLines are an item's earlier runs, one line each ("attempt 1 failed
// 2026-12-08 14:00:05 UTC: appointments: HTTP 503").
func AttemptLines(it record.Item) []string {
	out := make([]string, len(it.Attempts))
	for i, a := range it.Attempts {
		line := fmt.Sprintf("attempt %d %s %s", i+1, a.State, stamp(a.At))
		if d := strings.TrimSpace(a.Value + " " + oneLine(a.Detail)); d != "" {
			line += ": " + d
		}
		out[i] = line
	}
	return out
}

// writeDecisions lists the decisions on failed steps and the freeze overrides.
func writeDecisions(b *strings.Builder, st record.Status) {
	if len(st.Decisions) == 0 && len(st.FreezeOverrides) == 0 {
		return
	}
	b.WriteString("\n## Decisions on failed steps and freezes\n\n")
	for _, d := range DecisionLines(st) {
		fmt.Fprintf(b, "- %s\n", d)
	}
}

// DecisionLines say, one line each, what people (or golive, at a decision
// timeout) decided on each failed step, and who overrode which freeze.
func DecisionLines(st record.Status) []string {
	var out []string
	for _, d := range st.Decisions {
		line := fmt.Sprintf("%s %s: %s (attempt %d) by %s", stamp(d.At), d.Step, d.Choice, d.Attempt, strings.Join(d.By, " and "))
		if len(d.Items) > 0 {
			line += ", items " + strings.Join(d.Items, ", ")
		}
		if d.Reason != "" {
			line += ": " + oneLine(d.Reason)
		}
		out = append(out, line)
	}
	for _, o := range st.FreezeOverrides {
		var by []string
		for _, c := range o.By {
			by = append(by, c.Person+" ("+oneLine(c.Reason)+")")
		}
		state := "overridden " + stamp(o.Granted)
		if o.Granted.IsZero() {
			state = "not overridden (one consent of two)"
		}
		out = append(out, fmt.Sprintf("freeze %s %s by %s", o.Freeze, state, strings.Join(by, " and ")))
	}
	return out
}

func writeSignoffs(b *strings.Builder, st record.Status) {
	b.WriteString("\n## Sign-offs\n")
	names, by := blocks(st.Slots)
	for _, block := range names {
		fmt.Fprintf(b, "\n**%s:**\n\n", BlockTitle(block))
		for _, sl := range by[block] {
			if len(sl.By) == 0 {
				fmt.Fprintf(b, "- [ ] %s: _________________ Date: _______ (%s)\n", sl.Title, sl.State)
				continue
			}
			for _, s := range sl.By {
				mark := "[x]"
				if s.Decision != "approve" {
					mark = "[!]"
				}
				fmt.Fprintf(b, "- %s %s: %s Date: %s, %s", mark, sl.Title, personName(s), stamp(s.At), decisionText(s.Decision))
				if s.Signed {
					b.WriteString(", signature verified")
				}
				if s.Comment != "" {
					fmt.Fprintf(b, " — %q", oneLine(s.Comment))
				}
				b.WriteString("\n")
			}
		}
	}
	if len(st.Refused) > 0 {
		b.WriteString("\n**Refused inputs:**\n\n")
		for _, r := range st.Refused {
			fmt.Fprintf(b, "- %s %s %s by %s %s: %s\n", stamp(r.At), r.Input, strings.TrimSpace(string(r.Channel)+" "+RefusalTimes(r)), r.Person, r.Slot, oneLine(r.Reason))
		}
	}
}

func writeReadings(b *strings.Builder, st record.Status) {
	metrics := metricNames(st)
	if len(metrics) == 0 {
		return
	}
	b.WriteString("\n## Metric readings\n\n| window | check | offset | phase |")
	for _, m := range metrics {
		fmt.Fprintf(b, " %s |", cell(m))
	}
	b.WriteString(" verdict |\n|---|---|---|---|")
	b.WriteString(strings.Repeat("---|", len(metrics)+1))
	b.WriteString("\n")
	line := func(window, index, offset, phase string, rs []record.Reading, verdict string) {
		fmt.Fprintf(b, "| %s | %s | %s | %s |", cell(window), index, offset, cell(phase))
		for _, m := range metrics {
			if r, ok := readingOf(rs, m); ok {
				fmt.Fprintf(b, " %s |", cell(readingText(r)))
			} else {
				b.WriteString(" - |")
			}
		}
		fmt.Fprintf(b, " %s |\n", verdict)
	}
	if len(st.Baseline) > 0 {
		line("baseline", "-", "-", "before deploy", st.Baseline, "-")
	}
	for _, c := range st.Checks {
		line(c.Window, fmt.Sprint(c.Index), "+"+c.Offset.String(), c.Phase, c.Readings, string(c.Worst))
	}
	if len(st.Compare) > 0 {
		b.WriteString("\n**Pre/post comparison**\n\n| metric | baseline | after (mean) | regression |\n|---|---|---|---|\n")
		for _, c := range st.Compare {
			fmt.Fprintf(b, "| %s | %s%s | %s%s | %s |\n", cell(c.Metric), num(c.Baseline), c.Unit, num(c.After), c.Unit, yesNo(c.Regression))
		}
	}
}

func writeAlerts(b *strings.Builder, st record.Status) {
	if len(st.Alerts) == 0 {
		return
	}
	b.WriteString("\n## Alerts and escalation\n\n")
	for _, a := range st.Alerts {
		ack := "not acknowledged"
		if a.AckedBy != "" {
			ack = "acknowledged by " + a.AckedBy + " " + stamp(a.AckedAt)
		}
		fmt.Fprintf(b, "- %s level %d, raised %s, sent %d time(s), %s: %s\n", a.ID, a.Level, stamp(a.RaisedAt), a.Sent, ack, oneLine(a.Reason))
	}
}

func writeRollback(b *strings.Builder, st record.Status) {
	if st.Rollback == nil {
		return
	}
	rb := st.Rollback
	fmt.Fprintf(b, "\n## Rollback record\n\n- Trigger: %s\n- Decided by: %s at %s\n- Reverted to: %s\n- Completed: %s\n",
		oneLine(rb.Trigger), rb.By, stamp(rb.At), st.PreviousVersion, yesNo(rb.Completed))
	if rb.Frozen {
		b.WriteString("- Database rollback blocked: schema frozen, escalated\n")
	}
	if rb.Error != "" {
		fmt.Fprintf(b, "- Errors: %s\n", oneLine(rb.Error))
	}
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// Incident renders the incident record (post-mortem skeleton) of a rollback.
func Incident(st record.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Incident: rollback of %s %s %s\n\n", st.Service, st.Environment, st.Version)
	if st.Rollback != nil {
		fmt.Fprintf(&b, "- Trigger: %s\n- Decided by: %s at %s\n", oneLine(st.Rollback.Trigger), st.Rollback.By, stamp(st.Rollback.At))
	}
	fmt.Fprintf(&b, "- Deployed at: %s\n- Previous version: %s\n\n", stamp(st.DeployAt), st.PreviousVersion)
	b.WriteString("## Timeline\n\n")
	for _, it := range st.Items {
		if !it.At.IsZero() && (it.Stage == record.StageDeploy || it.Stage == record.StageRollback || it.Stage == record.StagePostDeploy) {
			fmt.Fprintf(&b, "- %s %s: %s %s\n", stamp(it.At), it.Title, it.State, oneLine(it.Value))
		}
	}
	b.WriteString("\n## Root cause\n\n_to be completed_\n\n## Post-rollback actions\n\n")
	for _, it := range st.Items {
		if it.Stage == record.StageRollback && it.Mode == record.ModeAttest {
			fmt.Fprintf(&b, "- [ ] %s (%s)\n", it.Title, it.Role)
		}
	}
	return b.String()
}
