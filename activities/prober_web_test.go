package activities_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
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

func prober() *activities.Prober { return &activities.Prober{Logger: quiet()} }

func TestCORSPassesWhenADisallowedOriginIsNotReflected(t *testing.T) {
	_, app := demo(t, "1.0.0")
	r := check(t, prober(), spec.Check{Kind: "cors", Path: demoapp.PathPatients}, app)
	wantState(t, "good policy", r, record.ItemPassed, "")
	if !strings.Contains(r.Value, spec.DefaultProbeOrigin+" not allowed") {
		t.Errorf("value = %q", r.Value)
	}
}

func TestCORSFailsWhenAnyOriginIsReflected(t *testing.T) {
	_, app := demo(t, "1.0.0")
	r := check(t, prober(), spec.Check{Kind: "cors", Path: "/?weak=cors", Origin: "https://attacker.invalid"}, app)
	wantState(t, "reflecting policy", r, record.ItemFailed, "Access-Control-Allow-Origin: https://attacker.invalid with credentials")
}

func TestRateLimitPassesWhenTheBurstSees429(t *testing.T) {
	_, app := demo(t, "1.0.0")
	r := check(t, prober(), spec.Check{Kind: "rate_limit", Path: demoapp.PathSearch, Burst: 50, Within: spec.Duration(5 * time.Second)}, app)
	wantState(t, "limited", r, record.ItemPassed, "")
	if !strings.HasPrefix(r.Value, "HTTP 429 at request 21 of at most 50") {
		t.Errorf("value = %q, want the 429 right after the demo's burst of %d", r.Value, demoapp.RateBurst)
	}
}

func TestRateLimitFailsWhenTheBurstIsNeverLimited(t *testing.T) {
	_, app := demo(t, "1.0.0")
	r := check(t, prober(), spec.Check{Kind: "rate_limit", Path: demoapp.PathSearch + "?weak=ratelimit", Burst: 40, Within: spec.Duration(5 * time.Second)}, app)
	wantState(t, "unlimited", r, record.ItemFailed, "never rate limited")
	if r.Value != "no 429 in 40 requests within 5s" {
		t.Errorf("value = %q", r.Value)
	}
}

func TestRateLimitSendsNothingToAHostThatIsNotLoopbackOrTheApp(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	// The app is elsewhere; the check names another host: refused before any request.
	app := spec.App{URL: "https://portal.example.org"}
	r := check(t, prober(), spec.Check{Kind: "rate_limit", URL: "http://192.0.2.10/api/search", Burst: 10, Within: spec.Duration(time.Second)}, app)
	wantState(t, "foreign host", r, record.ItemFailed, "neither loopback nor the app's host")
	if hits != 0 {
		t.Errorf("%d requests sent", hits)
	}
}

func TestCSRFPassesWhenAStateChangeWithoutTheTokenIsRefused(t *testing.T) {
	_, app := demo(t, "1.0.0")
	r := check(t, prober(), spec.Check{Kind: "csrf", Path: demoapp.PathProfile, Method: "POST"}, app)
	wantState(t, "protected", r, record.ItemPassed, "")
	if r.Value != "POST without a CSRF token: HTTP 403 (refused)" {
		t.Errorf("value = %q", r.Value)
	}
}

func TestCSRFFailsWhenAStateChangeWithoutTheTokenIsAccepted(t *testing.T) {
	_, app := demo(t, "1.0.0")
	r := check(t, prober(), spec.Check{Kind: "csrf", Path: demoapp.PathProfile + "?weak=csrf", Method: "POST"}, app)
	wantState(t, "unprotected", r, record.ItemFailed, "accepted")
	// A refusal for want of a login says nothing about CSRF.
	r = check(t, prober(), spec.Check{Kind: "csrf", Path: demoapp.PathAppointments, Method: "POST"}, app)
	wantState(t, "unauthenticated", r, record.ItemFailed, "says nothing about CSRF")
}

func TestCSPPassesWithADefaultSrcAndNoUnsafeScripts(t *testing.T) {
	_, app := demo(t, "1.0.0")
	r := check(t, prober(), spec.Check{Kind: "csp", Path: "/"}, app)
	wantState(t, "strict", r, record.ItemPassed, "")
	if !strings.Contains(r.Value, "default-src 'none'") {
		t.Errorf("value = %q", r.Value)
	}
}

func TestCSPFailsWithUnsafeInlineScriptsOrNoDefaultSrc(t *testing.T) {
	_, app := demo(t, "1.0.0")
	wantState(t, "weak", check(t, prober(), spec.Check{Kind: "csp", Path: "/?weak=csp"}, app), record.ItemFailed, "no default-src")
	for policy, want := range map[string]string{
		"default-src 'self'; script-src 'self' 'unsafe-inline'":            "script-src allows 'unsafe-inline'",
		"default-src 'self' 'unsafe-eval'":                                 "script-src allows 'unsafe-eval'",
		"default-src 'none'; script-src https:":                            "script-src allows https:",
		"default-src 'self'; script-src 'self' 'unsafe-inline' 'nonce-r4'": "",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Security-Policy", policy)
		}))
		r := check(t, prober(), spec.Check{Kind: "csp", URL: srv.URL}, spec.App{})
		srv.Close()
		if want == "" {
			wantState(t, policy, r, record.ItemPassed, "")
		} else {
			wantState(t, policy, r, record.ItemFailed, want)
		}
	}
}

func jwtProber(t *testing.T) *activities.Prober {
	env := map[string]string{"DEMO_JWT_KEY": demoapp.DemoJWTKey}
	return &activities.Prober{Logger: quiet(), Secrets: &secrets.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
}

func TestJWTPassesWhenEveryBadTokenIsRefusedAndAValidOneAccepted(t *testing.T) {
	_, app := demo(t, "1.0.0")
	c := spec.Check{Kind: "jwt", Path: demoapp.PathJWT, JWT: &spec.JWTProbe{Key: "env://DEMO_JWT_KEY"}}
	r := check(t, jwtProber(t), c, app)
	wantState(t, "validating app", r, record.ItemPassed, "")
	if r.Value != "missing 401, expired 401, wrongly signed 401, alg none 401, valid 200" {
		t.Errorf("value = %q", r.Value)
	}
	if strings.Contains(r.Value+r.Detail, demoapp.DemoJWTKey) {
		t.Error("the key leaked into the result")
	}
}

func TestJWTFailsForEachTokenTheAppWronglyAccepts(t *testing.T) {
	_, app := demo(t, "1.0.0")
	for weak, want := range map[string]string{
		"jwt-missing": "missing token answered 200",
		"jwt-exp":     "expired token answered 200",
		"jwt-sig":     "wrongly signed token answered 200",
		"jwt-none":    "alg none token answered 200",
	} {
		c := spec.Check{Kind: "jwt", Path: demoapp.PathJWT + "?weak=" + weak, JWT: &spec.JWTProbe{Key: "env://DEMO_JWT_KEY"}}
		wantState(t, weak, check(t, jwtProber(t), c, app), record.ItemFailed, want)
	}
	// A key the app does not use: the valid token is refused too, so the check cannot pass vacuously.
	c := spec.Check{Kind: "jwt", Path: demoapp.PathJWT, JWT: &spec.JWTProbe{Key: "env://OTHER_KEY"}}
	p := &activities.Prober{Logger: quiet(), Secrets: &secrets.Resolver{LookupEnv: func(string) (string, bool) { return "another-key", true }}}
	wantState(t, "wrong key", check(t, p, c, app), record.ItemFailed, "valid token answered 401")
	// A key reference that does not resolve: unavailable, naming the reference only.
	c.JWT.Key = "env://GOLIVE_TEST_UNSET_KEY"
	wantState(t, "unset key", check(t, prober(), c, app), record.ItemUnavailable, "GOLIVE_TEST_UNSET_KEY")
}

// tlsServer serves a certificate valid for lifetime (trusted by the returned prober).
func tlsServer(t *testing.T, lifetime time.Duration) (host string, p *activities.Prober) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(lifetime - time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return srv.Listener.Addr().String(), &activities.Prober{HTTP: client, Logger: quiet()}
}

func TestTLSRenewalPassesForACertificateOf90DaysOrLess(t *testing.T) {
	host, p := tlsServer(t, 90*24*time.Hour)
	r := check(t, p, spec.Check{Kind: "tls.renewal", Host: host, MinDaysValid: 14}, spec.App{})
	wantState(t, "acme-style", r, record.ItemPassed, "")
	if !strings.Contains(r.Value, "lifetime 90 days (at most 90: automated renewal)") {
		t.Errorf("value = %q", r.Value)
	}
}

func TestTLSRenewalFailsForALongLivedCertificateUnlessTheRenewalCommandSucceeds(t *testing.T) {
	host, p := tlsServer(t, 398*24*time.Hour)
	c := spec.Check{Kind: "tls.renewal", Host: host, MinDaysValid: 14}
	wantState(t, "long-lived", check(t, p, c, spec.App{}), record.ItemFailed, "lives 398 days, more than 90, and no renew_command")
	c.RenewCommand = []string{"false"}
	wantState(t, "renewal fails", check(t, p, c, spec.App{}), record.ItemFailed, "renewal command failed")
	c.RenewCommand = []string{"true"}
	r := check(t, p, c, spec.App{})
	wantState(t, "renewal succeeds", r, record.ItemPassed, "")
	if !strings.HasSuffix(r.Value, "renewal command succeeded") {
		t.Errorf("value = %q", r.Value)
	}
}

func TestSecretsPassWhenEveryReferenceResolvesAndNameTheOnesThatDoNot(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://db/portal"}
	aws := secretsMap{"portal/jwt-test#key": "k"}
	p := &activities.Prober{Logger: quiet(), Secrets: &secrets.Resolver{Backends: map[string]secrets.Backend{"aws": aws},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	c := spec.Check{Kind: "secrets", Refs: []string{"env://DATABASE_URL", "secret://aws/portal/jwt-test#key"}}
	r := check(t, p, c, spec.App{})
	wantState(t, "all resolve", r, record.ItemPassed, "")
	if r.Value != "2 of 2 references resolve: 1 from a secret store, 1 from the worker's environment" {
		t.Errorf("value = %q", r.Value)
	}
	c.Refs = append(c.Refs, "env://RESEND_API_KEY")
	r = check(t, p, c, spec.App{})
	wantState(t, "one missing", r, record.ItemFailed, "do not resolve on this worker: env://RESEND_API_KEY")
	if strings.Contains(r.Value+r.Detail, "postgres://db") {
		t.Error("a value leaked into the result")
	}
}

// secretsMap is a secret backend holding fixed values.
type secretsMap map[string]string

func (m secretsMap) Resolve(_ context.Context, ref string) (string, error) {
	if v, ok := m[ref]; ok {
		return v, nil
	}
	return "", secrets.ErrNotFound
}
