package activities_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/spec"
)

// linkFor is a stand-in for approvals.Linker: one link per person and release.
func linkFor(release, person string) string {
	return "http://localhost:8234/l/" + strings.TrimPrefix(release, "release:") + "/" + person + "/t6k2mo.code"
}

// Each recipient of a notice that asks them to act gets their own link, by
// SMS and in the log; notices that ask nothing carry none.
func TestNotifySendsEachRecipientTheirOwnApprovalLink(t *testing.T) {
	p := newProviders(t)
	n := notifier(p, env, nil)
	n.Link = linkFor
	in := input("signoff_reminder", liveSpec(), alice, bob)
	in.Decided = []activities.Decision{{Slot: "compliance_officer", Decision: "approve", Name: "Grace Kim", At: time.Date(2026, 12, 7, 14, 2, 0, 0, time.UTC)}}
	if res, err := n.Notify(context.Background(), in); err != nil || !res.Passed() {
		t.Fatalf("%+v %v", res, err)
	}
	// signoff_reminder goes by email first: no SMS. An alert goes by SMS.
	if res, err := n.Notify(context.Background(), input("alert_level_1", liveSpec(), alice, bob)); err != nil || !res.Passed() {
		t.Fatalf("%+v %v", res, err)
	}
	if res, err := n.Notify(context.Background(), input("deploy_started", spec.Notify{Channel: "log"}, alice)); err != nil || !res.Passed() {
		t.Fatalf("%+v %v", res, err)
	}
	p.mu.Lock()
	bodies := append([]string(nil), p.smsBody...)
	p.mu.Unlock()
	if len(bodies) != 2 || !strings.Contains(bodies[0], linkFor(in.ReleaseID, "alice")) || !strings.Contains(bodies[1], linkFor(in.ReleaseID, "bob")) {
		t.Errorf("alert SMS bodies %q: want each recipient's own link", bodies)
	}

	var buf bytes.Buffer
	n = &activities.Notifier{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Link: linkFor}
	in.Notify = spec.Notify{Channel: "log"}
	if _, err := n.Notify(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), input("deploy_started", spec.Notify{Channel: "log"}, alice)); err != nil {
		t.Fatal(err)
	}
	logs := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(logs) != 3 || !strings.Contains(logs[0], "/alice/") || !strings.Contains(logs[1], "/bob/") || strings.Contains(logs[2], "/l/") {
		t.Errorf("log lines: want alice's and bob's links, none on deploy_started:\n%s", buf.String())
	}
}
