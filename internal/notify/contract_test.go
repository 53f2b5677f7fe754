package notify_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/internal/notify"
)

// Credentials shaped as the Twilio contract requires (AC + 32 hex); none is real.
const (
	mockAccountSID = "AC0123456789abcdef0123456789abcdef"
	mockAuthToken  = "token0123456789"
	mockResendKey  = "re_contract_test_key"
)

// violations records Prism's sl-violations header, set when a request or
// response breaks the contract without failing outright.
type violations struct {
	mu   sync.Mutex
	seen []string
	// keyed counts email requests that carried an Idempotency-Key.
	keyed int
}

func (v *violations) keys() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.keyed
}

func (v *violations) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/emails" && req.Header.Get("Idempotency-Key") != "" {
		v.mu.Lock()
		v.keyed++
		v.mu.Unlock()
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		if h := res.Header.Get("sl-violations"); h != "" {
			v.mu.Lock()
			v.seen = append(v.seen, req.Method+" "+req.URL.Path+": "+h)
			v.mu.Unlock()
		}
	}
	return res, err
}

// TestContract runs the providers' official OpenAPI descriptions in Prism (one
// mock each, on free loopback ports) and talks to them through the real clients.
func TestContract(t *testing.T) {
	waitResend := launchPrism(t, contract(t, "resend.yaml"))
	waitTwilio := launchPrism(t, contract(t, "twilio_api_v2010.json"))
	resendURL, twilioURL := waitResend(), waitTwilio()
	t.Run("EveryMessageThroughTheRealClients", func(t *testing.T) { everyMessage(t, resendURL, twilioURL) })
	t.Run("DispatcherFallsBackAndKeepsKeys", func(t *testing.T) { dispatcherOnMocks(t, resendURL, twilioURL) })
}

// everyMessage sends every catalogue event by email (resend-go) and by SMS
// (twilio-go): each request must be accepted by the contract.
func everyMessage(t *testing.T, resendURL, twilioURL string) {
	v := &violations{}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: v}
	email := &notify.Resend{APIKey: mockResendKey, From: "golive <releases@example.org>", ClientOptions: notify.ClientOptions{HTTP: hc, BaseURL: resendURL}}
	sms := &notify.Twilio{AccountSID: mockAccountSID, AuthToken: mockAuthToken, From: "+15555550100", ClientOptions: notify.ClientOptions{HTTP: hc, BaseURL: twilioURL}}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	events := append([]string(nil), workflowEvents...)
	events = append(events, "alert_level_4")
	for _, ev := range events {
		text := "Deployment window 2026-12-01 22:00 UTC <b>&</b> \"quotes\""
		if strings.HasPrefix(ev, "alert_level_") {
			text = "[A7] Level 3 Critical issue: error rate 6.10% > 5% (ack with: golive ack patient-portal:production A7)"
		}
		m, err := notify.Render(notify.NewData("release:patient-portal:production", ev, 0, "Alice Adams", releaseFacts(text)))
		if err != nil {
			t.Fatal(err)
		}
		to := notify.Address{Person: "alice", Name: "Alice Adams", Email: "alice@example.org", Phone: "+15555550101"}
		key := notify.Key("release:patient-portal:production", ev, "alice", "run/1")
		for _, ch := range []notify.Channel{email, sms} {
			id, err := ch.Send(ctx, key, to, m)
			if err != nil {
				t.Errorf("%s by %s refused by the contract: %v", ev, ch.Name(), err)
				continue
			}
			if id == "" {
				t.Errorf("%s by %s: no message ID in the response", ev, ch.Name())
			}
		}
	}
	for _, s := range v.seen {
		t.Errorf("contract violation: %s", s)
	}

	// The mock checks requests: a message without a recipient is refused, and
	// refused for good (not retried).
	m, _ := notify.Render(notify.NewData("release:a:b", "deploy_started", 0, "", releaseFacts("x")))
	badSID := *sms
	badSID.AccountSID = "AC123"
	_, err := badSID.Send(ctx, "k", notify.Address{Person: "alice", Phone: "+15555550101"}, m)
	se, ok := err.(*notify.Error)
	if !ok || !se.Permanent || se.Status != http.StatusUnprocessableEntity {
		t.Errorf("SMS from a malformed account SID: got %v, want a permanent HTTP 422 from the contract", err)
	}
	if n := v.keys(); n != len(events) {
		t.Errorf("%d of %d email requests carried an Idempotency-Key header", n, len(events))
	}
	bad := *email
	bad.APIKey = ""
	if _, err := bad.Send(ctx, "k", notify.Address{Person: "alice", Email: "alice@example.org"}, m); err == nil {
		t.Error("email without an API key accepted by the contract")
	} else if se, ok := err.(*notify.Error); !ok || !se.Permanent {
		t.Errorf("email without an API key: %v, want a permanent failure", err)
	}
}

// dispatcherOnMocks runs a whole Dispatcher against the mocks: SMS-first alerts
// reach a recipient without a phone by email, the test message goes by both
// channels, and a repeat is not sent again.
func dispatcherOnMocks(t *testing.T, resendURL, twilioURL string) {
	d := &notify.Dispatcher{
		Email:  &notify.Resend{APIKey: mockResendKey, From: "releases@example.org", ClientOptions: notify.ClientOptions{BaseURL: resendURL}},
		SMS:    &notify.Twilio{AccountSID: mockAccountSID, AuthToken: mockAuthToken, From: "MG0123456789abcdef0123456789abcdef", ClientOptions: notify.ClientOptions{BaseURL: twilioURL}},
		Ledger: &notify.MemoryLedger{},
	}
	team := []notify.Address{
		{Person: "alice", Name: "Alice", Email: "alice@example.org", Phone: "+15555550101"},
		{Person: "dave", Name: "Dave", Email: "dave@example.org"},
	}
	ctx := context.Background()
	req := notify.Request{ReleaseID: "release:patient-portal:production", Event: "test_message", Occurrence: "run/9", Facts: releaseFacts("Test notification: Email/SMS notifications working"), To: team}
	rep, err := d.Deliver(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reached) != 2 || len(rep.Failures()) != 0 || len(rep.Deliveries) != 3 {
		t.Fatalf("test message: %+v", rep)
	}
	again, _ := d.Deliver(ctx, req)
	for _, dl := range again.Deliveries {
		if !dl.Duplicate {
			t.Errorf("repeat of the same key sent again: %+v", dl)
		}
	}
	req.Event, req.Occurrence = "alert_level_3", "run/10"
	rep, _ = d.Deliver(ctx, req)
	got := map[string]string{}
	for _, dl := range rep.Deliveries {
		got[dl.Person] = dl.Channel
	}
	if got["alice"] != "sms" || got["dave"] != "email" {
		t.Errorf("alert channels %v, want alice by sms (first) and dave by email (no phone)", got)
	}
}
