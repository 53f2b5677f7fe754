package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golive/golive/internal/notify"
)

// fake is a provider that answers each request with the next scripted reply
// (the last one repeats) and records what it was sent.
type fake struct {
	mu      sync.Mutex
	replies []reply
	calls   []*http.Request
	bodies  []string
}

type reply struct {
	status int
	header map[string]string
	body   string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.calls)
	f.calls = append(f.calls, r)
	f.bodies = append(f.bodies, string(b))
	rp := f.replies[min(n, len(f.replies)-1)]
	f.mu.Unlock()
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rp.status)
	_, _ = io.WriteString(w, rp.body)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func (f *fake) header(i int, name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[i].Header.Get(name)
}

func serve(t *testing.T, replies ...reply) (*fake, string) {
	f := &fake{replies: replies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

var (
	resendOK    = reply{status: 200, body: `{"id":"49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"}`}
	twilioOK    = reply{status: 201, body: `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`}
	resend429   = reply{status: 429, header: map[string]string{"Retry-After": "0.01", "ratelimit-limit": "2"}, body: `{"statusCode":429,"name":"rate_limit_exceeded","message":"Too many requests. You can only make 2 requests per second."}`}
	resend500   = reply{status: 500, body: `{"statusCode":500,"name":"internal_server_error","message":"An unexpected error occurred."}`}
	resend403   = reply{status: 403, body: `{"statusCode":403,"name":"validation_error","message":"The example.org domain is not verified. Please, add and verify your domain on https://resend.com/domains"}`}
	twilio503   = reply{status: 503, header: map[string]string{"Content-Type": "text/html"}, body: `<html>Service Unavailable</html>`}
	twilio429   = reply{status: 429, body: `{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}`}
	twilio21211 = reply{status: 400, body: `{"code":21211,"message":"The 'To' number +15555550102 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`}
	twilio21606 = reply{status: 400, body: `{"code":21606,"message":"The From phone number +15555550100 is not a valid, SMS-capable inbound phone number or short code for your account.","more_info":"https://www.twilio.com/docs/errors/21606","status":400}`}
)

// fastRetry keeps the real backoff shape but waits microseconds; waits records them.
type fastRetry struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fastRetry) sleep(_ context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	return nil
}

func dispatcher(t *testing.T, resendURL, twilioURL string) (*notify.Dispatcher, *fastRetry) {
	fr := &fastRetry{}
	d := &notify.Dispatcher{Ledger: &notify.MemoryLedger{}, Sleep: fr.sleep, Retry: notify.Retry{Attempts: 4, Initial: 100 * time.Millisecond, Max: 2 * time.Second}}
	if resendURL != "" {
		d.Email = &notify.Resend{APIKey: "re_test", From: "releases@example.org", ClientOptions: notify.ClientOptions{BaseURL: resendURL}}
	}
	if twilioURL != "" {
		d.SMS = &notify.Twilio{AccountSID: mockAccountSID, AuthToken: mockAuthToken, From: "+15555550100", ClientOptions: notify.ClientOptions{BaseURL: twilioURL}}
	}
	return d, fr
}

var bob = notify.Address{Person: "bob", Name: "Bob Brown", Email: "bob@example.org", Phone: "+15555550102"}

func request(event string, to ...notify.Address) notify.Request {
	return notify.Request{ReleaseID: "release:patient-portal:production", Event: event, Occurrence: "run-1/17", Facts: releaseFacts("Deploying 2.4.1"), To: to}
}

func TestResend429ThenSuccessRetriesWithTheSameKey(t *testing.T) {
	f, url := serve(t, resend429, resend429, resendOK)
	d, fr := dispatcher(t, url, "")
	rep, err := d.Deliver(context.Background(), request("deploy_started", bob))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reached) != 1 || len(rep.Deliveries) != 1 || !rep.Deliveries[0].OK || rep.Deliveries[0].Attempts != 3 {
		t.Fatalf("report %+v", rep)
	}
	want := notify.Key("release:patient-portal:production", "deploy_started", "bob", "run-1/17")
	for i := range f.count() {
		if got := f.header(i, "Idempotency-Key"); got != want {
			t.Errorf("request %d Idempotency-Key %q, want %q", i+1, got, want)
		}
	}
	// Retry-After (10 ms) is honoured instead of the 100 ms backoff.
	if len(fr.waits) != 2 || fr.waits[0] != 10*time.Millisecond {
		t.Errorf("waits %v, want two waits of the 10ms Retry-After", fr.waits)
	}
	if rep.Deliveries[0].ID == "" {
		t.Error("no Resend email ID recorded")
	}
}

func TestResend5xxIsRetriedWithBackoffThenFallsBackToSMS(t *testing.T) {
	rf, rurl := serve(t, resend500)
	tf, turl := serve(t, twilioOK)
	d, fr := dispatcher(t, rurl, turl)
	rep, _ := d.Deliver(context.Background(), request("deploy_completed", bob))
	if rf.count() != 4 || tf.count() != 1 {
		t.Fatalf("resend called %d times (want 4), twilio %d (want 1)", rf.count(), tf.count())
	}
	if got := fmt.Sprint(fr.waits); got != "[100ms 200ms 400ms]" {
		t.Errorf("backoff %s, want [100ms 200ms 400ms]", got)
	}
	if len(rep.Deliveries) != 2 || rep.Deliveries[0].OK || rep.Deliveries[0].Permanent || !rep.Deliveries[1].OK || !rep.Deliveries[1].Fallback {
		t.Fatalf("deliveries %+v: want failed email (transient) then SMS fallback", rep.Deliveries)
	}
	value, detail := rep.Summary()
	if value != "1 of 1 reached: sms 1" || !strings.Contains(detail, "email to bob failed after 4 attempt(s): email: HTTP 500") || !strings.Contains(detail, "sent by sms instead") {
		t.Errorf("summary %q / %q", value, detail)
	}
}

func TestTwilioInvalidNumberIsNotRetriedAndFallsBackToEmail(t *testing.T) {
	tf, turl := serve(t, twilio21211)
	rf, rurl := serve(t, resendOK)
	d, fr := dispatcher(t, rurl, turl)
	rep, _ := d.Deliver(context.Background(), request("alert_level_2", bob))
	if tf.count() != 1 || len(fr.waits) != 0 {
		t.Fatalf("invalid number retried: %d calls, waits %v", tf.count(), fr.waits)
	}
	if rf.count() != 1 || len(rep.Reached) != 1 {
		t.Fatalf("no email fallback: %+v", rep)
	}
	sms := rep.Deliveries[0]
	if sms.Channel != "sms" || !sms.Permanent || !strings.Contains(sms.Error, "code 21211") || !strings.Contains(sms.Error, "invalid 'To' phone number") {
		t.Errorf("sms delivery %+v", sms)
	}
	if strings.Contains(sms.Error, "5555550102") {
		t.Errorf("the error repeats the phone number: %s", sms.Error)
	}
	// The fallback email has the alert, HTML and text, under the same key.
	var body struct {
		To      []string `json:"to"`
		Subject string   `json:"subject"`
		HTML    string   `json:"html"`
		Text    string   `json:"text"`
	}
	_ = json.Unmarshal([]byte(rf.bodies[0]), &body)
	if body.To[0] != "bob@example.org" || !strings.Contains(body.Subject, "alert") || body.HTML == "" || body.Text == "" {
		t.Errorf("fallback email %+v", body)
	}
	if rf.header(0, "Idempotency-Key") != sms.Key {
		t.Error("fallback email does not carry the message's key")
	}
}

func TestTwilioUnverifiedSenderAndResendUnverifiedDomainAreReported(t *testing.T) {
	tf, turl := serve(t, twilio21606)
	rf, rurl := serve(t, resend403)
	d, fr := dispatcher(t, rurl, turl)
	rep, _ := d.Deliver(context.Background(), request("smoke_failed", bob))
	if tf.count() != 1 || rf.count() != 1 || len(fr.waits) != 0 {
		t.Fatalf("permanent failures retried: twilio %d, resend %d, waits %v", tf.count(), rf.count(), fr.waits)
	}
	if len(rep.Missed) != 1 || rep.Missed[0] != "bob" {
		t.Fatalf("missed %v", rep.Missed)
	}
	_, detail := rep.Summary()
	for _, want := range []string{"unverified sender", "code 21606", "sender domain not verified", "HTTP 403", "not reached: bob"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail lacks %q: %s", want, detail)
		}
	}
	if strings.Contains(detail, "5555550100") {
		t.Errorf("detail repeats a phone number: %s", detail)
	}
}

func TestTwilio503And429AreRetried(t *testing.T) {
	tf, turl := serve(t, twilio503, twilio429, twilioOK)
	d, fr := dispatcher(t, "", turl)
	rep, _ := d.Deliver(context.Background(), request("alert_level_1", bob))
	if tf.count() != 3 || len(rep.Reached) != 1 || rep.Deliveries[0].Attempts != 3 || len(fr.waits) != 2 {
		t.Fatalf("calls %d, report %+v, waits %v", tf.count(), rep, fr.waits)
	}
	if got := tf.bodies[2]; !strings.Contains(got, "Body=golive+L1+ALERT") || !strings.Contains(got, "To=%2B15555550102") {
		t.Errorf("twilio form %s", got)
	}
}

func TestLedgerStopsASecondSendOfTheSameKey(t *testing.T) {
	tf, turl := serve(t, twilioOK)
	rf, rurl := serve(t, resendOK)
	d, _ := dispatcher(t, rurl, turl)
	for range 3 {
		if _, err := d.Deliver(context.Background(), request("alert_level_3", bob)); err != nil {
			t.Fatal(err)
		}
	}
	if tf.count() != 1 || rf.count() != 0 {
		t.Fatalf("one alert sent %d SMS and %d emails, want 1 and 0", tf.count(), rf.count())
	}
	// The next occurrence (another send of the event) is a new message.
	req := request("alert_level_3", bob)
	req.Occurrence = "run-1/31"
	rep, _ := d.Deliver(context.Background(), req)
	if tf.count() != 2 || rep.Deliveries[0].Duplicate {
		t.Fatalf("next occurrence not sent: %d calls, %+v", tf.count(), rep.Deliveries)
	}
}

func TestLedgerRemembersAFallbackToo(t *testing.T) {
	tf, turl := serve(t, twilio503)
	rf, rurl := serve(t, resendOK)
	d, _ := dispatcher(t, rurl, turl)
	d.Retry.Attempts = 1
	_, _ = d.Deliver(context.Background(), request("rollback_declared", bob))
	rep, _ := d.Deliver(context.Background(), request("rollback_declared", bob))
	if tf.count() != 1 || rf.count() != 1 || !rep.Deliveries[0].Duplicate || rep.Deliveries[0].Channel != "email" {
		t.Fatalf("retry after a fallback resent: twilio %d, resend %d, %+v", tf.count(), rf.count(), rep.Deliveries)
	}
}

func TestTestMessageGoesByEveryChannelAndReportsEach(t *testing.T) {
	tf, turl := serve(t, twilio21211)
	rf, rurl := serve(t, resendOK)
	d, _ := dispatcher(t, rurl, turl)
	rep, _ := d.Deliver(context.Background(), request("test_message", bob))
	if tf.count() != 1 || rf.count() != 1 || len(rep.Deliveries) != 2 {
		t.Fatalf("test message: twilio %d, resend %d, %+v", tf.count(), rf.count(), rep.Deliveries)
	}
	if len(rep.Failures()) != 1 || rep.Failures()[0].Channel != "sms" || rep.Deliveries[0].Fallback || rep.Deliveries[1].Fallback {
		t.Errorf("failures %+v", rep.Failures())
	}
}

func TestNoChannelReachesARecipient(t *testing.T) {
	d, _ := dispatcher(t, "", "")
	d.Unavailable = map[string]string{"sms": "notify.twilio_auth_token: env://TWILIO_AUTH_TOKEN: environment variable TWILIO_AUTH_TOKEN is not set"}
	rep, _ := d.Deliver(context.Background(), request("alert_level_1", notify.Address{Person: "erin", Phone: "+15555550105"}))
	_, detail := rep.Summary()
	if len(rep.Missed) != 1 || !strings.Contains(detail, "no email address") || !strings.Contains(detail, "TWILIO_AUTH_TOKEN is not set") {
		t.Errorf("missed %v, detail %q", rep.Missed, detail)
	}
}

func TestCancelledContextStopsRetries(t *testing.T) {
	rf, rurl := serve(t, resend500)
	d, _ := dispatcher(t, rurl, "")
	d.Sleep = nil // the real timer, which stops with the context
	d.Retry = notify.Retry{Attempts: 10, Initial: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, _ := d.Deliver(ctx, request("deploy_started", bob))
	if time.Since(start) > 5*time.Second || rf.count() != 1 || rep.Deliveries[0].OK {
		t.Fatalf("took %s, %d calls, %+v", time.Since(start), rf.count(), rep.Deliveries)
	}
}
