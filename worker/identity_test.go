package worker_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

// A spec that names a person the team directory does not hold is refused by
// the worker itself (not only by the CLI), naming the spec file, the path and
// the person; nothing runs.
func TestSpecNamingAPersonTheDirectoryLacksIsRefusedByTheWorker(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, app := productionSpec(t)
	s.Team["compliance_officer"] = []spec.Person{{ID: "mallory", Name: "Mallory"}}
	r := startSigned(ctx, t, c, s, "erin", "erin")
	st := r.waitFor("the end", func(st record.Status) bool { return st.Stage == record.StageDone })
	if st.Outcome != record.OutcomeFailed || !strings.Contains(st.Reason, "start refused") {
		t.Fatalf("outcome %s (%s), want failed: start refused", st.Outcome, st.Reason)
	}
	for _, want := range []string{"release.yaml", "team.compliance_officer[0]", "mallory"} {
		if !strings.Contains(st.Reason, want) {
			t.Errorf("reason %q does not name %s", st.Reason, want)
		}
	}
	if rf := refusedFor(st, workflows.StartName, "erin"); len(rf) != 1 || rf[0].Channel != record.ChannelStart {
		t.Errorf("start refusal not recorded: %+v", st.Refused)
	}
	if st.Directory == nil || st.Directory.Digest == "" || len(st.Directory.Signers) < 2 {
		t.Errorf("pinned directory %+v: want its digest and two admin signers", st.Directory)
	}
	if app.Version() != "1.0.0" {
		t.Errorf("app at %s after a refused start", app.Version())
	}
}

// Where the directory requires signatures, the requester is whoever signed the
// start: an unsigned start and a start claiming erin but signed with alice's
// key are both refused; erin's own signature starts the release, recorded
// with her key's fingerprint.
func TestStartIsProvenByTheRequestersOwnKey(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, _ := productionSpec(t)
	for _, tc := range []struct{ name, signer, want string }{
		{"unsigned", "", "must be signed"},
		{"signed with another person's key", "alice", "signature refused"},
		{"by a person who may not start releases", "", "may start a release"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requester := "erin"
			if tc.want == "may start a release" {
				requester = "alice"
				tc.signer = "alice"
			}
			r := startSigned(ctx, t, c, s, requester, tc.signer)
			st := r.waitFor("the end", func(st record.Status) bool { return st.Stage == record.StageDone })
			if st.Outcome != record.OutcomeFailed || !strings.Contains(st.Reason, tc.want) {
				t.Fatalf("outcome %s (%s), want failed with %q", st.Outcome, st.Reason, tc.want)
			}
		})
	}
	r := startSigned(ctx, t, c, s, "erin", "erin")
	st := r.waitFor("readiness", func(st record.Status) bool { return st.Stage == record.StageReadiness })
	if st.RequesterFingerprint != keyFingerprint(t, "erin") {
		t.Fatalf("requester fingerprint %q, want erin's key %s", st.RequesterFingerprint, keyFingerprint(t, "erin"))
	}
	if !strings.Contains(r.item(st, "plan.record").Value, "erin (signed SHA256:") {
		t.Errorf("plan item %+v does not name the signed requester", r.item(st, "plan.record"))
	}
	_, _ = r.update(workflows.AbortName, r.abort("erin", "erin", "test over"))
}

// Separation of duties holds under any claimed id: the requester cannot sign
// off her own release, nor sign in another person's name with her key, nor
// send that person's approval unsigned; the approver's own key is accepted
// and recorded with its fingerprint.
func TestSelfApprovalUnderAnyIDIsRefused(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, _ := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	r.waitFor("readiness", func(st record.Status) bool {
		return st.Stage == record.StageReadiness && st.Waiting != nil && st.Waiting.Kind == record.WaitPerson
	})
	for _, p := range []string{"alice", "bob", "carol", "dave"} {
		if _, err := r.update(workflows.AttestName, r.attest(p, p)); err != nil {
			t.Fatalf("signed attestation by %s: %v", p, err)
		}
	}
	r.waitFor("approvals", func(st record.Status) bool {
		return st.Stage == record.StageApprovals && st.Waiting != nil && st.Waiting.Kind == record.WaitPerson
	})
	_, err := r.update(workflows.SignoffName, r.signoff("erin", "development_lead", "approvals", "erin"))
	mustRefuse(t, "the requester's own sign-off", err, "separation of duties")
	_, err = r.update(workflows.SignoffName, r.signoff("alice", "development_lead", "approvals", "erin"))
	mustRefuse(t, "a sign-off for alice signed with erin's key", err, "signature refused")
	_, err = r.update(workflows.SignoffName, r.signoff("alice", "development_lead", "approvals", ""))
	mustRefuse(t, "an unsigned sign-off for alice", err, "must be signed")
	good := r.signoff("alice", "development_lead", "approvals", "alice")
	if _, err := r.update(workflows.SignoffName, good); err != nil {
		t.Fatalf("alice's signed sign-off: %v", err)
	}
	_, err = r.update(workflows.SignoffName, good)
	mustRefuse(t, "the same signed sign-off replayed", err, "already used")
	st := r.status()
	for _, sl := range st.Slots {
		if sl.ID == "development_lead" && (len(sl.By) != 1 || sl.By[0].Fingerprint != keyFingerprint(t, "alice")) {
			t.Errorf("development_lead signed by %+v, want alice with her key", sl.By)
		}
	}
	if got := refusedFor(st, workflows.SignoffName, "alice"); len(got) != 3 {
		t.Errorf("refusals claimed by alice: %+v, want three (erin's key, unsigned, replay)", got)
	}
	_, _ = r.update(workflows.AbortName, r.abort("erin", "erin", "test over"))
}

// Attest, ack, hold, resume, abort and rollback without a valid proof are
// refused and recorded in a production policy; with one they are accepted
// and recorded with the key's fingerprint.
func TestEveryHumanInputNeedsAProofInProduction(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, app := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	r.waitFor("readiness", func(st record.Status) bool {
		return st.Stage == record.StageReadiness && st.Waiting != nil && st.Waiting.Kind == record.WaitPerson
	})

	_, err := r.update(workflows.AttestName, r.attest("carol", ""))
	mustRefuse(t, "an unsigned attestation", err, "must be signed")
	_, err = r.update(workflows.AttestName, r.attest("carol", "dave"))
	mustRefuse(t, "carol's attestation signed by dave", err, "signature refused")
	_, err = r.update(workflows.HoldName, workflows.Hold{Person: "erin", Reason: "unsigned"})
	mustRefuse(t, "an unsigned hold", err, "must be signed")
	hold := r.hold("erin", "erin", "vendor call")
	if _, err := r.update(workflows.HoldName, hold); err != nil {
		t.Fatalf("signed hold: %v", err)
	}
	_, err = r.update(workflows.ResumeName, workflows.Resume{Person: "bob"})
	mustRefuse(t, "an unsigned resume", err, "must be signed")
	if _, err := r.update(workflows.ResumeName, r.resume("bob", "bob")); err != nil {
		t.Fatalf("signed resume: %v", err)
	}
	// Replaying the captured hold does not hold the release again.
	_, err = r.update(workflows.HoldName, hold)
	mustRefuse(t, "the replayed hold", err, "already used")

	st := r.answerUntil(func(st record.Status) bool {
		return st.Stage == record.StageWatch || st.Stage == record.StagePostDeploy
	})
	_, err = r.update(workflows.RollbackName, workflows.RollbackRequest{Person: "alice", Reason: workflows.ReasonSecurity})
	mustRefuse(t, "an unsigned rollback request", err, "must be signed")
	_, err = r.update(workflows.AbortName, workflows.Abort{Person: "erin", Reason: "unsigned"})
	mustRefuse(t, "an unsigned abort", err, "must be signed")
	if _, err := r.update(workflows.RollbackName, r.rollback("alice", "alice", workflows.ReasonSecurity)); err != nil {
		t.Fatalf("signed rollback: %v", err)
	}
	st = r.waitFor("the end", func(st record.Status) bool { return st.Stage == record.StageDone || st.Stage == record.StageReview })
	if st.Outcome != record.OutcomeRolledBack && st.Rollback == nil {
		t.Fatalf("outcome %s (%s), want a rollback", st.Outcome, st.Reason)
	}
	if app.Version() != "1.0.0" {
		t.Errorf("app at %s after the rollback", app.Version())
	}
	want := map[string]string{workflows.StartName: "erin", workflows.HoldName: "erin", workflows.ResumeName: "bob", workflows.RollbackName: "alice"}
	for _, p := range st.Proofs {
		if who, ok := want[p.Input]; ok && p.Person == who && p.Fingerprint == keyFingerprint(t, who) {
			delete(want, p.Input)
		}
	}
	if len(want) > 0 {
		t.Errorf("no proof with the right fingerprint recorded for %v; proofs %+v", want, st.Proofs)
	}
	for _, in := range []string{workflows.AttestName, workflows.HoldName, workflows.ResumeName, workflows.RollbackName, workflows.AbortName} {
		if len(refusedForInput(st, in)) == 0 {
			t.Errorf("no refusal of %s recorded", in)
		}
	}
}

// directoryCopy writes the demo directory with old replaced by new next to a
// copy of its signatures, for tampering and rotation tests.
func directoryCopy(t *testing.T, old, new string) string {
	t.Helper()
	src := filepath.Join("..", "examples", "directory", "demo.yaml")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(src + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "team.yaml")
	if !strings.Contains(string(b), old) {
		t.Fatalf("the demo directory has no %q", old)
	}
	if err := os.WriteFile(dst, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst+".sig", sig, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// A directory changed after its admins signed it (here: carol granted
// development_lead) no longer has its quorum: a worker that reads it for a
// release refuses the release (golive worker refuses to start on it at all:
// TestWorkerRefusesADirectoryWithoutItsQuorum in cmd/golive).
func TestADirectoryWithoutItsAdminQuorumIsRefused(t *testing.T) {
	tampered := directoryCopy(t, "roles: [compliance_officer]", "roles: [compliance_officer, development_lead]")
	admins := filepath.Join("..", "examples", "directory", "admins")
	dir := &activities.Directory{Path: tampered, AdminsFile: admins}
	c := startServerWithDirectory(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, _ := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	st := r.waitFor("the end", func(st record.Status) bool { return st.Stage == record.StageDone })
	if st.Outcome != record.OutcomeFailed || !strings.Contains(st.Reason, "team directory refused") {
		t.Fatalf("outcome %s (%s), want a refused directory", st.Outcome, st.Reason)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A key rotated in the directory stops counting for new releases at once:
// carol's inputs signed with her old key are refused, with her new key accepted.
func TestARotatedKeyNoLongerVerifiesNewInputs(t *testing.T) {
	keyLine := func(person string) string { // "type base64", without the comment
		f := strings.Fields(readFile(t, filepath.Join("..", "examples", "directory", "keys", person+".pub")))
		return f[0] + " " + f[1]
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	newSigner, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	rotated := directoryCopy(t, keyLine("carol"), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(newSigner.PublicKey()))))
	c := startServerWithDirectory(t, &activities.Directory{Path: rotated, Verify: directory.VerifyOptions{AllowUnsigned: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, _ := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	r.waitFor("readiness", func(st record.Status) bool {
		return st.Stage == record.StageReadiness && st.Waiting != nil && st.Waiting.Kind == record.WaitPerson
	})
	_, err = r.update(workflows.AttestName, r.attest("carol", "carol"))
	mustRefuse(t, "carol's attestation with her rotated-out key", err, "signature refused")
	a := workflows.Attest{Person: "carol", SignedAt: time.Now().UTC().Truncate(time.Second)}
	if a.Signature, err = approval.SignInput(newSigner, a.Statement(r.ref())); err != nil {
		t.Fatal(err)
	}
	if _, err := r.update(workflows.AttestName, a); err != nil {
		t.Fatalf("carol's attestation with her new key: %v", err)
	}
	st := r.status()
	if st.Directory == nil || len(st.Directory.Signers) != 0 {
		t.Errorf("pinned directory %+v: an unsigned directory must pin no signers", st.Directory)
	}
	_, _ = r.update(workflows.AbortName, r.abort("erin", "erin", "test over"))
}
