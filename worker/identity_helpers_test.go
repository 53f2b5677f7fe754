package worker_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// keyOf is a demo person's private key (examples/directory/keys, DEMO ONLY).
func keyOf(t testing.TB, person string) ssh.Signer {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "directory", "keys", person))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// liveRelease is one release under test on a real server, with helpers that send
// inputs the way the CLI does (signed with the person's demo key) or the way a
// forger would.
type liveRelease struct {
	t   testing.TB
	ctx context.Context
	c   client.Client
	id  string
	run client.WorkflowRun
	s   spec.Spec
	in  workflows.ReleaseInput
}

// productionSpec is the compressed demo spec in environment production, whose
// policy in the demo directory requires every human input to be signed.
func productionSpec(t testing.TB) (spec.Spec, *demoapp.App) {
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 40, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	s := fastSpec(t, srv.URL)
	s.Environment = "production"
	return s, app
}

// startSigned starts a release requested by requester, signed with signer's
// key ("" for an unsigned start).
func startSigned(ctx context.Context, t testing.TB, c client.Client, s spec.Spec, requester, signer string) *liveRelease {
	t.Helper()
	in := workflows.ReleaseInput{Spec: s, SpecFile: "release.yaml", SpecDigest: "digest-of-release-yaml", Version: "1.1.0", Requester: requester}
	if signer != "" {
		in.StartSignedAt = time.Now().UTC().Truncate(time.Second)
		sig, err := approval.SignInput(keyOf(t, signer), in.StartStatement())
		if err != nil {
			t.Fatal(err)
		}
		in.StartSignature = sig
	}
	id := workflows.ReleaseID(s.Service, s.Environment)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true}, workflows.ReleaseWorkflow, in)
	if err != nil {
		t.Fatal(err)
	}
	return &liveRelease{t: t, ctx: ctx, c: c, id: id, run: run, s: s, in: in}
}

func (r *liveRelease) ref() workflows.ReleaseRef {
	return workflows.ReleaseRef{WorkflowID: r.id, RunID: r.run.GetRunID(), Version: r.in.Version, SpecDigest: r.in.SpecDigest}
}

func (r *liveRelease) status() record.Status {
	r.t.Helper()
	qctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	defer cancel()
	v, err := r.c.QueryWorkflow(qctx, r.id, r.run.GetRunID(), workflows.StatusQuery)
	if err != nil {
		r.t.Fatalf("status query: %v", err)
	}
	var st record.Status
	if err := v.Get(&st); err != nil {
		r.t.Fatal(err)
	}
	return st
}

// waitFor polls the status until ok, failing the test if the release ends first.
func (r *liveRelease) waitFor(what string, ok func(record.Status) bool) record.Status {
	r.t.Helper()
	for r.ctx.Err() == nil {
		st := r.status()
		if ok(st) {
			return st
		}
		if st.Stage == record.StageDone {
			r.t.Fatalf("release ended (%s: %s) while waiting for %s", st.Outcome, st.Reason, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	st := r.status()
	r.t.Fatalf("timed out waiting for %s: stage %s, waiting %q, outcome %s (%s), audit head %q", what, st.Stage, st.Waiting, st.Outcome, st.Reason, st.AuditHead)
	return record.Status{}
}

// update sends one input as an Update and returns the workflow's answer.
func (r *liveRelease) update(name string, arg any) (workflows.InputResult, error) {
	h, err := r.c.UpdateWorkflow(r.ctx, client.UpdateWorkflowOptions{WorkflowID: r.id, RunID: r.run.GetRunID(), UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	var res workflows.InputResult
	if err == nil {
		err = h.Get(r.ctx, &res)
	}
	return res, err
}

// signoff is a sign-off by person for slot, signed with keyOwner's key ("" unsigned).
func (r *liveRelease) signoff(person, slot, block, keyOwner string) workflows.Signoff {
	s := workflows.Signoff{Slot: slot, Person: person, Decision: workflows.Approve, Comment: "ok"}
	if keyOwner == "" {
		return s
	}
	s.SignedAt = time.Now().UTC().Truncate(time.Second)
	sig, err := approval.Sign(keyOf(r.t, keyOwner), s.SignoffStatement(r.ref(), block))
	if err != nil {
		r.t.Fatal(err)
	}
	s.Signature = sig
	return s
}

// attest is an attestation by person, signed with keyOwner's key ("" unsigned).
func (r *liveRelease) attest(person, keyOwner string, items ...string) workflows.Attest {
	a := workflows.Attest{Person: person, Items: items}
	if keyOwner != "" {
		a.SignedAt = time.Now().UTC().Truncate(time.Second)
		a.Signature = r.sign(keyOwner, a.Statement(r.ref()))
	}
	return a
}

func (r *liveRelease) sign(keyOwner string, st approval.InputStatement) string {
	r.t.Helper()
	sig, err := approval.SignInput(keyOf(r.t, keyOwner), st)
	if err != nil {
		r.t.Fatal(err)
	}
	return sig
}

// answer drives the release to its end as its people would, every input
// signed with its person's key: attestations, then each waiting slot.
func (r *liveRelease) answer() record.Status {
	r.t.Helper()
	return r.answerUntil(func(st record.Status) bool { return st.Stage == record.StageDone })
}

// answerUntil answers as answer does until until holds.
func (r *liveRelease) answerUntil(until func(record.Status) bool) record.Status {
	r.t.Helper()
	done := map[string]bool{}
	return r.waitFor("the release to go on", func(st record.Status) bool {
		if until(st) {
			return true
		}
		for _, it := range st.Items {
			if it.State != record.ItemWaiting || it.Mode != record.ModeAttest || done["item/"+it.ID] {
				continue
			}
			for _, p := range r.s.Members(it.Role) {
				if p.ID == st.Requester {
					continue
				}
				if _, err := r.update(workflows.AttestName, r.attest(p.ID, p.ID, it.ID)); err == nil {
					done["item/"+it.ID] = true
					break
				}
			}
		}
		used := map[string]bool{st.Requester: true}
		for _, sl := range st.Slots {
			for _, by := range sl.By {
				used[sl.Block+"/"+by.Person] = true
			}
		}
		for _, sl := range st.Slots {
			if sl.State != record.ItemWaiting {
				continue
			}
			for _, p := range r.s.Members(sl.Role) {
				if used[p.ID] || used[sl.Block+"/"+p.ID] {
					continue
				}
				if _, err := r.update(workflows.SignoffName, r.signoff(p.ID, sl.ID, sl.Block, p.ID)); err == nil {
					used[sl.Block+"/"+p.ID] = true
					break
				}
			}
		}
		return false
	})
}

func (r *liveRelease) hold(person, keyOwner, reason string) workflows.Hold {
	h := workflows.Hold{Person: person, Reason: reason, SignedAt: time.Now().UTC().Truncate(time.Second)}
	h.Signature = r.sign(keyOwner, h.Statement(r.ref()))
	return h
}

func (r *liveRelease) resume(person, keyOwner string) workflows.Resume {
	h := workflows.Resume{Person: person, SignedAt: time.Now().UTC().Truncate(time.Second)}
	h.Signature = r.sign(keyOwner, h.Statement(r.ref()))
	return h
}

func (r *liveRelease) abort(person, keyOwner, reason string) workflows.Abort {
	a := workflows.Abort{Person: person, Reason: reason, SignedAt: time.Now().UTC().Truncate(time.Second)}
	a.Signature = r.sign(keyOwner, a.Statement(r.ref()))
	return a
}

func (r *liveRelease) rollback(person, keyOwner string, reason workflows.RollbackReason) workflows.RollbackRequest {
	q := workflows.RollbackRequest{Person: person, Reason: reason, SignedAt: time.Now().UTC().Truncate(time.Second)}
	q.Signature = r.sign(keyOwner, q.Statement(r.ref()))
	return q
}

func (r *liveRelease) retry(person, keyOwner, step, reason string) workflows.Retry {
	q := workflows.Retry{Person: person, Step: step, Reason: reason, SignedAt: time.Now().UTC().Truncate(time.Second)}
	q.Signature = r.sign(keyOwner, q.Statement(r.ref()))
	return q
}

func (r *liveRelease) overrideFreeze(person, keyOwner, freeze, reason string) workflows.OverrideFreeze {
	q := workflows.OverrideFreeze{Person: person, Freeze: freeze, Reason: reason, SignedAt: time.Now().UTC().Truncate(time.Second)}
	q.Signature = r.sign(keyOwner, q.Statement(r.ref()))
	return q
}

func (r *liveRelease) ack(person, keyOwner, alert string) workflows.Ack {
	k := workflows.Ack{Person: person, AlertID: alert, SignedAt: time.Now().UTC().Truncate(time.Second)}
	k.Signature = r.sign(keyOwner, k.Statement(r.ref()))
	return k
}

func (r *liveRelease) item(st record.Status, id string) record.Item {
	for _, it := range st.Items {
		if it.ID == id {
			return it
		}
	}
	r.t.Fatalf("no item %s", id)
	return record.Item{}
}

// keyFingerprint is the SHA256 fingerprint of a demo person's key.
func keyFingerprint(t testing.TB, person string) string {
	return ssh.FingerprintSHA256(keyOf(t, person).PublicKey())
}

func refusedForInput(st record.Status, input string) []record.Refusal {
	var out []record.Refusal
	for _, rf := range st.Refused {
		if rf.Input == input {
			out = append(out, rf)
		}
	}
	return out
}

// refusedFor finds the refusals of input claimed by person.
func refusedFor(st record.Status, input, person string) []record.Refusal {
	var out []record.Refusal
	for _, rf := range st.Refused {
		if rf.Input == input && rf.Person == person {
			out = append(out, rf)
		}
	}
	return out
}

// mustRefuse fails unless err is a refusal whose reason contains want.
func mustRefuse(t testing.TB, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s was accepted", what)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("%s refused for another reason: %v (want %q)", what, err, want)
	}
}
