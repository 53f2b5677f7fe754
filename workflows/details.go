package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// publish refreshes the UI's "current details" with the checklist as it stands.
func (r *release) publish(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, currentDetails(&r.st))
}

// currentDetails renders the release as Markdown for the Temporal UI.
func currentDetails(st *record.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s %s → %s** · stage **%s** · %s\n\n", st.Service, st.Environment, st.Version, st.Stage, st.Outcome)
	if w := st.Waiting; w != nil {
		fmt.Fprintf(&b, "**Waiting for** %s\n\n", render.Wait(*w, time.UTC))
	}
	if f := st.Failure; f != nil {
		fmt.Fprintf(&b, "**Failed step** %s (attempt %d, items %s): %s\n\n", f.Step, f.Attempt, strings.Join(f.Items, ", "), render.Truncate(f.Error, 300))
		for _, o := range f.Options {
			fmt.Fprintf(&b, "- %s: `%s` — %s\n", o.Choice, o.Command, o.Effect)
		}
		b.WriteString("\n")
	}
	var pending []string
	for _, sl := range st.Slots {
		if sl.State == record.ItemWaiting {
			pending = append(pending, sl.Title+" ("+sl.ID+")")
		}
	}
	if len(pending) > 0 {
		fmt.Fprintf(&b, "Pending sign-offs: %s\n\n", strings.Join(pending, ", "))
		for _, sl := range st.Slots {
			if sl.State != record.ItemWaiting && sl.State != record.ItemPassed || !slotOpen(st, sl.Block) {
				continue
			}
			who := "_________"
			if len(sl.By) > 0 {
				who = sl.By[0].Person
			}
			fmt.Fprintf(&b, "- %s %s: %s\n", render.Box(sl.State), sl.Title, who)
		}
		b.WriteString("\n")
	}
	section := ""
	for _, it := range st.Items {
		if it.Stage != st.Stage {
			continue
		}
		if it.Section != section {
			section = it.Section
			fmt.Fprintf(&b, "\n**%s**\n\n", section)
		}
		fmt.Fprintf(&b, "- %s %s", render.Box(it.State), it.Title)
		if it.Value != "" {
			fmt.Fprintf(&b, " — %s", it.Value)
		}
		if it.Actor != "" && it.Actor != "golive" {
			fmt.Fprintf(&b, " (%s)", it.Actor)
		}
		b.WriteString("\n")
	}
	for _, a := range st.Alerts {
		if a.AckedBy == "" {
			fmt.Fprintf(&b, "\n**ALERT** %s level %d: %s\n", a.ID, a.Level, a.Reason)
		}
	}
	return b.String()
}

// slotOpen reports whether a block has a slot waiting (it is the open block).
func slotOpen(st *record.Status, block string) bool {
	for _, sl := range st.Slots {
		if sl.Block == block && sl.State == record.ItemWaiting {
			return true
		}
	}
	return false
}
