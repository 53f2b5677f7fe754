// Package approvals is golive's approval web app (`golive approvals serve`):
// server-rendered pages, for a phone and a keyboard, where people without a
// terminal read a release's plan and state and sign their inputs with a
// passkey. It reads state through the status query and sends the same Updates
// the CLI sends, so every rule stays in the workflow.
//
// The passkey signs the digest of the input's canonical statement, built by
// the same workflows functions the CLI uses (Signoff.SignoffStatement,
// Attest.Statement...). The assertion travels in the Update's "passkey" field
// and the release workflow judges it against the directory it pinned; this
// server checks it first only to give an early, clear error.
package approvals

import (
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

// DefaultAddr is where `golive approvals serve` listens.
const DefaultAddr = "127.0.0.1:8234"

// releaseWorkflowType is the registered name of workflows.ReleaseWorkflow.
const releaseWorkflowType = "ReleaseWorkflow"

// Options configure a Server.
type Options struct {
	// Client reaches Temporal.
	Client client.Client
	// Directory is the team directory (people, roles, passkeys, webauthn RP):
	// the same file the worker loads. The workflow judges inputs by the copy
	// its release pinned; the server uses this one to pick forms and to enroll.
	Directory *directory.Directory
	// LinkKey signs links and invites (LoadOrCreateKey).
	LinkKey []byte
	// BaseURL is the origin links point at; one of the directory's webauthn origins.
	BaseURL string
	// EnrollDir receives each enrolled passkey's YAML snippet; it also marks invites used.
	EnrollDir string
	// Now is the clock (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Server serves the approval pages.
type Server struct {
	o       Options
	web     *webauthn.WebAuthn
	pages   *template.Template
	mu      sync.Mutex
	dir     *directory.Directory
	pending map[string]*pending
	done    map[string]*Result
	enrolls map[string]*webauthn.SessionData
}

//go:embed templates/*.html
var templateFS embed.FS

// New checks the options and builds a Server.
func New(o Options) (*Server, error) {
	if o.Client == nil || o.Directory == nil {
		return nil, errors.New("approvals: a Temporal client and a team directory are required")
	}
	if len(o.LinkKey) < 16 {
		return nil, errors.New("approvals: a link key of at least 16 bytes is required")
	}
	base, err := BaseURL(o.Directory, o.BaseURL)
	if err != nil {
		return nil, err
	}
	o.BaseURL = base
	rp := o.Directory.RP()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	web, err := webauthn.New(&webauthn.Config{RPID: rp.ID, RPDisplayName: "golive approvals", RPOrigins: rp.Origins})
	if err != nil {
		return nil, fmt.Errorf("approvals: %w", err)
	}
	pages, err := template.New("").Funcs(template.FuncMap{"join": strings.Join}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Server{o: o, dir: o.Directory, web: web, pages: pages, pending: map[string]*pending{}, done: map[string]*Result{}, enrolls: map[string]*webauthn.SessionData{}}, nil
}

// Handler routes the pages and the two JSON endpoints of each signing flow.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", s.index)
	m.HandleFunc("GET /r/{release}", s.plan)
	m.HandleFunc("GET /l/{release}/{person}/{code}", s.short)
	m.HandleFunc("GET /done/{token}", s.donePage)
	m.HandleFunc("POST /nojs", s.noScript)
	m.HandleFunc("POST /api/challenge", s.challenge)
	m.HandleFunc("POST /api/submit", s.submit)
	m.HandleFunc("GET /enroll/{person}", s.enrollPage)
	m.HandleFunc("POST /api/enroll/begin", s.enrollBegin)
	m.HandleFunc("POST /api/enroll/finish", s.enrollFinish)
	return securityHeaders(m)
}

// securityHeaders: no framing (a cross-origin frame could not sign anyway), no referrer (links carry their signature).
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// BaseURL is the origin links point at: base, which must be one of the
// directory's webauthn origins, or the first of them when base is empty.
func BaseURL(d *directory.Directory, base string) (string, error) {
	rp := d.RP()
	if rp.ID == "" {
		return "", fmt.Errorf("approvals: the team directory %s has no webauthn block (rp_id, origins): passkeys cannot be used", d.File)
	}
	base = strings.TrimSuffix(base, "/")
	if base == "" {
		return rp.Origins[0], nil
	}
	if !containsString(rp.Origins, base) {
		return "", fmt.Errorf("approvals: base URL %s is not among the directory's webauthn origins (%s): browsers would refuse the passkeys", base, strings.Join(rp.Origins, ", "))
	}
	return base, nil
}

// directory is the team directory the server reads now.
func (s *Server) directory() *directory.Directory {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dir
}

// Reload makes the server read d from now on: what an operator does after a
// signed directory change (an enrolled passkey). The relying party must not
// change (the passkeys' browsers are bound to it).
func (s *Server) Reload(d *directory.Directory) error {
	if d.RP().ID != s.directory().RP().ID {
		return fmt.Errorf("approvals: the new directory's webauthn rp_id %q is not %q: restart the server", d.RP().ID, s.directory().RP().ID)
	}
	if _, err := BaseURL(d, s.o.BaseURL); err != nil {
		return err
	}
	s.mu.Lock()
	s.dir = d
	s.mu.Unlock()
	return nil
}

// BaseURL is the origin the server's links point at.
func (s *Server) BaseURL() string { return s.o.BaseURL }

// ReleaseLink is the full signed link to release for person, valid for ttl:
// what notices carry.
func (s *Server) ReleaseLink(release, person string, ttl time.Duration) string {
	return s.o.BaseURL + ReleasePath(s.o.LinkKey, Link{Release: release, Person: person, Expires: s.o.Now().Add(ttl)})
}

// status reads a release's current run and its status.
func (s *Server) status(ctx context.Context, release string) (record.Status, string, bool, error) {
	id := workflows.ParseRelease(release)
	desc, err := s.o.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return record.Status{}, "", false, fmt.Errorf("find release %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	runID := info.GetExecution().GetRunId()
	v, err := s.o.Client.QueryWorkflow(ctx, id, runID, workflows.StatusQuery)
	if err != nil {
		return record.Status{}, "", false, fmt.Errorf("query %s: %w", id, err)
	}
	var st record.Status
	if err := v.Get(&st); err != nil {
		return record.Status{}, "", false, fmt.Errorf("decode status of %s: %w", id, err)
	}
	return st, runID, info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// running lists the running releases, newest first.
func (s *Server) running(ctx context.Context) ([]string, error) {
	res, err := s.o.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "ExecutionStatus = 'Running'", PageSize: 200})
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	var ids []string
	for _, e := range res.GetExecutions() {
		if e.GetType().GetName() == releaseWorkflowType {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
	}
	return ids, nil
}

// snapshot resolves the server's directory for a release's service and environment.
func (s *Server) snapshot(st record.Status) *directory.Snapshot {
	snap, err := s.directory().Resolve(st.Service, st.Environment)
	if err != nil {
		return nil
	}
	return &snap
}

func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	if err := s.pages.ExecuteTemplate(w, name, data); err != nil {
		s.o.Logger.Error("render", "page", name, "err", err)
	}
}

// page is what every page template gets.
type page struct {
	Title   string
	Error   string
	Person  string
	Plan    *Plan
	List    []Waiting
	Result  *Result
	Enroll  *enrollView
	Message string
}

func (s *Server) fail(w http.ResponseWriter, code int, title, msg string) {
	s.render(w, code, "message.html", page{Title: title, Error: msg})
}

// index lists the releases waiting for the person given by ?p= (a form asks).
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	person := r.URL.Query().Get("p")
	pg := page{Title: "Releases waiting for you", Person: person}
	if person != "" {
		if _, ok := s.directory().Person(person); !ok {
			pg.Error = fmt.Sprintf("%q is not a person of the team directory.", person)
		} else {
			pg.List, pg.Error = s.waitingFor(r.Context(), person)
		}
	}
	s.render(w, http.StatusOK, "index.html", pg)
}

func (s *Server) waitingFor(ctx context.Context, person string) ([]Waiting, string) {
	ids, err := s.running(ctx)
	if err != nil {
		return nil, err.Error()
	}
	var out []Waiting
	for _, id := range ids {
		st, _, _, err := s.status(ctx, id)
		if err != nil {
			continue
		}
		snap := s.snapshot(st)
		if snap == nil {
			continue
		}
		if what := WaitingFor(st, *snap, person); len(what) > 0 {
			out = append(out, Waiting{Release: id, Service: st.Service, Environment: st.Environment, Version: st.Version, Stage: string(st.Stage), What: what,
				Link: ReleasePath(s.o.LinkKey, Link{Release: id, Person: person, Expires: s.o.Now().Add(DefaultLinkTTL)})})
		}
	}
	return out, ""
}

// plan shows one release. A valid link names the reader and shows their
// forms; without one (or with an expired one) the page is for reading.
func (s *Server) plan(w http.ResponseWriter, r *http.Request) {
	release := workflows.ParseRelease(r.PathValue("release"))
	q := r.URL.Query()
	person, linkErr := "", ""
	if q.Has("sig") {
		if l, err := CheckLink(s.o.LinkKey, release, q, s.o.Now()); err != nil {
			linkErr = "This link cannot sign anything: " + err.Error() + ". You can still read the plan; ask for a new link or open the list of releases waiting for you."
		} else {
			person = l.Person
		}
	}
	st, _, _, err := s.status(r.Context(), release)
	if err != nil {
		s.fail(w, http.StatusNotFound, "Release not found", err.Error())
		return
	}
	zone := time.UTC
	if tz := q.Get("tz"); tz != "" {
		if z, err := time.LoadLocation(tz); err == nil {
			zone = z
		}
	}
	p := BuildPlan(st, s.snapshot(st), person, zone)
	if p.Me != nil {
		p.Me.Link = linkQuery(q)
	}
	s.render(w, http.StatusOK, "plan.html", page{Title: st.Service + " " + st.Version + " to " + st.Environment, Plan: &p, Error: linkErr, Person: person})
}

// short checks a notice's short link and sends the reader to the release
// page with the full signed link (same person, release and expiry).
func (s *Server) short(w http.ResponseWriter, r *http.Request) {
	release := workflows.ParseRelease(r.PathValue("release"))
	l, err := CheckShort(s.o.LinkKey, release, r.PathValue("person"), r.PathValue("code"), s.o.Now())
	if err != nil {
		s.fail(w, http.StatusForbidden, "This link cannot be used", "This link cannot sign anything: "+err.Error()+". Ask for a new link, or open the list of releases waiting for you.")
		return
	}
	http.Redirect(w, r, ReleasePath(s.o.LinkKey, l), http.StatusSeeOther)
}

// noScript answers a form sent without JavaScript: nothing is signed or sent.
func (s *Server) noScript(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, "message.html", page{Title: "Signing needs a passkey",
		Error: "Nothing was sent. Signing asks your device for its passkey, which needs JavaScript on this page: turn it on and try again, or use the golive CLI with your SSH key."})
}

func linkQuery(q map[string][]string) string {
	var parts []string
	for _, k := range []string{"p", "exp", "sig"} {
		if v := q[k]; len(v) > 0 {
			parts = append(parts, k+"="+template.URLQueryEscaper(v[0]))
		}
	}
	return strings.Join(parts, "&")
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// digestHex is the SHA-256 of b in hex.
func digestHex(b []byte) string {
	sum := sha256.Sum256(b)
	return fmt.Sprintf("%x", sum)
}
