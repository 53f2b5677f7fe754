package demoapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The endpoints golive's web readiness checks (cors, rate_limit, csrf, csp,
// jwt) probe. Each has a good behaviour, served by default, and a bad one
// switched on per request with the query parameter weak=<feature> (a comma
// list), so a test can show each check passing and failing on a real server:
//
//	weak=cors        reflect any Origin, with credentials
//	weak=csp         serve script-src 'self' 'unsafe-inline' and no default-src
//	weak=ratelimit   no rate limit on PathSearch
//	weak=csrf        accept a state change on PathProfile without the CSRF token
//	weak=jwt-none    accept alg "none" tokens on PathJWT
//	weak=jwt-exp     accept expired tokens
//	weak=jwt-sig     accept tokens with any signature
//	weak=jwt-missing accept requests without a token
const (
	// PathSearch is rate limited per client: RateBurst requests, then RatePerSecond.
	PathSearch = "/api/search"
	// PathCSRF hands out a CSRF token (also set as cookie csrf_token).
	PathCSRF = "/api/csrf"
	// PathProfile changes a setting (POST): it needs header X-CSRF-Token equal to the csrf_token cookie.
	PathProfile = "/api/profile"
	// PathJWT needs "Authorization: Bearer <JWT>" signed HS256 with Options.JWTKey.
	PathJWT = "/api/v2/me"
)

// Defaults of the security endpoints.
const (
	// AllowedOrigin is the one cross-origin caller the app's CORS policy allows.
	AllowedOrigin = "https://portal.demo.invalid"
	// DemoJWTKey is the test-only HMAC key of PathJWT when Options.JWTKey is empty.
	DemoJWTKey = "golive-demo-jwt-test-key"
	// RateBurst and RatePerSecond are PathSearch's token bucket.
	RateBurst     = 20
	RatePerSecond = 10
	// SessionToken is the session token a login answers with; the flows need it as a Bearer token.
	SessionToken = demoToken
)

// weak reports whether the request switched a feature to its bad behaviour.
func weak(r *http.Request, feature string) bool {
	for _, w := range strings.Split(r.URL.Query().Get("weak"), ",") {
		if w == feature {
			return true
		}
	}
	return false
}

// cors answers preflights and sets the CORS headers: only AllowedOrigin is
// reflected (any Origin with weak=cors). It reports whether the request was a preflight.
func cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	w.Header().Add("Vary", "Origin")
	if origin == AllowedOrigin || weak(r, "cors") {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-CSRF-Token")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// weakCSP is the policy served with weak=csp: inline scripts allowed, no default-src.
const weakCSP = "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"

// limiter is a token bucket per client address.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes a token from the client's bucket.
func (l *limiter) allow(client string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[client]
	if b == nil {
		b = &bucket{tokens: RateBurst, at: now}
		l.buckets[client] = b
	}
	b.tokens = min(RateBurst, b.tokens+now.Sub(b.at).Seconds()*RatePerSecond)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (a *App) search(w http.ResponseWriter, r *http.Request) {
	client, _, _ := net.SplitHostPort(r.RemoteAddr)
	if !weak(r, "ratelimit") && !a.limits.allow(client, time.Now()) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "rate limited"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"synthetic": true, "results": []string{}})
}

// csrfToken derives the token of a CSRF cookie value (so the server keeps no state).
func (a *App) csrfToken(cookie string) string {
	m := hmac.New(sha256.New, []byte(a.opts.JWTKey+":csrf"))
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *App) csrfIssue(w http.ResponseWriter, _ *http.Request) {
	cookie := base64.RawURLEncoding.EncodeToString([]byte(time.Now().Format(time.RFC3339Nano)))
	http.SetCookie(w, &http.Cookie{Name: "csrf_token", Value: cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]string{"csrf_token": a.csrfToken(cookie)})
}

func (a *App) profile(w http.ResponseWriter, r *http.Request) {
	if !weak(r, "csrf") {
		c, err := r.Cookie("csrf_token")
		got := r.Header.Get("X-CSRF-Token")
		if err != nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(a.csrfToken(c.Value))) != 1 {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "CSRF token missing or invalid"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"synthetic": true, "saved": true})
}

// jwtMe accepts an HS256 token signed with the app's key, not expired.
func (a *App) jwtMe(w http.ResponseWriter, r *http.Request) {
	refuse := func(why string) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": why})
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		if weak(r, "jwt-missing") {
			writeJSON(w, http.StatusOK, map[string]any{"synthetic": true, "user": "anonymous"})
			return
		}
		refuse("missing token")
		return
	}
	sub, why := a.verifyJWT(r, tok)
	if why != "" {
		refuse(why)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"synthetic": true, "user": sub})
}

// verifyJWT returns the token's subject, or why it is refused.
func (a *App) verifyJWT(r *http.Request, tok string) (string, string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", "malformed token"
	}
	var head struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Sub string  `json:"sub"`
		Exp float64 `json:"exp"`
	}
	if decodeSegment(parts[0], &head) != nil || decodeSegment(parts[1], &claims) != nil {
		return "", "malformed token"
	}
	switch {
	case head.Alg == "none" || head.Alg == "":
		if !weak(r, "jwt-none") {
			return "", "unsigned token"
		}
	case head.Alg != "HS256":
		return "", "algorithm not accepted"
	default:
		m := hmac.New(sha256.New, []byte(a.opts.JWTKey))
		m.Write([]byte(parts[0] + "." + parts[1]))
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if (err != nil || !hmac.Equal(sig, m.Sum(nil))) && !weak(r, "jwt-sig") {
			return "", "bad signature"
		}
	}
	if claims.Exp == 0 || (time.Unix(int64(claims.Exp), 0).Before(time.Now()) && !weak(r, "jwt-exp")) {
		return "", "token expired"
	}
	return claims.Sub, ""
}

func decodeSegment(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// authed refuses a flow request without the session token: patient data is
// never served to an anonymous caller.
func authed(h func(*http.Request, *reqInfo) (int, any)) func(*http.Request, *reqInfo) (int, any) {
	return func(r *http.Request, info *reqInfo) (int, any) {
		if r.Header.Get("Authorization") != "Bearer "+demoToken {
			return http.StatusUnauthorized, map[string]string{"error": "missing or invalid token"}
		}
		return h(r, info)
	}
}

// securityRoutes adds the security endpoints to mux.
func (a *App) securityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathSearch, a.search)
	mux.HandleFunc("GET "+PathCSRF, a.csrfIssue)
	mux.HandleFunc("POST "+PathProfile, a.profile)
	mux.HandleFunc("GET "+PathJWT, a.jwtMe)
}
