package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// Smoke runs every critical flow against the app, in order (method, app URL +
// path, expected status, default 200; headers, body and credentials resolved
// here from their references; the body checked for a substring or a JSON
// path). A login flow with session captures the token the flows with auth
// "session" send. Each flow's value reads "HTTP 200 in 12ms"; nothing of the
// answer's body (patient data) or of a credential is ever in a result.
func (p *Prober) Smoke(ctx context.Context, in SmokeInput) (SmokeResult, error) {
	out := SmokeResult{Flows: make([]FlowResult, 0, len(in.Flows))}
	session := ""
	for _, f := range in.Flows {
		heartbeat(ctx, f.ID)
		var r Result
		if in.App.URL == "" {
			r = Result{State: record.ItemFailed, Detail: "bad input: no app url"}
		} else {
			fctx, cancel := context.WithTimeout(ctx, defaultCheckTimeout)
			r = p.flow(fctx, in.App, f, &session)
			cancel()
		}
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("smoke %s: %w", f.ID, err)
		}
		p.logger().InfoContext(ctx, "smoke", "flow", f.ID, "state", r.State)
		out.Flows = append(out.Flows, FlowResult{ID: f.ID, Title: f.Title, Result: r})
	}
	return out, nil
}

// flow runs one flow; session is the token captured so far.
func (p *Prober) flow(ctx context.Context, app spec.App, f spec.Flow, session *string) Result {
	method := strings.ToUpper(f.Method)
	if method == "" {
		method = http.MethodGet
	}
	expect := f.ExpectStatus
	if expect == 0 {
		expect = http.StatusOK
	}
	u := joinURL(app.URL, f.Path)
	req, bad := p.flowRequest(ctx, method, u, f, *session)
	if bad != nil {
		return *bad
	}
	start := time.Now()
	resp, err := p.client().Do(req)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("%s %s: %v", method, u, err)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	r := Result{Value: fmt.Sprintf("HTTP %d in %dms", resp.StatusCode, time.Since(start).Milliseconds())}
	if err != nil {
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: reading the answer: %v", method, u, err)
		return r
	}
	if resp.StatusCode != expect {
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: want HTTP %d, got %s", method, u, expect, resp.Status)
		return r
	}
	if f.ExpectBody != "" && !strings.Contains(string(body), f.ExpectBody) {
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: the answer does not contain the expected text", method, u)
		return r
	}
	if f.ExpectJSON != "" || f.Session != "" {
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: the answer is not JSON", method, u)
			return r
		}
		if _, ok := jsonPath(doc, f.ExpectJSON); f.ExpectJSON != "" && !ok {
			r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: %s is not in the answer", method, u, f.ExpectJSON)
			return r
		}
		if f.Session != "" {
			tok, ok := jsonPath(doc, f.Session)
			s, isStr := tok.(string)
			if !ok || !isStr || s == "" {
				r.State, r.Detail = record.ItemFailed, fmt.Sprintf("%s %s: no session token at %s", method, u, f.Session)
				return r
			}
			*session = s
			r.Value += ", session captured"
		}
	}
	if f.Auth == "session" {
		r.Value += ", logged in"
	}
	r.State = record.ItemPassed
	return r
}

// flowRequest builds a flow's request with its references resolved.
func (p *Prober) flowRequest(ctx context.Context, method, u string, f spec.Flow, session string) (*http.Request, *Result) {
	fail := func(format string, args ...any) (*http.Request, *Result) {
		return nil, &Result{State: record.ItemFailed, Detail: fmt.Sprintf(format, args...)}
	}
	body, err := p.expand(ctx, f.Body, strings.HasPrefix(strings.TrimSpace(f.Body), "{") || strings.HasPrefix(strings.TrimSpace(f.Body), "["))
	if err != nil {
		return nil, &Result{State: record.ItemUnavailable, Detail: "not configured: body: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return fail("bad url %q: %v", u, err)
	}
	req.Header.Set("User-Agent", "golive-prober")
	if body != "" && (body[0] == '{' || body[0] == '[') {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, name := range sortedNames(f.Headers) {
		v, err := p.expand(ctx, f.Headers[name], false)
		if err != nil {
			return nil, &Result{State: record.ItemUnavailable, Detail: "not configured: header " + name + ": " + err.Error()}
		}
		req.Header.Set(name, v)
	}
	switch a := f.Auth; {
	case a == "session" && session == "":
		return fail("no session: no login flow before %s captured a token", f.ID)
	case a == "session":
		req.Header.Set("Authorization", "Bearer "+session)
	case a != "":
		tok, err := p.secrets().Resolve(ctx, a)
		if err != nil {
			return nil, &Result{State: record.ItemUnavailable, Detail: "not configured: auth: " + err.Error()}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, nil
}

// refPattern finds ${env://NAME} and ${secret://...} inside a value.
var refPattern = regexp.MustCompile(`\$\{((?:env|secret)://[^}]+)\}`)

// expand resolves a bare reference, or the ${ref} references inside s;
// jsonEscape escapes the values for a place inside a JSON string.
func (p *Prober) expand(ctx context.Context, s string, jsonEscape bool) (string, error) {
	if strings.HasPrefix(s, "env://") || strings.HasPrefix(s, "secret://") {
		return p.secrets().Resolve(ctx, s)
	}
	var firstErr error
	out := refPattern.ReplaceAllStringFunc(s, func(m string) string {
		v, err := p.secrets().Resolve(ctx, m[2:len(m)-1])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if jsonEscape {
			q := strconv.Quote(v)
			return q[1 : len(q)-1]
		}
		return v
	})
	return out, firstErr
}

// jsonPath looks up $.a.b[0].c in a decoded JSON document.
func jsonPath(doc any, path string) (any, bool) {
	rest, ok := strings.CutPrefix(path, "$")
	if !ok {
		return nil, false
	}
	cur := doc
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[rest[:end]]; !ok {
				return nil, false
			}
			rest = rest[end:]
		case strings.HasPrefix(rest, "["):
			end := strings.Index(rest, "]")
			if end < 0 {
				return nil, false
			}
			i, err := strconv.Atoi(rest[1:end])
			l, ok := cur.([]any)
			if err != nil || !ok || i < 0 || i >= len(l) {
				return nil, false
			}
			cur, rest = l[i], rest[end+1:]
		default:
			return nil, false
		}
	}
	return cur, true
}

func sortedNames(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
