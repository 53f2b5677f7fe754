package activities

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// checkCSP judges the Content-Security-Policy the app serves: some policy has a
// default-src, and some policy's effective script-src (script-src, else
// default-src) allows neither inline scripts ('unsafe-inline' without a nonce
// or hash, which browsers then ignore), nor eval, nor any host or scheme wildcard.
func (p *Prober) checkCSP(ctx context.Context, in CheckInput) Result {
	u, bad := webTarget(in.Check, in.App)
	if bad != nil {
		return *bad
	}
	resp, err := p.send(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("GET %s: %v", u, err)}
	}
	var policies []string
	for _, h := range resp.Header.Values("Content-Security-Policy") {
		policies = append(policies, strings.Split(h, ",")...)
	}
	if len(policies) == 0 {
		detail := "no Content-Security-Policy header"
		if resp.Header.Get("Content-Security-Policy-Report-Only") != "" {
			detail += " (only Report-Only, which enforces nothing)"
		}
		return Result{State: record.ItemFailed, Value: fmt.Sprintf("HTTP %d", resp.StatusCode), Detail: u + ": " + detail}
	}
	hasDefault, scriptsSafe := false, false
	var problems []string
	for _, pol := range policies {
		d := parseCSP(pol)
		if _, ok := d["default-src"]; ok {
			hasDefault = true
		}
		src, ok := d["script-src"]
		if !ok {
			src = d["default-src"]
		}
		if bad := unsafeScriptSources(src); len(bad) > 0 {
			problems = append(problems, "script-src allows "+strings.Join(bad, ", "))
		} else if src != nil {
			scriptsSafe = true
		}
	}
	value := render.Truncate(strings.Join(policies, ", "), maxValueLen)
	switch {
	case !hasDefault:
		return Result{State: record.ItemFailed, Value: value, Detail: "no default-src: what the policy does not name is allowed"}
	case !scriptsSafe:
		return Result{State: record.ItemFailed, Value: value, Detail: strings.Join(problems, "; ")}
	}
	return Result{State: record.ItemPassed, Value: value}
}

// parseCSP reads one policy into directive -> sources (lower-cased names).
func parseCSP(policy string) map[string][]string {
	out := map[string][]string{}
	for _, dir := range strings.Split(policy, ";") {
		f := strings.Fields(dir)
		if len(f) == 0 {
			continue
		}
		name := strings.ToLower(f[0])
		if _, dup := out[name]; !dup { // browsers ignore a repeated directive
			out[name] = append([]string{}, f[1:]...)
		}
	}
	return out
}

// unsafeScriptSources lists the sources that let injected script run.
func unsafeScriptSources(src []string) []string {
	nonceOrHash := false
	for _, s := range src {
		ls := strings.ToLower(s)
		if strings.HasPrefix(ls, "'nonce-") || strings.HasPrefix(ls, "'sha256-") || strings.HasPrefix(ls, "'sha384-") || strings.HasPrefix(ls, "'sha512-") {
			nonceOrHash = true
		}
	}
	var bad []string
	for _, s := range src {
		switch ls := strings.ToLower(s); {
		case ls == "'unsafe-inline'" && !nonceOrHash, ls == "'unsafe-eval'", ls == "*", ls == "data:", ls == "http:", ls == "https:":
			bad = append(bad, s)
		}
	}
	return bad
}
