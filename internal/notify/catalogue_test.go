package notify_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/golive/golive/internal/notify"
)

// workflowEvents are the events the release workflow sends (workflows/*.go).
var workflowEvents = []string{
	"signoff_requested", "signoff_reminder", "signoff_timeout", "attestation_requested",
	"team_notification", "maintenance_window", "code_freeze", "code_freeze_lifted",
	"deploy_started", "deploy_completed", "smoke_failed", "test_message",
	"rollback_declared", "rollback_completed", "alert_level_1", "alert_level_2", "alert_level_3", "review_due",
}

func releaseFacts(text string) []notify.Fact {
	return []notify.Fact{
		{Key: "service", Value: "patient-portal"}, {Key: "environment", Value: "production"},
		{Key: "version", Value: "2.4.1"}, {Key: "stage", Value: "watch"}, {Key: "text", Value: text},
	}
}

func TestEveryWorkflowEventRendersEveryPart(t *testing.T) {
	for _, ev := range workflowEvents {
		t.Run(ev, func(t *testing.T) {
			if _, ok := notify.Lookup(ev); !ok {
				t.Fatalf("%s is not in the catalogue", ev)
			}
			text := "Deployment window 2026-12-01 22:00 UTC"
			if strings.HasPrefix(ev, "alert_level_") {
				text = "[A12] Level 2 Major issue: error rate 1.52% > 1% (ack with: golive ack patient-portal:production A12)"
			}
			m, err := notify.Render(notify.NewData("release:patient-portal:production", ev, 0, "Alice Adams", releaseFacts(text)))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Subject, "[golive] ") || strings.Contains(m.Subject, "\n") || strings.Contains(m.Subject, "<no value>") {
				t.Errorf("subject %q", m.Subject)
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML, "sms": m.SMS} {
				if strings.TrimSpace(body) == "" || strings.Contains(body, "<no value>") {
					t.Errorf("%s part is empty or has a missing value:\n%s", part, body)
				}
				if !strings.Contains(body, "patient-portal") {
					t.Errorf("%s part does not name the service:\n%s", part, body)
				}
			}
			if len(m.SMS) > notify.MaxSMS {
				t.Errorf("SMS is %d characters, want <= %d: %q", len(m.SMS), notify.MaxSMS, m.SMS)
			}
			for _, r := range m.SMS {
				if r > 127 {
					t.Errorf("SMS has non-ASCII %q: %q", r, m.SMS)
				}
			}
			if !strings.Contains(m.HTML, "<!DOCTYPE html>") || !strings.Contains(m.Text, "release facts only") {
				t.Error("email lacks its layout")
			}
			if ev != "maintenance_window" && !strings.Contains(m.Text, "golive status patient-portal:production") {
				t.Errorf("text email does not say how to see the release:\n%s", m.Text)
			}
		})
	}
}

func TestCatalogueCoversTheWorkflowEventsExactly(t *testing.T) {
	var names []string
	for _, e := range notify.Events() {
		names = append(names, e.Name)
		if e.Title == "" || e.Section == "" {
			t.Errorf("%s has no title or section", e.Name)
		}
	}
	if got, want := len(names), len(workflowEvents); got != want {
		t.Errorf("catalogue has %d events, workflow sends %d: %v", got, want, names)
	}
	if _, ok := notify.Lookup("alert_level_4"); !ok {
		t.Error("a fourth escalation level has no message")
	}
	if _, err := notify.Render(notify.NewData("release:a:b", "party_started", 0, "", nil)); err == nil {
		t.Error("an event outside the catalogue rendered")
	}
}

func TestAlertCarriesTheAckCommandEvenWhenCut(t *testing.T) {
	long := "[A3] Level 1 Minor issue: " + strings.Repeat("p95 812ms not < 500ms; ", 20) + " (ack with: golive ack x A3)"
	m, err := notify.Render(notify.NewData("release:patient-portal:production", "alert_level_1", 1, "Bob", releaseFacts(long)))
	if err != nil {
		t.Fatal(err)
	}
	want := "golive ack patient-portal:production A3"
	for part, body := range map[string]string{"sms": m.SMS, "text": m.Text, "html": m.HTML} {
		if !strings.Contains(body, want) {
			t.Errorf("%s part lacks %q:\n%s", part, want, body)
		}
	}
	if !strings.HasSuffix(m.SMS, "...") || len(m.SMS) != notify.MaxSMS {
		t.Errorf("long SMS not cut at %d: %d %q", notify.MaxSMS, len(m.SMS), m.SMS)
	}
	if !strings.Contains(m.Subject, "Level 1 alert A3 (Minor issue)") {
		t.Errorf("subject %q", m.Subject)
	}
}

func TestMessagesCarryReleaseFactsOnly(t *testing.T) {
	facts := append(releaseFacts("Rollback of 2.4.1: reported by jane.doe@example.org, call +1 555 010 9999"),
		notify.Fact{Key: "patient", Value: "John Smith, MRN 00123456"},
		notify.Fact{Key: "version", Value: "9.9.9"}) // a second version never replaces the first
	m, err := notify.Render(notify.NewData("release:patient-portal:production", "rollback_declared", 0, "Carol", facts))
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{m.Subject, m.Text, m.HTML, m.SMS} {
		for _, leak := range []string{"John Smith", "00123456", "jane.doe", "555 010 9999", "9.9.9"} {
			if strings.Contains(part, leak) {
				t.Errorf("message carries %q:\n%s", leak, part)
			}
		}
	}
	if !strings.Contains(m.Text, "[address]") || !strings.Contains(m.Text, "[number]") {
		t.Errorf("redaction markers missing:\n%s", m.Text)
	}
}

func TestHTMLEscapesValues(t *testing.T) {
	m, err := notify.Render(notify.NewData("release:a:b", "deploy_started", 0, "<script>x</script>", releaseFacts(`<img src=x onerror="alert(1)">`)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<img") {
		t.Errorf("HTML not escaped:\n%s", m.HTML)
	}
}

func TestKeyPerReleaseEventRecipientOccurrence(t *testing.T) {
	a := notify.Key("release:p:prod", "signoff_reminder", "alice", "run1/14")
	for _, b := range []string{
		notify.Key("release:p:prod", "signoff_reminder", "alice", "run1/22"),
		notify.Key("release:p:prod", "signoff_reminder", "bob", "run1/14"),
		notify.Key("release:p:prod", "signoff_requested", "alice", "run1/14"),
		notify.Key("release:p:stage", "signoff_reminder", "alice", "run1/14"),
	} {
		if a == b {
			t.Errorf("keys collide: %s", a)
		}
	}
	if a != notify.Key("release:p:prod", "signoff_reminder", "alice", "run1/14") {
		t.Error("key is not deterministic")
	}
	if k := notify.Key(strings.Repeat("r", 300), "e", "p", "o"); len(k) > 256 {
		t.Errorf("key of %d characters; Resend takes 256", len(k))
	}
}

func ExampleRender() {
	m, _ := notify.Render(notify.NewData("release:patient-portal:production", "alert_level_2", 2, "Bob Brown", []notify.Fact{
		{Key: "service", Value: "patient-portal"}, {Key: "environment", Value: "production"}, {Key: "version", Value: "2.4.1"},
		{Key: "text", Value: "[A1] Level 2 Major issue: error rate 1.52% > 1% (ack with: golive ack patient-portal:production A1)"},
	}))
	fmt.Println(m.Subject)
	fmt.Println(m.SMS)
	// Output:
	// [golive] Level 2 alert A1 (Major issue): patient-portal 2.4.1 (production)
	// golive L2 ALERT A1 patient-portal 2.4.1 (production). Ack: golive ack patient-portal:production A1. error rate 1.52% > 1%
}
