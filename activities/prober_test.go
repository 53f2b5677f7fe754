package activities_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// demo serves a fresh demo app at version on a loopback httptest server.
func demo(t *testing.T, version string) (*demoapp.App, spec.App) {
	t.Helper()
	app := demoapp.New(demoapp.Options{Version: version, Logger: quiet(), Seed: 42})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	return app, spec.App{URL: srv.URL, HealthPath: "/healthz", VersionPath: "/version"}
}

// closedURL returns the URL of a server that is no longer listening.
func closedURL() string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

func check(t *testing.T, p *activities.Prober, c spec.Check, app spec.App) activities.Result {
	t.Helper()
	r, err := p.Check(context.Background(), activities.CheckInput{ReleaseID: "r1", ItemID: "item", Check: c, App: app})
	if err != nil {
		t.Fatalf("Check(%+v) error: %v", c, err)
	}
	return r
}

func wantState(t *testing.T, what string, r activities.Result, state record.ItemState, detail string) {
	t.Helper()
	if r.State != state || !strings.Contains(r.Detail, detail) {
		t.Errorf("%s = %+v, want state %s with detail containing %q", what, r, state, detail)
	}
}

func TestCheckHTTP(t *testing.T) {
	_, app := demo(t, "1.0.0")
	p := &activities.Prober{Logger: quiet()}
	r := check(t, p, spec.Check{Kind: "http", Path: "/healthz"}, app)
	wantState(t, "healthz", r, record.ItemPassed, "")
	if !strings.HasPrefix(r.Value, "HTTP 200 in ") || !strings.HasSuffix(r.Value, "ms") {
		t.Errorf("value = %q", r.Value)
	}
	wantState(t, "header present", check(t, p, spec.Check{Kind: "http", Path: "/", ExpectHeader: "Strict-Transport-Security"}, app), record.ItemPassed, "")
	wantState(t, "header missing", check(t, p, spec.Check{Kind: "http", Path: "/", ExpectHeader: "X-Nope"}, app), record.ItemFailed, "header X-Nope missing")
	wantState(t, "auth required", check(t, p, spec.Check{Kind: "http", Path: demoapp.PathMe, ExpectStatus: 401}, app), record.ItemPassed, "")
	wantState(t, "wrong status", check(t, p, spec.Check{Kind: "http", Path: demoapp.PathMe}, app), record.ItemFailed, "want HTTP 200, got 401")
	wantState(t, "explicit url", check(t, p, spec.Check{Kind: "http", URL: app.URL + "/version"}, spec.App{}), record.ItemPassed, "")
	wantState(t, "refused", check(t, p, spec.Check{Kind: "http", URL: closedURL()}, app), record.ItemFailed, "refused")
	wantState(t, "no url", check(t, p, spec.Check{Kind: "http"}, spec.App{}), record.ItemFailed, "no url")
}

func TestCheckTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	notAfter := srv.Certificate().NotAfter
	days := int(time.Until(notAfter) / (24 * time.Hour))
	wantValue := fmt.Sprintf("expires %s (%d days)", notAfter.UTC().Format("2006-01-02"), days)
	host := srv.Listener.Addr().String()

	trusting := &activities.Prober{HTTP: srv.Client(), Logger: quiet()}
	r := check(t, trusting, spec.Check{Kind: "tls", Host: host}, spec.App{})
	wantState(t, "tls", r, record.ItemPassed, "")
	if r.Value != wantValue {
		t.Errorf("value = %q, want %q", r.Value, wantValue)
	}
	wantState(t, "tls from https app url", check(t, trusting, spec.Check{Kind: "tls"}, spec.App{URL: srv.URL}), record.ItemPassed, "")
	wantState(t, "tls too short", check(t, trusting, spec.Check{Kind: "tls", Host: host, MinDaysValid: days + 1}, spec.App{}),
		record.ItemFailed, fmt.Sprintf("expires in %d days, want at least %d", days, days+1))

	r = check(t, &activities.Prober{Logger: quiet()}, spec.Check{Kind: "tls", Host: host}, spec.App{})
	wantState(t, "untrusted", r, record.ItemFailed, "certificate not valid")
	if r.Value != wantValue {
		t.Errorf("untrusted cert still reports its expiry: value = %q", r.Value)
	}
	wantState(t, "plain http app", check(t, trusting, spec.Check{Kind: "tls"}, spec.App{URL: "http://127.0.0.1:8080"}), record.ItemFailed, "plain http")
	wantState(t, "refused", check(t, trusting, spec.Check{Kind: "tls", Host: strings.TrimPrefix(closedURL(), "http://")}, spec.App{}), record.ItemFailed, "refused")
}

func TestCheckDNS(t *testing.T) {
	p := &activities.Prober{Logger: quiet()}
	r := check(t, p, spec.Check{Kind: "dns", Host: "localhost"}, spec.App{})
	wantState(t, "localhost", r, record.ItemPassed, "")
	if !strings.Contains(r.Value, "127.0.0.1") {
		t.Errorf("value = %q", r.Value)
	}
	wantState(t, "from app url", check(t, p, spec.Check{Kind: "dns"}, spec.App{URL: "http://localhost:9/x"}), record.ItemPassed, "")
	// An invalid name fails without a query leaving the machine.
	wantState(t, "invalid name", check(t, p, spec.Check{Kind: "dns", Host: "invalid..name", Timeout: spec.Duration(2 * time.Second)}, spec.App{}), record.ItemFailed, "invalid..name")
}

func TestCheckCommand(t *testing.T) {
	p := &activities.Prober{Logger: quiet()}
	wantState(t, "true", check(t, p, spec.Check{Kind: "command", Command: []string{"true"}}, spec.App{}), record.ItemPassed, "")
	wantState(t, "false", check(t, p, spec.Check{Kind: "command", Command: []string{"false"}}, spec.App{}), record.ItemFailed, "exit status 1")
	r := check(t, p, spec.Check{Kind: "command", Command: []string{"sh", "-c", "echo; echo '  first line  '; echo second"}}, spec.App{})
	if r.State != record.ItemPassed || r.Value != "first line" {
		t.Errorf("output = %+v", r)
	}
	r = check(t, p, spec.Check{Kind: "command", Command: []string{"sh", "-c", "head -c 5000 /dev/zero | tr '\\0' x"}}, spec.App{})
	if len(r.Value) > 210 {
		t.Errorf("value not truncated: %d bytes", len(r.Value))
	}
	start := time.Now()
	wantState(t, "timeout", check(t, p, spec.Check{Kind: "command", Command: []string{"sleep", "10"}, Timeout: spec.Duration(200 * time.Millisecond)}, spec.App{}), record.ItemFailed, "timed out")
	if time.Since(start) > 5*time.Second {
		t.Errorf("timeout took %s", time.Since(start))
	}
	wantState(t, "missing binary", check(t, p, spec.Check{Kind: "command", Command: []string{"/nonexistent/golive-check"}}, spec.App{}), record.ItemFailed, "cannot run")
	wantState(t, "empty", check(t, p, spec.Check{Kind: "command"}, spec.App{}), record.ItemFailed, "command is empty")
}

func TestCheckCancelledIsAnError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&activities.Prober{Logger: quiet()}).Check(ctx, activities.CheckInput{Check: spec.Check{Kind: "command", Command: []string{"true"}}})
	if err == nil {
		t.Error("cancelled check returned no error")
	}
}

var flows = []spec.Flow{
	{ID: "login", Title: "User login/authentication", Method: "POST", Path: demoapp.PathLogin, ExpectStatus: 200, Session: "$.token"},
	{ID: "patient_records", Title: "Patient record access", Method: "GET", Path: demoapp.PathPatients, Auth: "session", ExpectJSON: "$.patients[0].id"},
	{ID: "appointments", Title: "Appointment scheduling", Method: "POST", Path: demoapp.PathAppointments, ExpectStatus: 200, Auth: "session"},
	{ID: "clinical_notes", Title: "Clinical note creation", Method: "post", Path: demoapp.PathNotes, ExpectStatus: 200, Auth: "session"},
	{ID: "billing", Title: "Billing operations", Path: demoapp.PathBilling, ExpectStatus: 200, Auth: "session", ExpectBody: "open_invoices"},
}

func TestSmoke(t *testing.T) {
	_, app := demo(t, "1.0.0")
	p := &activities.Prober{Logger: quiet()}
	res, err := p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: flows})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed() || len(res.Flows) != len(flows) {
		t.Fatalf("smoke = %+v", res)
	}
	for _, f := range res.Flows {
		if !strings.HasPrefix(f.Result.Value, "HTTP 200 in ") || f.Title == "" {
			t.Errorf("flow %+v", f)
		}
	}
	res, _ = p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: []spec.Flow{{ID: "x", Method: "GET", Path: "/version", ExpectStatus: 201}}})
	if res.Passed() || !strings.Contains(res.Flows[0].Result.Detail, "want HTTP 201, got 200") {
		t.Errorf("wrong status smoke = %+v", res)
	}
	res, _ = p.Smoke(context.Background(), activities.SmokeInput{App: spec.App{URL: closedURL()}, Flows: flows})
	if res.Passed() || len(res.Flows) != len(flows) {
		t.Errorf("app down smoke = %+v", res)
	}
}

func TestHealth(t *testing.T) {
	p := &activities.Prober{Logger: quiet()}
	_, good := demo(t, "1.0.0")
	if r, err := p.Health(context.Background(), good); err != nil || !r.Passed() {
		t.Errorf("healthy app: %+v, %v", r, err)
	}
	_, bad := demo(t, "2.0.0-bad")
	if r, err := p.Health(context.Background(), bad); err != nil || r.State != record.ItemFailed || !strings.Contains(r.Detail, "503") {
		t.Errorf("bad app: %+v, %v", r, err)
	}
}

func TestVerifyVersion(t *testing.T) {
	p := &activities.Prober{Logger: quiet()}
	app, sa := demo(t, "1.0.0")
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _, _ = app.SetVersion("2.0.0", "")
	}()
	r, err := p.VerifyVersion(context.Background(), activities.VerifyInput{App: sa, Version: "2.0.0", Timeout: 10 * time.Second})
	if err != nil || !r.Passed() || !strings.HasPrefix(r.Value, "2.0.0 live after") {
		t.Errorf("verify = %+v, %v", r, err)
	}
	r, err = p.VerifyVersion(context.Background(), activities.VerifyInput{App: sa, Version: "9.9.9", Timeout: time.Second})
	if err != nil || r.State != record.ItemFailed || !strings.Contains(r.Detail, `live version is "2.0.0"`) {
		t.Errorf("verify timeout = %+v, %v", r, err)
	}

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "3.1.0") }))
	defer plain.Close()
	r, err = p.VerifyVersion(context.Background(), activities.VerifyInput{App: spec.App{URL: plain.URL, VersionPath: "/v"}, Version: "3.1.0", Timeout: time.Second})
	if err != nil || !r.Passed() {
		t.Errorf("plain text version = %+v, %v", r, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := p.VerifyVersion(ctx, activities.VerifyInput{App: sa, Version: "9.9.9", Timeout: time.Minute}); err == nil {
		t.Error("verify with an ended context returned no error")
	}
}

// The login flow captures the session; the patient records flow sends it, so
// it tests a logged-in user, while the same path refuses an anonymous one.
func TestSmokeLogsInAndTestsRecordsAsThatUser(t *testing.T) {
	_, app := demo(t, "1.0.0")
	p := &activities.Prober{Logger: quiet()}
	res, _ := p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: flows[:2]})
	if !res.Passed() || !strings.HasSuffix(res.Flows[0].Result.Value, "session captured") || !strings.HasSuffix(res.Flows[1].Result.Value, "logged in") {
		t.Fatalf("smoke = %+v", res)
	}
	anon := spec.Flow{ID: "anonymous", Method: "GET", Path: demoapp.PathPatients, ExpectStatus: 200}
	res, _ = p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: []spec.Flow{anon}})
	if res.Passed() || !strings.Contains(res.Flows[0].Result.Detail, "got 401") {
		t.Errorf("anonymous records = %+v", res)
	}
	// Without a login before it, a session flow fails by saying so.
	res, _ = p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: flows[1:2]})
	if res.Passed() || !strings.Contains(res.Flows[0].Result.Detail, "no session") {
		t.Errorf("no login = %+v", res)
	}
}

// Credentials come by reference and are resolved in the activity; a body
// expectation that fails never echoes the body (patient data).
func TestSmokeFlowsSendCredentialsByReferenceAndCheckTheBody(t *testing.T) {
	_, app := demo(t, "1.0.0")
	env := map[string]string{"SMOKE_PASSWORD": `de"mo`, "SMOKE_TOKEN": demoapp.SessionToken}
	p := &activities.Prober{Logger: quiet(), Secrets: &secrets.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	wrongPassword := spec.Flow{ID: "login", Method: "POST", Path: demoapp.PathLogin, ExpectStatus: 401,
		Body: `{"user": "smoke", "password": "${env://SMOKE_PASSWORD}"}`}
	token := spec.Flow{ID: "records", Method: "GET", Path: demoapp.PathPatients, Auth: "env://SMOKE_TOKEN", ExpectBody: "Test Patient A"}
	header := spec.Flow{ID: "header", Method: "GET", Path: demoapp.PathBilling, Headers: map[string]string{"Authorization": "Bearer ${env://SMOKE_TOKEN}"}, ExpectJSON: "$.open_invoices"}
	res, _ := p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: []spec.Flow{wrongPassword, token, header}})
	if !res.Passed() {
		t.Fatalf("smoke = %+v", res)
	}
	missing := spec.Flow{ID: "records", Method: "GET", Path: demoapp.PathPatients, Auth: "env://SMOKE_TOKEN", ExpectBody: "Patient Z", ExpectJSON: "$.patients[0].id"}
	res, _ = p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: []spec.Flow{missing}})
	if d := res.Flows[0].Result.Detail; res.Passed() || !strings.Contains(d, "does not contain the expected text") || strings.Contains(d, "Test Patient") {
		t.Errorf("body expectation = %+v", res)
	}
	unset := spec.Flow{ID: "records", Method: "GET", Path: demoapp.PathPatients, Auth: "env://GOLIVE_TEST_UNSET_TOKEN"}
	res, _ = p.Smoke(context.Background(), activities.SmokeInput{App: app, Flows: []spec.Flow{unset}})
	if res.Flows[0].Result.State != record.ItemUnavailable {
		t.Errorf("unset credential = %+v", res)
	}
}

// An http check can send a credential by reference and judge the answer's
// body, e.g. that the operations team holds a dashboard permission.
func TestHTTPCheckSendsHeadersByReferenceAndJudgesTheBody(t *testing.T) {
	_, app := demo(t, "1.0.0")
	p := &activities.Prober{Logger: quiet(), Secrets: &secrets.Resolver{LookupEnv: func(string) (string, bool) { return demoapp.SessionToken, true }}}
	c := spec.Check{Kind: "http", Path: demoapp.PathPatients, ExpectStatus: 200, Headers: map[string]string{"Authorization": "Bearer ${env://TOKEN}"}, ExpectJSON: "$.patients[1].id"}
	wantState(t, "records as a user", check(t, p, c, app), record.ItemPassed, "")
	c.ExpectJSON = "$.patients[7].id"
	wantState(t, "absent path", check(t, p, c, app), record.ItemFailed, "$.patients[7].id is not in the answer")
	c.ExpectJSON, c.ExpectBody = "", "P-0009"
	wantState(t, "absent text", check(t, p, c, app), record.ItemFailed, "does not contain the expected text")
}
