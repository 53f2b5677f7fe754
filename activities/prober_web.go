package activities

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// webTarget is the URL a web check sends to: the check's url, or the app URL + path.
func webTarget(c spec.Check, app spec.App) (string, *Result) {
	if c.URL != "" {
		return c.URL, nil
	}
	if app.URL == "" {
		return "", &Result{State: record.ItemFailed, Detail: "bad check: no url and no app url"}
	}
	return joinURL(app.URL, c.Path), nil
}

// send sends one request and drains at most 64 KiB of the answer.
func (p *Prober) send(ctx context.Context, method, u string, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "golive-prober")
	c := *p.client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp, nil
}

// checkCORS sends a simple request and a preflight with a disallowed Origin:
// neither may answer with that origin, "null" or "*" in Access-Control-Allow-Origin.
func (p *Prober) checkCORS(ctx context.Context, in CheckInput) Result {
	u, bad := webTarget(in.Check, in.App)
	if bad != nil {
		return *bad
	}
	origin := in.Check.Origin
	if origin == "" {
		origin = spec.DefaultProbeOrigin
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodOptions} {
		h := http.Header{"Origin": {origin}}
		if m == http.MethodOptions {
			h.Set("Access-Control-Request-Method", http.MethodPost)
			h.Set("Access-Control-Request-Headers", "authorization")
		}
		resp, err := p.send(ctx, m, u, nil, h)
		if err != nil {
			return Result{State: record.ItemFailed, Detail: fmt.Sprintf("%s %s: %v", m, u, err)}
		}
		switch acao := resp.Header.Get("Access-Control-Allow-Origin"); {
		case acao == "":
		case acao == origin || acao == "*" || acao == "null":
			creds := ""
			if strings.EqualFold(resp.Header.Get("Access-Control-Allow-Credentials"), "true") {
				creds = " with credentials"
			}
			allowed = append(allowed, fmt.Sprintf("%s answered Access-Control-Allow-Origin: %s%s", m, acao, creds))
		}
	}
	value := fmt.Sprintf("Origin %s", origin)
	if len(allowed) > 0 {
		return Result{State: record.ItemFailed, Value: value + " allowed", Detail: u + ": a disallowed origin may read it: " + strings.Join(allowed, "; ")}
	}
	return Result{State: record.ItemPassed, Value: value + " not allowed (request and preflight)"}
}

// checkRateLimit sends at most Burst requests within Within and passes at the
// first 429. It sends only to loopback or the app's own host (spec.BurstAllowed).
func (p *Prober) checkRateLimit(ctx context.Context, in CheckInput) Result {
	c := in.Check
	u, bad := webTarget(c, in.App)
	if bad != nil {
		return *bad
	}
	pu, err := url.Parse(u)
	if err != nil || !spec.BurstAllowed(pu.Hostname(), in.App) {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("refused: %s is neither loopback nor the app's host, a burst is sent only there", u)}
	}
	burst, within := c.Burst, c.Within.D()
	if burst <= 0 || burst > spec.MaxBurst {
		burst = spec.DefaultBurst
	}
	if within <= 0 || within > spec.MaxBurstWithin {
		within = spec.DefaultBurstWithin
	}
	method := strings.ToUpper(c.Method)
	if method == "" {
		method = http.MethodGet
	}
	bctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	start := time.Now()
	codes := map[int]int{}
	for n := 1; n <= burst; n++ {
		resp, err := p.send(bctx, method, u, nil, nil)
		if err != nil {
			if bctx.Err() != nil {
				break
			}
			return Result{State: record.ItemFailed, Detail: fmt.Sprintf("%s %s (request %d): %v", method, u, n, err)}
		}
		codes[resp.StatusCode]++
		if resp.StatusCode == http.StatusTooManyRequests {
			v := fmt.Sprintf("HTTP 429 at request %d of at most %d, after %dms", n, burst, time.Since(start).Milliseconds())
			if ra := resp.Header.Get("Retry-After"); ra != "" {
				v += ", Retry-After " + ra
			}
			return Result{State: record.ItemPassed, Value: v}
		}
	}
	sent := 0
	for _, k := range codes {
		sent += k
	}
	return Result{State: record.ItemFailed, Value: fmt.Sprintf("no 429 in %d requests within %s", sent, within),
		Detail: fmt.Sprintf("%s %s was never rate limited (statuses %v)", method, u, codes)}
}

// csrfRefusals are the answers that refuse a request for its missing CSRF token.
var csrfRefusals = map[int]bool{400: true, 403: true, 419: true, 422: true}

// checkCSRF sends a state-changing request without a CSRF token (and from a
// foreign Origin); it passes when the app refuses it.
func (p *Prober) checkCSRF(ctx context.Context, in CheckInput) Result {
	u, bad := webTarget(in.Check, in.App)
	if bad != nil {
		return *bad
	}
	method := strings.ToUpper(in.Check.Method)
	if method == "" {
		method = http.MethodPost
	}
	h := http.Header{"Content-Type": {"application/json"}, "Origin": {spec.DefaultProbeOrigin}}
	resp, err := p.send(ctx, method, u, strings.NewReader("{}"), h)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("%s %s: %v", method, u, err)}
	}
	v := fmt.Sprintf("%s without a CSRF token: HTTP %d", method, resp.StatusCode)
	switch code := resp.StatusCode; {
	case csrfRefusals[code]:
		return Result{State: record.ItemPassed, Value: v + " (refused)"}
	case code == http.StatusUnauthorized:
		return Result{State: record.ItemFailed, Value: v, Detail: "refused as unauthenticated, which says nothing about CSRF: point the check at a state-changing path a session may call"}
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return Result{State: record.ItemFailed, Value: v, Detail: fmt.Sprintf("%s %s is not a state-changing endpoint", method, u)}
	case code < 400:
		return Result{State: record.ItemFailed, Value: v, Detail: "a state change without the CSRF token was accepted"}
	}
	return Result{State: record.ItemFailed, Value: v, Detail: "neither accepted nor refused for the token: " + http.StatusText(resp.StatusCode)}
}
