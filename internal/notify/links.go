package notify

import (
	"fmt"
	"time"
)

// Notices that ask their recipient to act carry a link to the approval
// pages (Event.Action, Address.Link), and notices list the decisions made so
// far (Request.Decided).

// Decision is one decision a notice reports: "operations_lead: approved by Bob Brown at 14:02 UTC".
type Decision struct {
	Slot     string    `json:"slot"`
	Decision string    `json:"decision"`
	Name     string    `json:"name"`
	At       time.Time `json:"at"`
}

func (d Decision) String() string {
	return fmt.Sprintf("%s: %s", d.Slot, d.Short())
}

// Short is "approved by Bob Brown at 14:02 UTC".
func (d Decision) Short() string {
	verb := map[string]string{"approve": "approved", "reject": "rejected"}[d.Decision]
	if verb == "" {
		verb = d.Decision
	}
	return fmt.Sprintf("%s by %s at %s UTC", verb, Redact(d.Name), d.At.UTC().Format("15:04"))
}

// With adds the recipient's link (kept only for events that ask them to act)
// and the decisions made so far.
func (d Data) With(link string, decided []Decision) Data {
	if ev, ok := Lookup(d.Event); ok && ev.Action {
		d.Link = link
	}
	d.Decided = decided
	if n := len(decided); n > 0 {
		d.Last = "Last: " + decided[n-1].Short() + "."
	}
	return d
}
