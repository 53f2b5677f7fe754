package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/notify"
)

const testLink = "http://localhost:8234/l/patient-portal:production/grace/t6k2mo.AbCdEfGhIjKlMnOp"

// Notices that ask their recipient to act carry the recipient's link in the
// email and the SMS (whole, within one segment); the others never do.
func TestNoticesThatAskToActCarryTheRecipientsLinkInEmailAndSMS(t *testing.T) {
	for _, ev := range workflowEvents {
		t.Run(ev, func(t *testing.T) {
			e, _ := notify.Lookup(ev)
			text := "Reminder: sign-off pending: compliance_officer, project_manager, a long tail of words to fill the message"
			if strings.HasPrefix(ev, "alert_level_") {
				text = "[A12] Level 2 Major issue: sign-off overdue: compliance_officer (ack with: golive ack patient-portal:production A12)"
			}
			m, err := notify.Render(notify.NewData("release:patient-portal:production", ev, 0, "Grace Kim", releaseFacts(text)).With(testLink, nil))
			if err != nil {
				t.Fatal(err)
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML, "sms": m.SMS} {
				if has := strings.Contains(body, testLink); has != e.Action {
					t.Errorf("%s part carries the link: %v, want %v:\n%s", part, has, e.Action, body)
				}
			}
			if len(m.SMS) > notify.MaxSMS {
				t.Errorf("SMS of %d characters: %q", len(m.SMS), m.SMS)
			}
		})
	}
}

func TestLaterNoticesSayWhoDecidedAndWhen(t *testing.T) {
	at := time.Date(2026, 12, 7, 14, 2, 0, 0, time.UTC)
	decided := []notify.Decision{{Slot: "operations_lead", Decision: "approve", Name: "Bob Brown", At: at.Add(-time.Hour)}, {Slot: "compliance_officer", Decision: "approve", Name: "Grace Kim", At: at}}
	m, err := notify.Render(notify.NewData("release:patient-portal:production", notify.EventSignoffReminder, 0, "Dave Diaz", releaseFacts("Reminder: sign-off pending: project_manager")).With(testLink, decided))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"compliance_officer: approved by Grace Kim at 14:02 UTC", "operations_lead: approved by Bob Brown at 13:02 UTC"} {
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("email lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.SMS, testLink) || strings.Contains(m.SMS, "Last") {
		t.Errorf("SMS %q: want the link, and no cut decision", m.SMS)
	}
	short := "http://localhost:8234/l/api:demo/dave/t6k2mo.AbCdEfGhIjKlMnOp"
	m, _ = notify.Render(notify.NewData("release:api:demo", notify.EventSignoffReminder, 0, "Dave Diaz", nil).With(short, decided))
	if !strings.Contains(m.SMS, short+" Last: approved by Grace Kim at 14:02 UTC.") {
		t.Errorf("SMS %q: want the link, then the last decision when it fits", m.SMS)
	}
}
