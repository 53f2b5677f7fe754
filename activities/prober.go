package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/secrets"
	"github.com/golive/golive/internal/spec"
)

// Defaults of the prober; the spec normally fills these in.
const (
	defaultCheckTimeout  = 30 * time.Second
	defaultMinDaysValid  = 14
	defaultHealthPath    = "/healthz"
	defaultVersionPath   = "/version"
	defaultVerifyTimeout = 2 * time.Minute
	verifyPollEvery      = 500 * time.Millisecond
	maxValueLen          = 200
)

// Prober probes the running application: readiness checks (http, tls, dns,
// command), smoke tests of the critical flows, version and health checks.
//
// Error policy: a probe's outcome, including a refused connection, a timeout
// or a misconfigured check, is a Result (failed, or unavailable when the
// integration the kind needs does not exist yet), so the gate can list the
// offenders and the evidence shows why. An activity error is returned only
// when the activity's own context ends (cancelled or timed out), so Temporal
// records that as such instead of a made-up failure.
type Prober struct {
	// HTTP is the client for HTTP probes; its transport's RootCAs also verify TLS checks.
	// Nil uses a client with a 30s timeout and the system roots.
	HTTP *http.Client
	// Logger receives one line per probe; nil uses slog.Default().
	Logger *slog.Logger
	// Secrets resolves the references a check or a flow sends (a jwt check's
	// key, a flow's credentials); nil resolves env:// only.
	Secrets *secrets.Resolver
}

func (p *Prober) secrets() *secrets.Resolver {
	if p != nil && p.Secrets != nil {
		return p.Secrets
	}
	return &secrets.Resolver{}
}

func (p *Prober) client() *http.Client {
	if p != nil && p.HTTP != nil {
		return p.HTTP
	}
	return &http.Client{Timeout: defaultCheckTimeout}
}

func (p *Prober) logger() *slog.Logger {
	if p != nil && p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Check runs one automatic readiness check of a kind that probes from the
// worker: http, tls, tls.renewal, dns, command, the web security kinds (cors,
// rate_limit, csrf, csp, jwt) and the CI reports (report.junit, report.k6,
// report.axe). CheckActivity sends every other kind to its own activity.
func (p *Prober) Check(ctx context.Context, in CheckInput) (Result, error) {
	c := in.Check
	cctx, cancel := checkContext(ctx, c)
	defer cancel()
	var r Result
	if run, ok := proberKinds[c.CheckKind()]; ok {
		r = run(p, cctx, in)
	} else if c.Kind == "" {
		r = Result{State: record.ItemFailed, Detail: "bad check: kind is empty"}
	} else {
		r = unknownKind("Prober.Check", c.CheckKind())
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("check %s: %w", in.ItemID, err)
	}
	// Values and details stay out of the log: command output may carry patient data;
	// they travel (encrypted) in the release record.
	p.logger().InfoContext(ctx, "check", "release", in.ReleaseID, "item", in.ItemID, "kind", c.Kind, "state", r.State)
	return r, nil
}

// proberKinds are the kinds Prober.Check runs.
var proberKinds = map[spec.CheckKind]func(p *Prober, ctx context.Context, in CheckInput) Result{
	spec.KindHTTP:       func(p *Prober, ctx context.Context, in CheckInput) Result { return p.checkHTTP(ctx, in.Check, in.App) },
	spec.KindTLS:        func(p *Prober, ctx context.Context, in CheckInput) Result { return p.checkTLS(ctx, in.Check, in.App) },
	spec.KindTLSRenewal: func(p *Prober, ctx context.Context, in CheckInput) Result { return p.checkTLS(ctx, in.Check, in.App) },
	spec.KindDNS:        func(_ *Prober, ctx context.Context, in CheckInput) Result { return checkDNS(ctx, in.Check, in.App) },
	spec.KindCommand: func(_ *Prober, ctx context.Context, in CheckInput) Result {
		return checkCommand(ctx, in.Check.Command, orDefault(in.Check.Timeout.D(), defaultCheckTimeout))
	},
	spec.KindSecrets:   (*Prober).checkSecrets,
	spec.KindCORS:      (*Prober).checkCORS,
	spec.KindRateLimit: (*Prober).checkRateLimit,
	spec.KindCSRF:      (*Prober).checkCSRF,
	spec.KindCSP:       (*Prober).checkCSP,
	spec.KindJWT:       (*Prober).checkJWT,
	spec.KindJUnit:     (*Prober).checkReport,
	spec.KindK6:        (*Prober).checkReport,
	spec.KindAxe:       (*Prober).checkReport,
}

func (p *Prober) checkHTTP(ctx context.Context, c spec.Check, app spec.App) Result {
	u := c.URL
	if u == "" {
		if app.URL == "" {
			return Result{State: record.ItemFailed, Detail: "bad check: no url and no app url"}
		}
		u = joinURL(app.URL, c.Path)
	}
	if len(c.Headers) > 0 || c.ExpectBody != "" || c.ExpectJSON != "" {
		// Headers or a body to judge: run it as a one-request flow.
		r := p.flow(ctx, spec.App{URL: u}, spec.Flow{ID: "check", Method: http.MethodGet, ExpectStatus: c.ExpectStatus,
			Headers: c.Headers, ExpectBody: c.ExpectBody, ExpectJSON: c.ExpectJSON}, new(string))
		if r.State == record.ItemPassed && c.ExpectHeader != "" {
			return probeHTTP(ctx, p.client(), http.MethodGet, u, c.ExpectStatus, c.ExpectHeader)
		}
		return r
	}
	return probeHTTP(ctx, p.client(), http.MethodGet, u, c.ExpectStatus, c.ExpectHeader)
}

// probeHTTP sends one request and judges the answer: status (default 200) and an optional header.
func probeHTTP(ctx context.Context, client *http.Client, method, u string, expect int, header string) Result {
	if expect == 0 {
		expect = http.StatusOK
	}
	if method == "" {
		method = http.MethodGet
	}
	if expect >= 300 && expect < 400 { // judge the redirect itself, do not follow it
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &c
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("bad url %q: %v", u, err)}
	}
	req.Header.Set("User-Agent", "golive-prober")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("%s %s: %v", method, u, err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	took := time.Since(start)
	r := Result{Value: fmt.Sprintf("HTTP %d in %dms", resp.StatusCode, took.Milliseconds())}
	switch {
	case resp.StatusCode != expect:
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: want HTTP %d, got %s", method, u, expect, resp.Status)
	case header != "" && resp.Header.Get(header) == "":
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: header %s missing", method, u, header)
	default:
		r.State = record.ItemPassed
	}
	return r
}

func checkDNS(ctx context.Context, c spec.Check, app spec.App) Result {
	host := c.Host
	if host == "" {
		host = app.Domain
	}
	if host == "" && app.URL != "" {
		if u, err := url.Parse(app.URL); err == nil {
			host = u.Hostname()
		}
	}
	if host == "" {
		return Result{State: record.ItemFailed, Detail: "bad check: dns needs a host, an app domain or an app url"}
	}
	host, _, _ = splitHostPort(host, "")
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("dns %s: %v", host, err)}
	}
	if len(addrs) == 0 {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("dns %s: no addresses", host)}
	}
	return Result{State: record.ItemPassed, Value: render.Truncate(strings.Join(addrs, ", "), maxValueLen)}
}

// checkCommand runs argv without a shell; exit 0 passes, the value is the first line of output.
func checkCommand(ctx context.Context, argv []string, timeout time.Duration) Result {
	if len(argv) == 0 || argv[0] == "" {
		return Result{State: record.ItemFailed, Detail: "bad check: command is empty"}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	r := Result{Value: render.Truncate(firstLine(string(out)), maxValueLen)}
	var exit *exec.ExitError
	switch {
	case err == nil:
		r.State = record.ItemPassed
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s: timed out after %s", argv[0], timeout)
	case errors.As(err, &exit):
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s: %v", argv[0], err)
	default:
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("cannot run %s: %v", argv[0], err)
	}
	return r
}

// Health asks the app's health path (default /healthz) for HTTP 200.
func (p *Prober) Health(ctx context.Context, app spec.App) (Result, error) {
	if app.URL == "" {
		return Result{State: record.ItemFailed, Detail: "bad input: no app url"}, nil
	}
	path := app.HealthPath
	if path == "" {
		path = defaultHealthPath
	}
	hctx, cancel := context.WithTimeout(ctx, defaultCheckTimeout)
	defer cancel()
	r := probeHTTP(hctx, p.client(), http.MethodGet, joinURL(app.URL, path), http.StatusOK, "")
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("health: %w", err)
	}
	return r, nil
}

// VerifyVersion polls the app's version path (default /version) until it
// reports in.Version or in.Timeout (default 2m) passes, heartbeating the
// version it last saw. Past the timeout the result is failed, naming what is live.
func (p *Prober) VerifyVersion(ctx context.Context, in VerifyInput) (Result, error) {
	if in.App.URL == "" || in.Version == "" {
		return Result{State: record.ItemFailed, Detail: "bad input: need an app url and a version"}, nil
	}
	path := in.App.VersionPath
	if path == "" {
		path = defaultVersionPath
	}
	u := joinURL(in.App.URL, path)
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = defaultVerifyTimeout
	}
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		rctx, cancel := context.WithTimeout(ctx, min(10*time.Second, max(time.Until(deadline), time.Second)))
		live, err := fetchVersion(rctx, p.client(), u)
		cancel()
		if cerr := ctx.Err(); cerr != nil {
			return Result{}, fmt.Errorf("verify version: %w", cerr)
		}
		heartbeat(ctx, live)
		if err == nil && live == in.Version {
			took := time.Since(start).Round(100 * time.Millisecond)
			p.logger().InfoContext(ctx, "version live", "version", live, "after", took)
			return Result{State: record.ItemPassed, Value: fmt.Sprintf("%s live after %s", live, took)}, nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return Result{State: record.ItemFailed, Detail: fmt.Sprintf("version %s not seen within %s: %v", in.Version, timeout, err)}, nil
			}
			return Result{State: record.ItemFailed, Value: live, Detail: fmt.Sprintf("live version is %q, want %q after %s", live, in.Version, timeout)}, nil
		}
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("verify version: %w", ctx.Err())
		case <-time.After(verifyPollEvery):
		}
	}
}

// fetchVersion GETs u and reads a version: JSON {"version": "..."} or the first line of plain text.
// The error carries the HTTP status, so callers can tell client from server errors (statusError).
func fetchVersion(ctx context.Context, client *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("version url %q: %w", u, err)
	}
	req.Header.Set("Accept", "application/json, text/plain")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", &statusError{URL: u, Code: resp.StatusCode}
	}
	var doc struct {
		Version json.RawMessage `json:"version"`
	}
	if json.Unmarshal(body, &doc) == nil && len(doc.Version) > 0 {
		var s string
		if json.Unmarshal(doc.Version, &s) == nil {
			return strings.TrimSpace(s), nil
		}
		return strings.Trim(string(doc.Version), `" `), nil // a number such as {"version": 3}
	}
	v := firstLine(string(body))
	if v == "" {
		return "", fmt.Errorf("GET %s: empty version", u)
	}
	return v, nil
}

// statusError is a non-2xx answer.
type statusError struct {
	URL  string
	Code int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// joinURL appends path to base with exactly one slash between them.
func joinURL(base, path string) string {
	if path == "" {
		return base
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(path, "/")
}

// heartbeat records a heartbeat when running as an activity (tests call activities directly).
func heartbeat(ctx context.Context, details ...any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details...)
	}
}

// ServerHeartbeat records details on the server before returning. The SDK batches
// ordinary heartbeats (it sends the first and then one per throttle interval), so
// a fact a retry must know — the schema version before migrating, a message
// already delivered — would be lost if the worker died right after.
func ServerHeartbeat(ctx context.Context, details ...any) {
	if !activity.IsActivity(ctx) {
		return
	}
	info := activity.GetInfo(ctx)
	if err := activity.GetClient(ctx).RecordActivityHeartbeat(ctx, info.TaskToken, details...); err != nil {
		activity.RecordHeartbeat(ctx, details...)
	}
}

// orDefault is d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
