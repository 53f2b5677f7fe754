package activities_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// providers fakes Resend and Twilio: every email is accepted; an SMS to a number
// in invalid gets Twilio's error 21211. It records what each was sent.
type providers struct {
	mu      sync.Mutex
	emails  []http.Header
	smsTo   []string
	smsAuth []string
	smsBody []string
	invalid map[string]bool

	resend, twilio *httptest.Server
}

func newProviders(t *testing.T, invalid ...string) *providers {
	p := &providers{invalid: map[string]bool{}}
	for _, n := range invalid {
		p.invalid[n] = true
	}
	p.resend = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.emails = append(p.emails, r.Header.Clone())
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"email-1"}`)
	}))
	p.twilio = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		user, pass, _ := r.BasicAuth()
		to := r.PostForm.Get("To")
		p.mu.Lock()
		p.smsTo = append(p.smsTo, to)
		p.smsAuth = append(p.smsAuth, user+":"+pass)
		p.smsBody = append(p.smsBody, r.PostForm.Get("Body"))
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if p.invalid[to] {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"code":21211,"message":"The 'To' number `+to+` is not a valid phone number.","status":400}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"SM1","status":"queued"}`)
	}))
	t.Cleanup(p.resend.Close)
	t.Cleanup(p.twilio.Close)
	return p
}

func (p *providers) counts() (emails, sms int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.emails), len(p.smsTo)
}

// worker's environment, as the worker resolves env:// references.
var env = map[string]string{
	"RESEND_API_KEY": "re_live_key_value", "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
	"TWILIO_AUTH_TOKEN": "twiliotokenvalue", "TWILIO_FROM": "+15555550100",
}

func notifier(p *providers, lookup map[string]string, log io.Writer) *activities.Notifier {
	if log == nil {
		log = io.Discard
	}
	return &activities.Notifier{
		Logger: slog.New(slog.NewTextHandler(log, nil)),
		Secrets: &secrets.Resolver{LookupEnv: func(k string) (string, bool) {
			v, ok := lookup[k]
			return v, ok
		}},
		ResendBaseURL: p.resend.URL, TwilioBaseURL: p.twilio.URL,
		Ledger: &notify.MemoryLedger{},
	}
}

func liveSpec() spec.Notify {
	var s spec.Spec
	s.Notify.Channel, s.Notify.From = "live", "releases@example.org"
	spec.ApplyDefaults(&s)
	return s.Notify
}

var (
	alice = activities.Recipient{Person: "alice", Name: "Alice Adams", Email: "alice@example.org", Phone: "+15555550101"}
	bob   = activities.Recipient{Person: "bob", Name: "Bob Brown", Email: "bob@example.org", Phone: "+15555550102"}
)

func input(event string, n spec.Notify, to ...activities.Recipient) activities.NotifyInput {
	return activities.NotifyInput{
		ReleaseID: "release:patient-portal:production", Event: event, Notify: n, To: to, Attempt: 1,
		Facts: []activities.Fact{
			{Key: "service", Value: "patient-portal"}, {Key: "environment", Value: "production"},
			{Key: "version", Value: "2.4.1"}, {Key: "stage", Value: "watch"},
			{Key: "text", Value: "[A1] Level 1 Minor issue: p95 612ms not < 500ms (ack with: golive ack patient-portal:production A1)"},
		},
	}
}

func TestNotifyLogChannelPrintsEachMessage(t *testing.T) {
	var buf bytes.Buffer
	n := &activities.Notifier{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	res, err := n.Notify(context.Background(), input("alert_level_1", spec.Notify{Channel: "log"}, alice, bob))
	if err != nil || !res.Passed() || res.Delivered != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	if len(res.Deliveries) != 2 || res.Deliveries[1].Person != "bob" || res.Deliveries[1].Channel != "log" || !res.Deliveries[1].OK {
		t.Errorf("deliveries for the release record: %+v", res.Deliveries)
	}
	out := buf.String()
	for _, want := range []string{"to=alice", "to=bob", `subject="[golive] Level 1 alert A1 (Minor issue)`, "sms=\"golive L1 ALERT A1"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestNotifyLiveResolvesCredentialsAndFallsBackFromSMSToEmail(t *testing.T) {
	p := newProviders(t, bob.Phone)
	n := notifier(p, env, nil)
	res, err := n.Notify(context.Background(), input("alert_level_1", liveSpec(), alice, bob))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() || res.Delivered != 2 || res.Failed != 0 {
		t.Fatalf("result %+v", res)
	}
	if !strings.Contains(res.Detail, "sms to bob failed") || !strings.Contains(res.Detail, "21211") || !strings.Contains(res.Detail, "sent by email instead") {
		t.Errorf("detail %q does not report the fallback", res.Detail)
	}
	emails, sms := p.counts()
	if emails != 1 || sms != 2 {
		t.Fatalf("emails %d sms %d, want bob's email fallback and two SMS attempts", emails, sms)
	}
	// Every channel tried is in the result, for the release record.
	var got []string
	for _, d := range res.Deliveries {
		got = append(got, fmt.Sprintf("%s/%s ok=%v fallback=%v permanent=%v id=%v", d.Person, d.Channel, d.OK, d.Fallback, d.Permanent, d.ID != ""))
	}
	want := []string{
		"alice/sms ok=true fallback=false permanent=false id=true",
		"bob/sms ok=false fallback=false permanent=true id=false",
		"bob/email ok=true fallback=true permanent=false id=true",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("deliveries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e := res.Deliveries[1].Error; !strings.Contains(e, "21211") {
		t.Errorf("the failed SMS does not say why: %q", e)
	}
	if got := p.emails[0].Get("Authorization"); got != "Bearer re_live_key_value" {
		t.Errorf("Resend saw Authorization %q", got)
	}
	if !strings.HasPrefix(p.emails[0].Get("Idempotency-Key"), "release:patient-portal:production/alert_level_1/bob/") {
		t.Errorf("Idempotency-Key %q", p.emails[0].Get("Idempotency-Key"))
	}
	if p.smsAuth[0] != env["TWILIO_ACCOUNT_SID"]+":"+env["TWILIO_AUTH_TOKEN"] {
		t.Errorf("Twilio saw credentials %q", p.smsAuth[0])
	}
	b, _ := json.Marshal(res)
	for _, secret := range []string{"re_live_key_value", "twiliotokenvalue", bob.Phone, bob.Email} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the result (a workflow payload) carries %q: %s", secret, b)
		}
	}
}

func TestNotifyLiveWithoutCredentialsIsUnavailableAndNamesTheReference(t *testing.T) {
	p := newProviders(t)
	n := notifier(p, nil, nil)
	res, _ := n.Notify(context.Background(), input("deploy_started", liveSpec(), alice))
	if res.State != record.ItemUnavailable {
		t.Fatalf("state %s, want unavailable: %+v", res.State, res)
	}
	for _, want := range []string{"env://RESEND_API_KEY", "env://TWILIO_ACCOUNT_SID"} {
		if !strings.Contains(res.Detail, want) {
			t.Errorf("detail %q does not name %s", res.Detail, want)
		}
	}
	// With only the email credentials, email still goes out.
	only := map[string]string{"RESEND_API_KEY": "re_x"}
	res, _ = notifier(p, only, nil).Notify(context.Background(), input("deploy_started", liveSpec(), alice))
	if !res.Passed() {
		t.Fatalf("email-only worker: %+v", res)
	}
}

func TestNotifyTestMessageFailsWhenOneChannelFails(t *testing.T) {
	p := newProviders(t, alice.Phone)
	res, _ := notifier(p, env, nil).Notify(context.Background(), input("test_message", liveSpec(), alice, bob))
	if res.State != record.ItemFailed || !strings.Contains(res.Detail, "sms to alice failed") {
		t.Fatalf("test message with a failing SMS: %+v", res)
	}
	if emails, sms := p.counts(); emails != 2 || sms != 2 {
		t.Errorf("emails %d sms %d, want both channels for both people", emails, sms)
	}
}

func TestNotifyRetriedActivityDoesNotSendTwice(t *testing.T) {
	p := newProviders(t)
	var suite testsuite.WorkflowTestSuite
	in := input("rollback_declared", liveSpec(), alice, bob)

	// Attempt 1 reaches alice, heartbeats that delivery, then its worker dies
	// (simulated by giving it alice only).
	first := suite.NewTestActivityEnvironment()
	var beat converter.EncodedValues
	first.SetOnActivityHeartbeatListener(func(_ *activity.Info, d converter.EncodedValues) { beat = d })
	n1 := notifier(p, env, nil)
	first.RegisterActivity(n1)
	partial := in
	partial.To = []activities.Recipient{alice}
	if _, err := first.ExecuteActivity(n1.Notify, partial); err != nil {
		t.Fatal(err)
	}
	var done []notify.Delivery
	if beat == nil || beat.Get(&done) != nil || len(done) != 1 || done[0].Person != "alice" {
		t.Fatalf("heartbeat details %+v: want alice's delivery", done)
	}

	// Attempt 2 runs on another worker (a fresh ledger) with the heartbeat
	// details the server hands back: alice is not sent again, bob is.
	second := suite.NewTestActivityEnvironment()
	second.SetHeartbeatDetails(done)
	n2 := notifier(p, env, nil)
	second.RegisterActivity(n2)
	v, err := second.ExecuteActivity(n2.Notify, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.NotifyResult
	_ = v.Get(&res)
	p.mu.Lock()
	sms := strings.Join(p.smsTo, ",")
	p.mu.Unlock()
	if sms != alice.Phone+","+bob.Phone {
		t.Fatalf("SMS went to %s; want alice once (attempt 1) and bob once (attempt 2)", sms)
	}
	if !res.Passed() || res.Delivered != 2 {
		t.Errorf("attempt 2 result %+v: want both reached", res)
	}
}

func TestNotifySameWorkerLedgerStopsARepeat(t *testing.T) {
	p := newProviders(t)
	n := notifier(p, env, nil)
	in := input("smoke_failed", liveSpec(), alice)
	for range 3 {
		if res, _ := n.Notify(context.Background(), in); !res.Passed() {
			t.Fatalf("%+v", res)
		}
	}
	if _, sms := p.counts(); sms != 1 {
		t.Errorf("%d SMS for one message", sms)
	}
	in.Attempt = 2 // another send of the event (e.g. the next reminder) is a new message
	_, _ = n.Notify(context.Background(), in)
	if _, sms := p.counts(); sms != 2 {
		t.Errorf("next occurrence not sent")
	}
}
