package demoapp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// maxInFlight bounds concurrent synthetic requests; ticks beyond it are dropped.
const maxInFlight = 64

// RunTraffic sends Options.Traffic synthetic requests per second to the app's
// critical flows (at most 1000), in process (through Handler, so metrics and /stats see them),
// until ctx ends. It returns at once when Traffic is 0. Serve calls it; call it
// yourself when serving Handler another way (httptest).
func (a *App) RunTraffic(ctx context.Context) {
	if a.opts.Traffic <= 0 {
		return
	}
	tick := time.NewTicker(time.Second / time.Duration(min(a.opts.Traffic, 1000)))
	defer tick.Stop()
	sem := make(chan struct{}, maxInFlight)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue
		}
		req := a.syntheticRequest(ctx)
		go func() {
			defer func() { <-sem }()
			a.handler.ServeHTTP(discard{h: http.Header{}}, req)
		}()
	}
}

// syntheticRequest picks one critical flow for one of 40 synthetic users.
func (a *App) syntheticRequest(ctx context.Context) *http.Request {
	user := fmt.Sprintf("user-%03d", a.intn(40)+1)
	method, path, body := http.MethodGet, PathPatients, ""
	switch n := a.intn(100); {
	case n < 20:
		method, path = http.MethodPost, PathLogin
		pw := "demo"
		if a.float64n() < 0.005 {
			pw = "wrong"
		}
		body = fmt.Sprintf(`{"user":%q,"password":%q}`, user, pw)
	case n < 55:
		// patients
	case n < 70:
		method, path = http.MethodPost, PathAppointments
	case n < 85:
		method, path = http.MethodPost, PathNotes
	default:
		path = PathBilling
	}
	req, _ := http.NewRequestWithContext(ctx, method, "http://demoapp.internal"+path, strings.NewReader(body))
	req.Header.Set("X-Demo-User", user)
	if path != PathLogin {
		req.Header.Set("Authorization", "Bearer "+demoToken)
	}
	req.Header.Set("Content-Type", "application/json")
	return req
}

// discard is a ResponseWriter that drops the answer.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
