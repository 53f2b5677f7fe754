package demoapp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/golive/golive/internal/demoapp"
)

func TestPatientRecordsRefuseAnAnonymousCallerAndServeALoggedInOne(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Seed: 1})
	for _, f := range []struct{ method, path string }{
		{"GET", demoapp.PathPatients}, {"POST", demoapp.PathAppointments}, {"POST", demoapp.PathNotes}, {"GET", demoapp.PathBilling},
	} {
		if resp, _ := do(t, f.method, base+f.path, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous %s %s = %d, want 401", f.method, f.path, resp.StatusCode)
		}
		if resp, body := doAs(t, demoapp.SessionToken, f.method, base+f.path, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("logged-in %s %s = %d %s, want 200", f.method, f.path, resp.StatusCode, body)
		}
	}
}

func TestCORSReflectsOnlyTheAllowedOriginUnlessWeakened(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Seed: 1})
	get := func(url, origin string) string {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Access-Control-Allow-Origin")
	}
	if got := get(base+"/", demoapp.AllowedOrigin); got != demoapp.AllowedOrigin {
		t.Errorf("allowed origin: ACAO = %q", got)
	}
	if got := get(base+"/", "https://evil.invalid"); got != "" {
		t.Errorf("other origin: ACAO = %q, want none", got)
	}
	if got := get(base+"/?weak=cors", "https://evil.invalid"); got != "https://evil.invalid" {
		t.Errorf("weak=cors: ACAO = %q, want the origin reflected", got)
	}
}

func TestSearchAnswers429AfterItsBurst(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Seed: 1})
	limited := 0
	for range demoapp.RateBurst + 5 {
		if resp, _ := do(t, "GET", base+demoapp.PathSearch, ""); resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Errorf("no 429 after %d requests", demoapp.RateBurst+5)
	}
	for range demoapp.RateBurst + 5 {
		if resp, _ := do(t, "GET", base+demoapp.PathSearch+"?weak=ratelimit", ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("weak=ratelimit answered %d", resp.StatusCode)
		}
	}
}

func TestProfileNeedsTheCSRFTokenOfItsCookie(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Seed: 1})
	if resp, _ := do(t, "POST", base+demoapp.PathProfile, `{}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without token = %d, want 403", resp.StatusCode)
	}
	resp, body := do(t, "GET", base+demoapp.PathCSRF, "")
	tok := strings.Split(strings.Split(string(body), `"csrf_token":"`)[1], `"`)[0]
	req, _ := http.NewRequest("POST", base+demoapp.PathProfile, strings.NewReader(`{}`))
	req.Header.Set("X-CSRF-Token", tok)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusOK {
		t.Errorf("with token = %v, %v", r, err)
	}
	if resp, _ := do(t, "POST", base+demoapp.PathProfile+"?weak=csrf", `{}`); resp.StatusCode != http.StatusOK {
		t.Errorf("weak=csrf without token = %d, want 200", resp.StatusCode)
	}
}

func TestCSPIsWeakenedOnlyOnRequest(t *testing.T) {
	_, base := newServer(t, demoapp.Options{Seed: 1})
	if resp, _ := do(t, "GET", base+"/", ""); !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP = %q", resp.Header.Get("Content-Security-Policy"))
	}
	if resp, _ := do(t, "GET", base+"/?weak=csp", ""); !strings.Contains(resp.Header.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Errorf("weak CSP = %q", resp.Header.Get("Content-Security-Policy"))
	}
}
