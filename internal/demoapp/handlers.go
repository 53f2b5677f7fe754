package demoapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Flow paths: the checklist's critical workflows.
const (
	PathLogin        = "/api/login"
	PathPatients     = "/api/patients"
	PathAppointments = "/api/appointments"
	PathNotes        = "/api/notes"
	PathBilling      = "/api/billing"
	// PathMe needs "Authorization: Bearer <token from login>" and answers 401
	// without it: the target of an "API authentication tested" readiness check.
	PathMe = "/api/me"
)

// demoToken is the synthetic session token login hands out.
const demoToken = "demo-session"

// setSecurityHeaders sets the headers every response carries, so readiness header checks have something real to check.
func setSecurityHeaders(h http.Header) {
	h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET "+PathMe, a.me)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /version", a.versionz)
	mux.Handle("GET /metrics", a.metrics.handler())
	mux.HandleFunc("GET /stats", a.statsz)
	mux.HandleFunc("POST /admin/deploy", a.adminDeploy)
	mux.HandleFunc("GET /admin/deploys", a.adminDeploys)
	a.securityRoutes(mux)
	mux.HandleFunc("POST "+PathLogin, a.flow(a.login))
	mux.HandleFunc("GET "+PathPatients, a.flow(authed(func(*http.Request, *reqInfo) (int, any) {
		return http.StatusOK, map[string]any{"synthetic": true, "patients": []map[string]string{
			{"id": "P-0001", "name": "Test Patient A"}, {"id": "P-0002", "name": "Test Patient B"},
		}}
	})))
	mux.HandleFunc("POST "+PathAppointments, a.flow(authed(func(*http.Request, *reqInfo) (int, any) {
		return http.StatusOK, map[string]any{"synthetic": true, "id": fmt.Sprintf("A-%06d", a.intn(1e6)), "status": "scheduled"}
	})))
	mux.HandleFunc("POST "+PathNotes, a.flow(authed(func(*http.Request, *reqInfo) (int, any) {
		return http.StatusOK, map[string]any{"synthetic": true, "id": fmt.Sprintf("N-%06d", a.intn(1e6)), "status": "saved"}
	})))
	mux.HandleFunc("GET "+PathBilling, a.flow(authed(func(*http.Request, *reqInfo) (int, any) {
		return http.StatusOK, map[string]any{"synthetic": true, "open_invoices": 3, "outstanding_cents": 12500}
	})))
	return a.instrument(mux)
}

// reqInfo is filled in by flow handlers and read by the instrumenting middleware.
type reqInfo struct {
	user  string
	login int // 0 none, 1 success, 2 refused, 3 error
	// gone is set when the client went away before an answer; such requests are not recorded.
	gone bool
}

type infoKey struct{}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// instrument sets security headers and records metrics and window stats for every request.
func (a *App) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		setSecurityHeaders(w.Header())
		if weak(r, "csp") {
			w.Header().Set("Content-Security-Policy", weakCSP)
		}
		if cors(w, r) {
			return
		}
		info := &reqInfo{user: r.Header.Get("X-Demo-User")}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		path := "other"
		if _, p, ok := strings.Cut(r.Pattern, " "); ok {
			path = p
		}
		if info.gone {
			return
		}
		a.metrics.observe(path, sw.code, d)
		if strings.HasPrefix(path, "/api/") {
			a.stats.add(event{at: time.Now(), status: sw.code, latency: d, user: info.user, login: info.login})
		}
	})
}

// flow wraps a critical-flow handler with the live version's behaviour:
// a few ms for healthy versions; for bad ones ~+300ms p95 and ~30% 500s,
// reached over the first RampUp after the version went live.
func (a *App) flow(h func(*http.Request, *reqInfo) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		info, _ := r.Context().Value(infoKey{}).(*reqInfo)
		if info == nil {
			info = &reqInfo{}
		}
		// A bad version degrades over its first seconds live, like a leak: smoke
		// tests right after the deploy usually pass and the watch catches it.
		harm := a.harm()
		lat := time.Millisecond + time.Duration(a.intn(3000))*time.Microsecond
		if a.float64n() < 0.4*harm {
			lat += 280*time.Millisecond + time.Duration(a.intn(60))*time.Millisecond
		}
		if !sleep(r.Context(), lat) {
			info.gone = true
			return
		}
		if a.float64n() < 0.3*harm {
			if r.URL.Path == PathLogin {
				info.login = 3
				a.metrics.logins.WithLabelValues("error").Inc()
			}
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
			return
		}
		code, body := h(r, info)
		writeJSON(w, code, body)
	}
}

// login accepts any user with password "demo" or an empty body (smoke tests);
// any other password is refused with 401 and counts as a failed login.
func (a *App) login(r *http.Request, info *reqInfo) (int, any) {
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	_ = json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in)
	if in.User != "" {
		info.user = in.User
	}
	if in.Password != "" && in.Password != "demo" {
		info.login = 2
		a.metrics.logins.WithLabelValues("failure").Inc()
		return http.StatusUnauthorized, map[string]string{"error": "invalid credentials"}
	}
	info.login = 1
	a.metrics.logins.WithLabelValues("success").Inc()
	return http.StatusOK, map[string]any{"synthetic": true, "token": demoToken}
}

func (a *App) index(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"service": "golive demo app", "version": a.Version(), "synthetic": true})
}

func (a *App) me(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+demoToken {
		w.Header().Set("WWW-Authenticate", `Bearer realm="demo"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or invalid token"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"synthetic": true, "user": "demo-user"})
}

func (a *App) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	// A bad version reports itself unhealthy once fully degraded (see RampUp).
	if v := a.Version(); a.harm() >= 1 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "unhealthy: version %s\n", v)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (a *App) versionz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"version": a.Version()})
}

func (a *App) statsz(w http.ResponseWriter, _ *http.Request) {
	s := a.stats.snapshot(time.Now())
	s.Version = a.Version()
	writeJSON(w, http.StatusOK, s)
}

// DeployRequest is the body of POST /admin/deploy.
type DeployRequest struct {
	Version string `json:"version"`
	// Key makes the request idempotent: the same key is applied once.
	Key string `json:"key,omitempty"`
}

// DeployResponse is the answer of POST /admin/deploy.
type DeployResponse struct {
	Previous string    `json:"previous"`
	Live     string    `json:"live"`
	At       time.Time `json:"at"`
	// Replayed is true when the key had been applied before and nothing changed now.
	Replayed bool `json:"replayed"`
}

func (a *App) adminDeploy(w http.ResponseWriter, r *http.Request) {
	var in DeployRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON: " + err.Error()})
		return
	}
	rec, replayed, err := a.SetVersion(in.Version, in.Key)
	switch {
	case errors.Is(err, ErrKeyReused):
		writeJSON(w, http.StatusConflict, map[string]string{"error": err.Error()})
		return
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, DeployResponse{Previous: rec.From, Live: rec.To, At: rec.At, Replayed: replayed})
}

func (a *App) adminDeploys(w http.ResponseWriter, _ *http.Request) {
	log := a.DeployLog()
	if log == nil {
		log = []Deploy{}
	}
	writeJSON(w, http.StatusOK, log)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// sleep waits d or until ctx ends; it reports whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
