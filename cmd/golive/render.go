package main

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflow/v1"

	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// renderStatus draws a release for a terminal. compact hides finished stages' items.
// Deadlines show in loc and UTC.
func renderStatus(st record.Status, compact bool, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s %s → %s  (previous %s, live %s)\n", st.ReleaseID, st.Service, st.Environment, st.Version, dash(st.PreviousVersion), dash(st.LiveVersion))
	fmt.Fprintf(&b, "stage %s · outcome %s · requested by %s · T-0 %s\n", st.Stage, st.Outcome, evidence.RequesterText(st), st.Window.UTC().Format(time.RFC3339))
	if d := evidence.DirectoryText(st); d != "" {
		fmt.Fprintf(&b, "team directory %s\n", d)
	}
	if st.Held {
		fmt.Fprintf(&b, "HELD by %s\n", st.HeldBy)
	}
	if w := waitText(st, loc); w != "" {
		fmt.Fprintf(&b, "waiting for %s\n", w)
	}
	writeFailure(&b, st, loc)
	if st.Reason != "" {
		fmt.Fprintf(&b, "reason: %s\n", st.Reason)
	}
	stage := record.Stage("")
	for _, it := range st.Items {
		if compact && it.Stage != st.Stage && it.State.Done() && it.State == record.ItemPassed {
			continue
		}
		if it.Stage != stage {
			stage = it.Stage
			fmt.Fprintf(&b, "\n%s\n", evidence.StageTitle(stage))
		}
		line := fmt.Sprintf("  %s %-28s %s", render.Box(it.State), it.ID, it.Title)
		if it.Value != "" {
			line += " — " + it.Value
		}
		if it.Actor != "" && it.Actor != "golive" {
			line += " (" + it.Actor + ")"
		}
		b.WriteString(line + "\n")
		if it.Detail != "" && (it.State == record.ItemFailed || it.State == record.ItemUnavailable) {
			fmt.Fprintf(&b, "      %s\n", truncate(it.Detail, 160))
		}
	}
	b.WriteString("\nSign-offs\n")
	for _, sl := range st.Slots {
		who := ""
		for _, by := range sl.By {
			who += fmt.Sprintf(" %s(%s %s)", by.Person, by.Decision, by.At.UTC().Format("15:04:05"))
		}
		fmt.Fprintf(&b, "  %s %-11s %-20s %s%s\n", render.Box(sl.State), sl.Block, sl.ID, sl.State, who)
	}
	if n := len(st.Checks); n > 0 {
		last := st.Checks[n-1]
		fmt.Fprintf(&b, "\nWatch: %d check(s); last %s #%d at +%s (%s): %s\n", n, last.Window, last.Index, last.Offset, last.Worst, render.Readings(last.Readings))
	}
	for _, a := range st.Alerts {
		state := "OPEN"
		if a.AckedBy != "" {
			state = "acked by " + a.AckedBy
		}
		fmt.Fprintf(&b, "alert %s level %d %s: %s\n", a.ID, a.Level, state, truncate(a.Reason, 120))
	}
	if len(st.Notices) > 0 {
		ok, bad := evidence.NoticeCounts(st.Notices)
		fmt.Fprintf(&b, "\nNotifications: %d delivered, %d failed\n", ok, bad)
		for _, n := range st.Notices {
			if !n.OK {
				fmt.Fprintf(&b, "  ✗ %s %s to %s by %s: %s\n", n.At.UTC().Format("15:04:05"), n.Event, n.Person, dash(n.Channel), truncate(evidence.NoticeResult(n), 120))
			}
		}
	}
	if st.RefusedTotal > len(st.Refused) {
		fmt.Fprintf(&b, "\n%d inputs refused (repeats counted):\n", st.RefusedTotal)
	}
	for _, r := range st.Refused {
		fmt.Fprintf(&b, "refused %s %s %s by %s: %s\n", r.At.UTC().Format("15:04:05"), r.Input, strings.TrimSpace(string(r.Channel)+" "+evidence.RefusalTimes(r)), dash(r.Person), truncate(r.Reason, 200))
	}
	if rb := st.Rollback; rb != nil {
		fmt.Fprintf(&b, "\nRollback by %s: %s (completed %v, frozen %v) %s\n", rb.By, truncate(rb.Trigger, 120), rb.Completed, rb.Frozen, rb.Error)
	}
	if st.Evidence != "" {
		fmt.Fprintf(&b, "\nevidence: %s\n", st.Evidence)
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// truncate puts s on one line and shortens it to n bytes (render.Truncate).
func truncate(s string, n int) string {
	return render.Truncate(strings.Join(strings.Fields(s), " "), n)
}

// keyword reads a Keyword search attribute from a listed execution.
func keyword(e *workflow.WorkflowExecutionInfo, name string) string {
	p := e.GetSearchAttributes().GetIndexedFields()[name]
	if p == nil {
		return ""
	}
	return payloadString(p)
}

func payloadString(p *common.Payload) string {
	s := strings.Trim(string(p.GetData()), `"`)
	return s
}

// waitText is what the release waits for, with its deadline in loc and UTC ("" when it is working).
func waitText(st record.Status, loc *time.Location) string {
	if st.Waiting == nil {
		return ""
	}
	return render.Wait(*st.Waiting, loc)
}

// writeFailure shows a failed step that waits for a decision: what failed,
// until when, and what each choice would do.
func writeFailure(b *strings.Builder, st record.Status, loc *time.Location) {
	f := st.Failure
	if f == nil {
		return
	}
	fmt.Fprintf(b, "FAILED step %s (attempt %d) at %s: %s\n", f.Step, f.Attempt, render.When(f.Since, loc), truncate(f.Error, 200))
	fmt.Fprintf(b, "  items: %s; without a decision by %s golive takes %s\n", strings.Join(f.Items, ", "), render.When(f.Deadline, loc), f.OnTimeout)
	for _, o := range f.Options {
		fmt.Fprintf(b, "  %-8s %s\n           %s\n", o.Choice, o.Command, o.Effect)
	}
	for _, c := range f.Skips {
		fmt.Fprintf(b, "  skip of %s consented by %s at %s: %s\n", c.Item, c.Person, render.When(c.At, loc), truncate(c.Reason, 120))
	}
}
