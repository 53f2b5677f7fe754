package demoapp

import (
	"math"
	"slices"
	"sync"
	"time"
)

// maxEvents bounds the memory of the sliding window.
const maxEvents = 100_000

// event is one critical-flow request seen by the window.
type event struct {
	at      time.Time
	status  int
	latency time.Duration
	user    string
	// login is 0 for non-login requests, 1 for a successful login, 2 for a refused one, 3 for an errored one.
	login int
}

// window keeps the critical-flow requests of the last span.
type window struct {
	span time.Duration

	mu     sync.Mutex
	events []event
}

func newWindow(span time.Duration) *window { return &window{span: span} }

func (w *window) add(e event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(e.at)
	if len(w.events) >= maxEvents {
		w.events = w.events[1:]
	}
	w.events = append(w.events, e)
}

// reset forgets every event (a new version went live).
func (w *window) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = nil
}

func (w *window) pruneLocked(now time.Time) {
	cut := now.Add(-w.span)
	i := 0
	for i < len(w.events) && w.events[i].at.Before(cut) {
		i++
	}
	if i > 0 {
		w.events = append(w.events[:0], w.events[i:]...)
	}
}

// Stats is the JSON summary served by GET /stats over the sliding window.
// Rates and latency are null when the window holds no request they could be
// computed from, so a reader never mistakes "no data" for "healthy".
type Stats struct {
	Version  string `json:"version"`
	Requests int    `json:"requests"`
	Errors   int    `json:"errors"`
	// ErrorRate is the share of 5xx answers, in percent (0-100).
	ErrorRate *float64 `json:"error_rate"`
	// LatencyP95 is the 95th percentile of request latency, in milliseconds.
	LatencyP95 *float64 `json:"latency_p95_ms"`
	// FailedLoginRate is the share of refused logins among login attempts, in percent.
	FailedLoginRate *float64 `json:"failed_login_rate"`
	// ActiveUsers is how many distinct users made requests in the window.
	ActiveUsers int `json:"active_users"`
	// WindowSeconds is the length of the window.
	WindowSeconds float64 `json:"window_seconds"`
}

func (w *window) snapshot(now time.Time) Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pruneLocked(now)
	s := Stats{Requests: len(w.events), WindowSeconds: w.span.Seconds()}
	users := map[string]struct{}{}
	lat := make([]time.Duration, 0, len(w.events))
	logins, refused := 0, 0
	for _, e := range w.events {
		if e.status >= 500 {
			s.Errors++
		}
		if e.user != "" {
			users[e.user] = struct{}{}
		}
		switch e.login {
		case 1, 3:
			logins++
		case 2:
			logins++
			refused++
		}
		lat = append(lat, e.latency)
	}
	s.ActiveUsers = len(users)
	if s.Requests > 0 {
		s.ErrorRate = ptr(round2(100 * float64(s.Errors) / float64(s.Requests)))
		slices.Sort(lat)
		idx := int(math.Ceil(0.95*float64(len(lat)))) - 1
		s.LatencyP95 = ptr(round2(float64(lat[max(idx, 0)]) / float64(time.Millisecond)))
	}
	if logins > 0 {
		s.FailedLoginRate = ptr(round2(100 * float64(refused) / float64(logins)))
	}
	return s
}

func ptr(f float64) *float64 { return &f }

func round2(f float64) float64 { return math.Round(f*100) / 100 }
