// Package evidence renders the release record as the filled checklist: every
// item with who, when and which value, the sign-off blocks, readings, alerts and
// the rollback record, as Markdown and as a self-contained HTML page.
package evidence

import (
	"fmt"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
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
	row("Release", st.ReleaseID)
	row("Outcome", string(st.Outcome))
	row("Reason", st.Reason)
	row("Requested by", st.Requester)
	row("Previous version", st.PreviousVersion)
	row("Live version", st.LiveVersion)
	row("Window (T-0)", stamp(st.Window))
	row("Deployed at", stamp(st.DeployAt))
	row("Spec", strings.TrimSpace(st.SpecFile+" "+short(st.SpecDigest)))
	b.WriteString("\n")

	stage := record.Stage("")
	section := ""
	for _, it := range st.Items {
		if it.Stage != stage {
			stage, section = it.Stage, ""
			fmt.Fprintf(&b, "\n## %s\n", StageTitle(stage))
		}
		if it.Section != section {
			section = it.Section
			fmt.Fprintf(&b, "\n### %s\n\n", section)
		}
		fmt.Fprintf(&b, "- %s %s", Box(it.State), it.Title)
		var facts []string
		if it.Value != "" {
			facts = append(facts, it.Value)
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
		if len(facts) > 0 {
			fmt.Fprintf(&b, " — %s", strings.Join(facts, ", "))
		}
		if it.Detail != "" && it.State != record.ItemPassed {
			fmt.Fprintf(&b, "\n  - %s", oneLine(it.Detail))
		}
		b.WriteString("\n")
	}
	writeSignoffs(&b, st)
	writeReadings(&b, st)
	writeAlerts(&b, st)
	writeRollback(&b, st)
	return b.String()
}

func writeSignoffs(b *strings.Builder, st record.Status) {
	b.WriteString("\n## Sign-offs\n")
	block := ""
	for _, sl := range st.Slots {
		if sl.Block != block {
			block = sl.Block
			fmt.Fprintf(b, "\n**%s**\n\n", BlockTitle(block))
		}
		if len(sl.By) == 0 {
			fmt.Fprintf(b, "- [ ] %s: _________________ (%s)\n", sl.Title, sl.State)
			continue
		}
		for _, by := range sl.By {
			mark := "[x]"
			if by.Decision != "approve" {
				mark = "[!] rejected:"
			}
			signed := ""
			if by.Signed {
				signed = ", signed"
			}
			fmt.Fprintf(b, "- %s %s: %s (%s) Date: %s%s", mark, sl.Title, by.Name, by.Person, stamp(by.At), signed)
			if by.Comment != "" {
				fmt.Fprintf(b, " — %q", by.Comment)
			}
			b.WriteString("\n")
		}
	}
	if len(st.Refused) > 0 {
		b.WriteString("\n**Refused inputs**\n\n")
		for _, r := range st.Refused {
			fmt.Fprintf(b, "- %s %s by %s %s: %s\n", stamp(r.At), r.Input, r.Person, r.Slot, r.Reason)
		}
	}
}

func writeReadings(b *strings.Builder, st record.Status) {
	if len(st.Baseline) == 0 && len(st.Checks) == 0 {
		return
	}
	b.WriteString("\n## Metric readings\n\n| window | check | offset | phase | readings | verdict |\n|---|---|---|---|---|---|\n")
	if len(st.Baseline) > 0 {
		fmt.Fprintf(b, "| baseline | - | - | before deploy | %s | - |\n", cell(readingList(st.Baseline)))
	}
	for _, c := range st.Checks {
		fmt.Fprintf(b, "| %s | %d | +%s | %s | %s | %s |\n", c.Window, c.Index, c.Offset, c.Phase, cell(readingList(c.Readings)), c.Worst)
	}
	if len(st.Compare) > 0 {
		b.WriteString("\n**Pre/post comparison**\n\n| metric | baseline | after (mean) | regression |\n|---|---|---|---|\n")
		for _, c := range st.Compare {
			fmt.Fprintf(b, "| %s | %.3g%s | %.3g%s | %v |\n", c.Metric, c.Baseline, c.Unit, c.After, c.Unit, c.Regression)
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
	fmt.Fprintf(b, "\n## Rollback record\n\n- Trigger: %s\n- Decided by: %s at %s\n- Completed: %v\n", oneLine(rb.Trigger), rb.By, stamp(rb.At), rb.Completed)
	if rb.Frozen {
		b.WriteString("- Database rollback blocked: schema frozen, escalated\n")
	}
	if rb.Error != "" {
		fmt.Fprintf(b, "- Errors: %s\n", oneLine(rb.Error))
	}
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

// Box renders an item state as a checklist box.
func Box(s record.ItemState) string {
	switch s {
	case record.ItemPassed:
		return "[x]"
	case record.ItemFailed:
		return "[!]"
	case record.ItemUnavailable:
		return "[?]"
	case record.ItemSkipped:
		return "[-]"
	}
	return "[ ]"
}

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

func readingList(rs []record.Reading) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.Verdict == record.VerdictUnavailable {
			parts = append(parts, r.Metric+" n/a")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %.3g%s", r.Metric, r.Value, r.Unit))
	}
	return strings.Join(parts, ", ")
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
