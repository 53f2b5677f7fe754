package approvals

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/workflows"
)

// challengeTTL is how long a prepared statement waits for its assertion.
const challengeTTL = 5 * time.Minute

// Action is an input the pages can sign.
type Action string

// The inputs the approval pages offer.
const (
	ActionSignoff  Action = workflows.SignoffName
	ActionAttest   Action = workflows.AttestName
	ActionAck      Action = workflows.AckName
	ActionRollback Action = workflows.RollbackName
)

// Request is what a page's form asks to sign: which release (with the link
// that names the person), which input and its fields.
type Request struct {
	Release  string   `json:"release"`
	P        string   `json:"p"`
	Exp      string   `json:"exp"`
	Sig      string   `json:"sig"`
	Action   Action   `json:"action"`
	Slot     string   `json:"slot,omitempty"`
	Decision string   `json:"decision,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Items    []string `json:"items,omitempty"`
	Alert    string   `json:"alert,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}

// Challenge is the server's answer: the statement to sign and the WebAuthn
// request options (challenge = SHA-256 of the statement's bytes).
type Challenge struct {
	Token            string   `json:"token"`
	Challenge        string   `json:"challenge"`
	RPID             string   `json:"rp_id"`
	AllowCredentials []string `json:"allow_credentials"`
	UserVerification string   `json:"user_verification"`
	Statement        string   `json:"statement"`
}

// pending is a statement waiting for its assertion.
type pending struct {
	release, runID, service, environment, person string
	name                                         string
	input                                        any
	challenge                                    []byte
	statement                                    string
	summary                                      string
	expires                                      time.Time
}

// Result is what the confirmation page shows.
type Result struct {
	Release, Input, Person, Name, Summary, Statement string
	Credential, Fingerprint                          string
	Message                                          string
	Duplicate                                        bool
	// VerifiedBy says who judged the passkey: the release workflow.
	VerifiedBy string
	At         string
}

func (s *Server) challenge(w http.ResponseWriter, r *http.Request) {
	var req Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		jsonError(w, http.StatusBadRequest, "the request is not JSON: "+err.Error())
		return
	}
	c, code, err := s.prepare(r.Context(), req)
	if err != nil {
		jsonError(w, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// prepare checks the link, builds the input and its statement for the
// release's current run, and keeps them until the assertion comes.
func (s *Server) prepare(ctx context.Context, req Request) (Challenge, int, error) {
	release := workflows.ParseRelease(req.Release)
	link, err := CheckLink(s.o.LinkKey, release, url.Values{"p": {req.P}, "exp": {req.Exp}, "sig": {req.Sig}}, s.o.Now())
	if err != nil {
		return Challenge{}, http.StatusForbidden, err
	}
	st, runID, running, err := s.status(ctx, release)
	if err != nil {
		return Challenge{}, http.StatusNotFound, err
	}
	if !running {
		return Challenge{}, http.StatusConflict, fmt.Errorf("release %s is not running", release)
	}
	snap := s.snapshot(st)
	if snap == nil {
		return Challenge{}, http.StatusConflict, fmt.Errorf("the team directory has no environment %q", st.Environment)
	}
	creds := snap.Passkeys(link.Person)
	if len(creds) == 0 {
		return Challenge{}, http.StatusConflict, fmt.Errorf("%s has no passkey in the team directory: ask an admin for `golive directory invite %s`", link.Person, link.Person)
	}
	ref := workflows.ReleaseRef{WorkflowID: release, RunID: runID, Version: st.Version, SpecDigest: st.SpecDigest}
	at := s.o.Now().UTC().Truncate(time.Second)
	p := &pending{release: release, runID: runID, service: st.Service, environment: st.Environment, person: link.Person, name: string(req.Action), expires: s.o.Now().Add(challengeTTL)}
	var stmt []byte
	switch req.Action {
	case ActionSignoff:
		block := ""
		for _, sl := range st.Slots {
			if sl.ID == req.Slot {
				block = sl.Block
			}
		}
		if block == "" {
			return Challenge{}, http.StatusBadRequest, fmt.Errorf("release %s has no sign-off slot %q", release, req.Slot)
		}
		in := workflows.Signoff{Slot: req.Slot, Person: link.Person, Decision: workflows.Decision(req.Decision), Comment: req.Comment, SignedAt: at}
		stmt, p.input, p.summary = in.SignoffStatement(ref, block).Bytes(), in, fmt.Sprintf("%s slot %s of %s", req.Decision, req.Slot, block)
	case ActionAttest:
		in := workflows.Attest{Person: link.Person, Items: req.Items, Comment: req.Comment, SignedAt: at}
		stmt, p.input, p.summary = in.Statement(ref).Bytes(), in, fmt.Sprintf("attest %d items", len(req.Items))
	case ActionAck:
		in := workflows.Ack{Person: link.Person, AlertID: req.Alert, Comment: req.Comment, SignedAt: at}
		stmt, p.input, p.summary = in.Statement(ref).Bytes(), in, "acknowledge alert "+req.Alert
	case ActionRollback:
		in := workflows.RollbackRequest{Person: link.Person, Reason: workflows.RollbackReason(req.Reason), Comment: req.Comment, SignedAt: at}
		stmt, p.input, p.summary = in.Statement(ref).Bytes(), in, "request a rollback ("+req.Reason+")"
	default:
		return Challenge{}, http.StatusBadRequest, fmt.Errorf("unknown action %q", req.Action)
	}
	p.challenge, p.statement = passkey.Challenge(stmt), string(stmt)
	token := newToken()
	s.mu.Lock()
	s.sweep()
	s.pending[token] = p
	s.mu.Unlock()
	ids := make([]string, len(creds))
	for i, c := range creds {
		ids[i] = c.ID
	}
	uv := "preferred"
	if snap.RequireUserVerification() {
		uv = "required"
	}
	return Challenge{Token: token, Challenge: passkey.EncodeB64(p.challenge), RPID: snap.RP().ID, AllowCredentials: ids, UserVerification: uv, Statement: p.statement}, 0, nil
}

// Submission is the browser's assertion for a prepared statement.
type Submission struct {
	Token     string            `json:"token"`
	Assertion passkey.Assertion `json:"assertion"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	var sub Submission
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&sub); err != nil {
		jsonError(w, http.StatusBadRequest, "the request is not JSON: "+err.Error())
		return
	}
	res, code, err := s.send(r.Context(), sub)
	if err != nil {
		jsonError(w, code, err.Error())
		return
	}
	s.mu.Lock()
	s.done[sub.Token] = res
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"done": "/done/" + sub.Token, "message": res.Message})
}

// send takes the prepared statement (once), judges the assertion and sends the Update.
func (s *Server) send(ctx context.Context, sub Submission) (*Result, int, error) {
	s.mu.Lock()
	p, ok := s.pending[sub.Token]
	delete(s.pending, sub.Token)
	s.mu.Unlock()
	if !ok || s.o.Now().After(p.expires) {
		return nil, http.StatusGone, errors.New("this signing request is unknown or expired: start again from the release page")
	}
	snap, err := s.directory().Resolve(p.service, p.environment)
	if err != nil {
		return nil, http.StatusConflict, err
	}
	// A courtesy, not the judge: the release workflow verifies the assertion
	// itself against the directory its release pinned (workflows.provePasskey),
	// so a compromised server still cannot forge what the workflow accepts.
	// Checking here first gives the person a clear, early error and sends
	// nothing the workflow would refuse for a bad passkey.
	v, err := passkey.VerifyAssertion(sub.Assertion, p.challenge, snap.Passkeys(p.person), snap.RP(), snap.RequireUserVerification())
	if err != nil {
		return nil, http.StatusForbidden, fmt.Errorf("passkey refused: %w", err)
	}
	payload, err := withPasskey(p.input, sub.Assertion)
	if err != nil {
		return nil, http.StatusInternalServerError, err
	}
	h, err := s.o.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: p.release, RunID: p.runID, UpdateName: p.name, Args: []any{payload}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var out workflows.InputResult
	if err == nil {
		err = h.Get(ctx, &out)
	}
	if err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			return nil, http.StatusConflict, fmt.Errorf("%s refused by %s: %s", p.name, p.release, app.Message())
		}
		return nil, http.StatusBadGateway, fmt.Errorf("%s to %s: %w", p.name, p.release, err)
	}
	name := p.person
	if pp, ok := snap.Person(p.person); ok {
		name = pp.Name
	}
	s.o.Logger.Info("passkey input sent", "release", p.release, "input", p.name, "person", p.person, "passkey", v.Fingerprint)
	return &Result{Release: p.release, Input: p.name, Person: p.person, Name: name, Summary: p.summary, Statement: p.statement,
		Credential: v.Label, Fingerprint: v.Fingerprint, Message: out.Message, Duplicate: out.Duplicate, VerifiedBy: "the release workflow, against the team directory it pinned at its start",
		At: s.o.Now().UTC().Format("2006-01-02 15:04:05 UTC")}, 0, nil
}

// withPasskey is the input with the assertion in its "passkey" field
// (workflows.Signoff.Passkey and the like): the proof the workflow judges.
func withPasskey(input any, a passkey.Assertion) (any, error) {
	switch in := input.(type) {
	case workflows.Signoff:
		in.Passkey = &a
		return in, nil
	case workflows.Attest:
		in.Passkey = &a
		return in, nil
	case workflows.Ack:
		in.Passkey = &a
		return in, nil
	case workflows.RollbackRequest:
		in.Passkey = &a
		return in, nil
	}
	return nil, fmt.Errorf("approvals: %T carries no passkey", input)
}

func (s *Server) donePage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	res := s.done[r.PathValue("token")]
	s.mu.Unlock()
	if res == nil {
		s.fail(w, http.StatusNotFound, "Nothing to confirm", "This confirmation is unknown (the server restarted, or the address is wrong). The release page shows what was recorded.")
		return
	}
	s.render(w, http.StatusOK, "done.html", page{Title: "Recorded: " + res.Summary, Result: res})
}

// sweep drops expired pending statements; call with s.mu held.
func (s *Server) sweep() {
	now := s.o.Now()
	for k, p := range s.pending {
		if now.After(p.expires) {
			delete(s.pending, k)
		}
	}
}

func newToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return passkey.EncodeB64(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
