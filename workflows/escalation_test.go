package workflows_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/workflows"
)

// sent is one Notify activity as the workflow scheduled it, at simulated time.
type sent struct {
	at      time.Time
	event   string
	to      []string
	text    string
	decided []activities.Decision
	result  activities.NotifyResult
}

// notifications records every Notify activity of a harness run with its result.
type notifications struct {
	mu   sync.Mutex
	all  []sent
	byID map[string]int
}

func watchNotifications(h *harness) *notifications {
	n := &notifications{byID: map[string]int{}}
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name != "Notify" {
			return
		}
		var in activities.NotifyInput
		if err := args.Get(&in); err != nil {
			h.t.Errorf("decode Notify input: %v", err)
			return
		}
		s := sent{at: h.env.Now(), event: in.Event, decided: in.Decided}
		for _, r := range in.To {
			s.to = append(s.to, r.Person)
		}
		for _, f := range in.Facts {
			if f.Key == "text" {
				s.text = f.Value
			}
		}
		n.mu.Lock()
		n.byID[info.ActivityID] = len(n.all)
		n.all = append(n.all, s)
		n.mu.Unlock()
	})
	h.env.SetOnActivityCompletedListener(func(info *activity.Info, v converter.EncodedValue, err error) {
		if info.ActivityType.Name != "Notify" || err != nil {
			return
		}
		var res activities.NotifyResult
		_ = v.Get(&res)
		n.mu.Lock()
		if i, ok := n.byID[info.ActivityID]; ok {
			n.all[i].result = res
		}
		n.mu.Unlock()
	})
	return n
}

// alert returns the sends of one alert (its text starts with "[ID]").
func (n *notifications) alert(id string) []sent {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []sent
	for _, s := range n.all {
		if strings.HasPrefix(s.event, "alert_level_") && strings.HasPrefix(s.text, "["+id+"]") {
			out = append(out, s)
		}
	}
	return out
}

// missT1HTarget makes the T+1h check (deploy + 1 h = 7 h after start) miss the
// error-rate target (0.5 % is above 0.1 % but below the 1 % critical limit), so
// the release raises exactly one level-1 alert, A1, keyed "error_rate".
func missT1HTarget(h *harness) {
	h.env.RegisterDelayedCallback(func() { h.metrics.set("error_rate", 0.5) }, 6*time.Hour+50*time.Minute)
	h.env.RegisterDelayedCallback(func() { h.metrics.set("error_rate", 0.02) }, 7*time.Hour+10*time.Minute)
}

func alertOf(t *testing.T, st record.Status, id string) record.Alert {
	t.Helper()
	for _, a := range st.Alerts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no alert %s in %+v", id, st.Alerts)
	return record.Alert{}
}

func TestAlertWithoutAckEscalatesAfter30ThenAfter15Minutes(t *testing.T) {
	h := newHarness(t)
	n := watchNotifications(h)
	missT1HTarget(h)
	h.run(h.input("1.1.0"))
	st := h.status()

	sends := n.alert("A1")
	if len(sends) != 3 {
		t.Fatalf("alert A1 was sent %d times, want 3 (levels 1, 2, 3): %+v", len(sends), sends)
	}
	want := []struct {
		event string
		after time.Duration
		to    string
	}{
		{"alert_level_1", 0, "alice"},                                    // on-call developer
		{"alert_level_2", 30 * time.Minute, "alice,bob"},                 // development lead + operations
		{"alert_level_3", 45 * time.Minute, "alice,bob,carol,dave,erin"}, // full team + management
	}
	for i, w := range want {
		s := sends[i]
		if s.event != w.event || s.at.Sub(sends[0].at) != w.after {
			t.Errorf("send %d: %s at +%s, want %s at +%s", i+1, s.event, s.at.Sub(sends[0].at), w.event, w.after)
		}
		if got := strings.Join(sortedCopy(s.to), ","); got != w.to {
			t.Errorf("send %d (%s) went to %s, want %s", i+1, s.event, got, w.to)
		}
	}
	if d := sends[0].at.Sub(st.DeployAt); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("first alert %s after deploy, want at the T+1h check", d)
	}
	if !strings.Contains(sends[0].text, "error rate") || !strings.Contains(sends[0].text, "golive ack demo-portal:demo A1") {
		t.Errorf("alert text %q should give the reason and the full ack command", sends[0].text)
	}
	a := alertOf(t, st, "A1")
	if a.Level != 3 || a.Sent != 3 || a.AckedBy != "" {
		t.Errorf("alert record %+v: want level 3, sent 3 times, unacknowledged", a)
	}
}

func TestAckStopsTheEscalation(t *testing.T) {
	h := newHarness(t)
	n := watchNotifications(h)
	missT1HTarget(h)
	// Ten minutes after the alert (deploy at ~6 h, T+1h check at ~7 h), alice acknowledges.
	h.env.RegisterDelayedCallback(func() {
		h.signal(workflows.AckName, workflows.Ack{Person: "alice", AlertID: "A1", Comment: "looking"})
	}, 7*time.Hour+10*time.Minute)
	h.run(h.input("1.1.0"))
	st := h.status()

	sends := n.alert("A1")
	if len(sends) != 1 || sends[0].event != "alert_level_1" {
		t.Fatalf("acknowledged alert sent %d times: %+v", len(sends), sends)
	}
	a := alertOf(t, st, "A1")
	if a.AckedBy != "alice" || a.Level != 1 || a.Sent != 1 {
		t.Errorf("alert record %+v: want acknowledged by alice at level 1", a)
	}
	if d := a.AckedAt.Sub(a.RaisedAt); d <= 0 || d >= 30*time.Minute {
		t.Errorf("acknowledged %s after it was raised", d)
	}
}

func TestDuplicateAckChangesNothing(t *testing.T) {
	h := newHarness(t)
	n := watchNotifications(h)
	missT1HTarget(h)
	h.env.RegisterDelayedCallback(func() {
		h.signal(workflows.AckName, workflows.Ack{Person: "alice", AlertID: "A1"})
	}, 7*time.Hour+10*time.Minute)
	var second workflows.InputResult
	var secondErr error
	done := false
	h.env.RegisterDelayedCallback(func() {
		// The same ack again, from another person, through an Update as the CLI sends it.
		h.env.UpdateWorkflow(workflows.AckName, "dup-ack", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { secondErr, done = err, true },
			OnComplete: func(v any, err error) {
				if r, ok := v.(workflows.InputResult); ok {
					second = r
				}
				secondErr, done = err, true
			},
		}, workflows.Ack{Person: "bob", AlertID: "A1"})
		// And once more as a Signal.
		h.signal(workflows.AckName, workflows.Ack{Person: "alice", AlertID: "A1"})
	}, 7*time.Hour+20*time.Minute)
	h.run(h.input("1.1.0"))
	st := h.status()

	if !done || secondErr != nil || !second.Duplicate || !strings.Contains(second.Message, "already acknowledged by alice") {
		t.Fatalf("second ack: %+v, %v (done %v); want a duplicate naming alice", second, secondErr, done)
	}
	a := alertOf(t, st, "A1")
	if a.AckedBy != "alice" || a.Level != 1 || a.Sent != 1 {
		t.Errorf("alert record %+v changed by the duplicate ack", a)
	}
	if d := a.AckedAt.Sub(a.RaisedAt); d >= 15*time.Minute {
		t.Errorf("acknowledged at +%s: the duplicate ack at +20m overwrote the time", d)
	}
	if sends := n.alert("A1"); len(sends) != 1 {
		t.Errorf("alert sent %d times after a duplicate ack", len(sends))
	}
	for _, r := range st.Refused {
		if r.Input == workflows.AckName {
			t.Errorf("duplicate ack refused instead of counted once: %+v", r)
		}
	}
}

// twilioAndResend fakes both providers for a live release: every email is
// accepted; SMS to bob's number fail with Twilio's 21211 (invalid number).
type twilioAndResend struct {
	mu     sync.Mutex
	emails map[string][]string // Idempotency-Key -> recipients
	sms    []string
}

func TestAlertFallsBackFromSMSToEmail(t *testing.T) {
	h := newHarness(t)
	bobPhone := h.spec.Team["operations_lead"][0].Phone
	p := &twilioAndResend{emails: map[string][]string{}}
	resendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.emails[r.Header.Get("Idempotency-Key")] = append(p.emails[r.Header.Get("Idempotency-Key")], r.URL.Path)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"id":"email-%d"}`, len(p.emails))
	}))
	defer resendSrv.Close()
	twilioSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		to := r.PostForm.Get("To")
		p.mu.Lock()
		p.sms = append(p.sms, to)
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if to == bobPhone {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, `{"code":21211,"message":"The 'To' number %s is not a valid phone number.","status":400}`, to)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"SM1","status":"queued"}`)
	}))
	defer twilioSrv.Close()

	// The release notifies live; the worker resolves the default env:// references.
	h.spec.Notify.Channel, h.spec.Notify.From = "live", "releases@example.org"
	workerEnv := map[string]string{"RESEND_API_KEY": "re_test", "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "token123", "TWILIO_FROM": "+15555550100"}
	h.env.RegisterActivityWithOptions(&activities.Notifier{
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Secrets:       &secrets.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := workerEnv[k]; return v, ok }},
		ResendBaseURL: resendSrv.URL, TwilioBaseURL: twilioSrv.URL,
		Ledger: &notify.MemoryLedger{},
	}, activity.RegisterOptions{DisableAlreadyRegisteredCheck: true})
	n := watchNotifications(h)
	h.run(h.input("1.1.0"))
	st := h.status()

	// Bob's broken SMS fails the T+1h test message (it goes by both channels),
	// which raises a level-1 alert that nobody acknowledges.
	if it := h.item(st, "post.notifications"); it.State != record.ItemFailed || !strings.Contains(it.Detail, "sms to bob failed") {
		t.Errorf("test message item %+v: want failed, naming bob's SMS", it)
	}
	var id string
	for _, a := range st.Alerts {
		if a.Key == "post.notifications" {
			id = a.ID
		}
	}
	sends := n.alert(id)
	if id == "" || len(sends) != 3 {
		t.Fatalf("test-message alert %q sent %d times, want 3; alerts %+v", id, len(sends), st.Alerts)
	}
	// Level 2 goes to alice and bob, SMS first: alice by SMS, bob's invalid number falls back to email.
	l2 := sends[1].result
	if !l2.Passed() || l2.Delivered != 2 || !strings.Contains(l2.Detail, "sms to bob failed") || !strings.Contains(l2.Detail, "sent by email instead") {
		t.Fatalf("level 2 result %+v: want both reached, bob by email after the SMS failed", l2)
	}
	if !strings.Contains(l2.Value, "email 1") || !strings.Contains(l2.Value, "sms 1") {
		t.Errorf("level 2 value %q", l2.Value)
	}
	// The release record keeps every delivery and failure, one entry per person and channel tried.
	var want int
	for _, s := range n.all {
		want += len(s.result.Deliveries)
	}
	if len(st.Notices) != want || want == 0 {
		t.Errorf("release record holds %d notices, the Notify activities reported %d", len(st.Notices), want)
	}
	var bobSMSFailed, bobEmailFallback bool
	for _, no := range st.Notices {
		if no.Event != "alert_level_2" || no.Person != "bob" {
			continue
		}
		switch {
		case no.Channel == "sms" && !no.OK && no.Permanent && strings.Contains(no.Error, "21211") && no.Level == 2:
			bobSMSFailed = true
		case no.Channel == "email" && no.OK && no.Fallback && no.ID != "" && !no.At.IsZero():
			bobEmailFallback = true
		}
	}
	if !bobSMSFailed || !bobEmailFallback {
		t.Errorf("release record lacks bob's level-2 SMS failure (%v) or his email fallback (%v): %+v", bobSMSFailed, bobEmailFallback, st.Notices)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var bobAlertEmails int
	for key := range p.emails {
		if strings.Contains(key, "/alert_level_") && strings.Contains(key, "/bob/") {
			bobAlertEmails++
		}
	}
	if bobAlertEmails != 2 {
		t.Errorf("bob got %d alert emails, want 2 (levels 2 and 3, each once)", bobAlertEmails)
	}
	for key, to := range p.emails {
		if len(to) != 1 {
			t.Errorf("email key %s used %d times", key, len(to))
		}
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A reminder sent after some slots were signed says who already decided and
// when, so the people still asked see where the release stands.
func TestRemindersSayWhoAlreadyDecided(t *testing.T) {
	h := newHarness(t)
	n := watchNotifications(h)
	h.answer = func(h *harness, sl record.SlotState) bool {
		return sl.Block == "approvals" && sl.ID != "development_lead"
	}
	res := h.run(h.input("1.1.0"))
	if res.Outcome != record.OutcomeTimedOut {
		t.Fatalf("outcome %s (%s), want timed_out with three slots unsigned", res.Outcome, res.Reason)
	}
	reminders := 0
	for _, s := range n.all {
		if s.event != "signoff_reminder" {
			continue
		}
		reminders++
		if len(s.decided) != 1 || s.decided[0].Slot != "development_lead" || s.decided[0].Decision != "approve" || s.decided[0].Name != "Alice Adams" || s.decided[0].At.IsZero() {
			t.Errorf("reminder at %s reports decisions %+v, want alice's approval of development_lead with its time", s.at, s.decided)
		}
	}
	if reminders == 0 {
		t.Fatal("no sign-off reminder was sent")
	}
}

// An alert raised as the release ends (the overdue review's) is still being
// sent while the evidence is written. The release waits for the send, so its
// deliveries are in the record: a workflow that completes drops its pending
// activities, and an alert whose first attempt was lost would never be sent.
func TestAlertStillSendingAtTheEndIsWaitedFor(t *testing.T) {
	h := newHarness(t)
	h.unattested = func(it record.Item) bool { return it.Stage == record.StageReview }
	real := &activities.Notifier{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var slow sync.WaitGroup
	slow.Add(1)
	h.env.OnActivity("Notify", mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.NotifyInput) (activities.NotifyResult, error) {
		for _, f := range in.Facts {
			if f.Key == "text" && strings.Contains(f.Value, "review overdue") {
				// Real time: simulated time stands still, the evidence is written meanwhile.
				time.Sleep(300 * time.Millisecond)
				defer slow.Done()
			}
		}
		return real.Notify(ctx, in)
	})
	res := h.run(h.input("1.1.0"))
	slow.Wait()
	if res.Outcome != record.OutcomeCompleted || !strings.Contains(res.Reason, "review overdue") {
		t.Fatalf("outcome %s (%s), want completed with the review overdue", res.Outcome, res.Reason)
	}
	st := h.status()
	var review *record.Alert
	for i := range st.Alerts {
		if st.Alerts[i].Key == "review" {
			review = &st.Alerts[i]
		}
	}
	if review == nil {
		t.Fatalf("no review alert in %+v", st.Alerts)
	}
	delivered := 0
	for _, n := range st.Notices {
		if n.Event == notify.AlertEvent(review.Level) && n.At.After(st.DeployAt.Add(h.spec.Review.After.D())) && n.OK {
			delivered++
		}
	}
	if delivered == 0 {
		t.Errorf("the overdue review's alert (level %d) has no delivery in the record: notices %+v", review.Level, st.Notices)
	}
	b, err := os.ReadFile(st.Evidence)
	if err != nil {
		t.Fatalf("evidence: %v", err)
	}
	ok, _ := evidence.NoticeCounts(st.Notices)
	if want := fmt.Sprintf("_%d delivered, ", ok); !strings.Contains(string(b), want) {
		t.Errorf("evidence %s does not count the %d deliveries of the record (%q)", st.Evidence, ok, want)
	}
}
