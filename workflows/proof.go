package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/record"
)

// ReleaseRef names the release run an input is for. The workflow builds it
// from what it knows; the CLI from DescribeWorkflowExecution and the status
// query. Every input statement is built from it, by the methods below, so the
// CLI and the workflow cannot disagree on what is signed.
type ReleaseRef struct {
	WorkflowID string
	RunID      string
	Version    string
	SpecDigest string
}

func (ref ReleaseRef) statement(input, person string, at time.Time, fields ...approval.Field) approval.InputStatement {
	return approval.InputStatement{
		WorkflowID: ref.WorkflowID, RunID: ref.RunID, Input: input, Person: person,
		Version: ref.Version, SpecDigest: ref.SpecDigest, SignedAt: at, Fields: fields,
	}
}

// Statement is what the person signs to attest these items.
func (a Attest) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(AttestName, a.Person, a.SignedAt,
		approval.Field{Name: "items", Value: strings.Join(a.Items, ",")}, approval.Field{Name: "comment", Value: a.Comment})
}

// Statement is what the person signs to ask for this rollback.
func (q RollbackRequest) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(RollbackName, q.Person, q.SignedAt,
		approval.Field{Name: "reason", Value: string(q.Reason)}, approval.Field{Name: "comment", Value: q.Comment})
}

// Statement is what the person signs to acknowledge this alert.
func (k Ack) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(AckName, k.Person, k.SignedAt,
		approval.Field{Name: "alert-id", Value: k.AlertID}, approval.Field{Name: "comment", Value: k.Comment})
}

// Statement is what the person signs to abort the release.
func (a Abort) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(AbortName, a.Person, a.SignedAt, approval.Field{Name: "reason", Value: a.Reason})
}

// Statement is what the person signs to hold the release.
func (h Hold) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(HoldName, h.Person, h.SignedAt, approval.Field{Name: "reason", Value: h.Reason})
}

// Statement is what the person signs to resume the release.
func (h Resume) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(ResumeName, h.Person, h.SignedAt)
}

// Statement is what the person signs to retry a failed step.
func (q Retry) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(RetryName, q.Person, q.SignedAt, approval.Field{Name: "step", Value: q.Step}, approval.Field{Name: "reason", Value: q.Reason})
}

// Statement is what the person signs to consent to skipping an item.
func (q Skip) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(SkipName, q.Person, q.SignedAt, approval.Field{Name: "item", Value: q.Item}, approval.Field{Name: "reason", Value: q.Reason})
}

// Statement is what the person signs to consent to deploying inside a freeze.
func (q OverrideFreeze) Statement(ref ReleaseRef) approval.InputStatement {
	return ref.statement(OverrideFreezeName, q.Person, q.SignedAt, approval.Field{Name: "freeze", Value: q.Freeze}, approval.Field{Name: "reason", Value: q.Reason})
}

// Signoff statements keep their own format (approval.Statement), which names
// the open block as well; SignoffStatement builds it.
func (s Signoff) SignoffStatement(ref ReleaseRef, block string) approval.Statement {
	return approval.Statement{
		WorkflowID: ref.WorkflowID, RunID: ref.RunID, Block: block, Slot: s.Slot,
		Person: s.Person, Decision: string(s.Decision), Comment: s.Comment, Version: ref.Version,
		SpecDigest: ref.SpecDigest, SignedAt: s.SignedAt,
	}
}

// signed is what every human input but the sign-off offers for its proof.
type signed interface {
	claimant() string
	signature() (string, time.Time)
	Statement(ReleaseRef) approval.InputStatement
}

// passkeyOf is the WebAuthn assertion an input carries, if its type has one.
func passkeyOf(in any) *passkey.Assertion {
	switch v := in.(type) {
	case Signoff:
		return v.Passkey
	case Attest:
		return v.Passkey
	case Ack:
		return v.Passkey
	case RollbackRequest:
		return v.Passkey
	}
	return nil
}

func (a Attest) claimant() string                        { return a.Person }
func (a Attest) signature() (string, time.Time)          { return a.Signature, a.SignedAt }
func (q RollbackRequest) claimant() string               { return q.Person }
func (q RollbackRequest) signature() (string, time.Time) { return q.Signature, q.SignedAt }
func (k Ack) claimant() string                           { return k.Person }
func (k Ack) signature() (string, time.Time)             { return k.Signature, k.SignedAt }
func (a Abort) claimant() string                         { return a.Person }
func (a Abort) signature() (string, time.Time)           { return a.Signature, a.SignedAt }
func (h Hold) claimant() string                          { return h.Person }
func (h Hold) signature() (string, time.Time)            { return h.Signature, h.SignedAt }
func (h Resume) claimant() string                        { return h.Person }
func (h Resume) signature() (string, time.Time)          { return h.Signature, h.SignedAt }
func (q Retry) claimant() string                         { return q.Person }
func (q Retry) signature() (string, time.Time)           { return q.Signature, q.SignedAt }
func (q Skip) claimant() string                          { return q.Person }
func (q Skip) signature() (string, time.Time)            { return q.Signature, q.SignedAt }
func (q OverrideFreeze) claimant() string                { return q.Person }
func (q OverrideFreeze) signature() (string, time.Time)  { return q.Signature, q.SignedAt }

// Bounds on a signing time: how old a signed input may be when it arrives
// (sign-offs: their block's timeout, at least an hour), and how far a signer's
// clock may run ahead of the workflow's.
const (
	inputMaxAge   = 15 * time.Minute
	signatureSkew = 5 * time.Minute
)

// ref is this run's ReleaseRef.
func (r *release) ref(ctx workflow.Context) ReleaseRef {
	info := workflow.GetInfo(ctx)
	return ReleaseRef{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Version: r.in.Version, SpecDigest: r.in.SpecDigest}
}

// errNoDirectory refuses inputs that come before the plan stage pinned the team directory.
var errNoDirectory = errors.New("the release has not pinned its team directory yet (stage plan): try again in a moment")

// proveInput checks an input's signature against the keys the pinned team
// directory holds for the person who claims it, and returns the signing key's
// fingerprint ("" for an unsigned input the directory's policy accepts).
// Releases started before the directory (version 0) took these inputs unsigned.
func (r *release) proveInput(ctx workflow.Context, in signed) (string, error) {
	if r.v < versionIdentity {
		return "", nil
	}
	sig, at := in.signature()
	st := in.Statement(r.ref(ctx))
	if pk := passkeyOf(in); pk != nil {
		return r.provePasskey(ctx, st.Input, in.claimant(), sig, at, inputMaxAge, pk, st.Bytes())
	}
	return r.prove(ctx, st.Input, in.claimant(), sig, at, inputMaxAge, func(keys string) (approval.Verified, error) {
		return approval.VerifyInput(st, sig, keys)
	})
}

// provePasskey judges a WebAuthn assertion instead of an SSH signature: its
// challenge must be SHA-256 of the statement this workflow builds, for the
// relying party, origins and user-verification rule of the pinned directory,
// signed by one of the person's passkeys there; it counts once and must be
// fresh. The workflow verifies it itself, so the approval server can show a
// wrong page but cannot forge an approval.
func (r *release) provePasskey(ctx workflow.Context, input, person, sig string, at time.Time, maxAge time.Duration, pk *passkey.Assertion, statement []byte) (string, error) {
	if r.dir == nil {
		return "", errNoDirectory
	}
	if strings.TrimSpace(sig) != "" {
		return "", fmt.Errorf("%s carries both an SSH signature and a passkey assertion: send one proof", input)
	}
	creds := r.dir.Passkeys(person)
	if len(creds) == 0 {
		return "", fmt.Errorf("passkey refused: %s has no passkey in the team directory %s", person, short(r.dir.Digest))
	}
	v, err := passkey.VerifyAssertion(*pk, passkey.Challenge(statement), creds, r.dir.RP(), r.dir.RequireUserVerification())
	if err != nil {
		return "", fmt.Errorf("passkey refused: %w", err)
	}
	if when, used := r.usedSigs[v.Replay]; used {
		return "", fmt.Errorf("passkey refused: this %s assertion was already used at %s (a replayed input counts once)", input, when.UTC().Format(time.RFC3339))
	}
	if err := approval.CheckFreshness(at, workflow.Now(ctx), maxAge, signatureSkew); err != nil {
		return "", fmt.Errorf("passkey refused: %w", err)
	}
	r.usedSigs[v.Replay] = workflow.Now(ctx)
	return v.Fingerprint, nil
}

// prove is the one place a signature is judged: the directory must be pinned,
// the person must hold a key there, the signature must verify, be fresh and
// not have been used before (a replayed input is refused).
func (r *release) prove(ctx workflow.Context, input, person, sig string, at time.Time, maxAge time.Duration, verify func(keys string) (approval.Verified, error)) (string, error) {
	if r.dir == nil {
		return "", errNoDirectory
	}
	if strings.TrimSpace(sig) == "" {
		if r.dir.RequireSigned() {
			return "", fmt.Errorf("%s must be signed in environment %s (the team directory requires signatures): sign with golive --key or ssh-agent; an unsigned signal, such as one sent from the Temporal UI, is refused", input, r.dir.Environment)
		}
		return "", nil
	}
	keys := r.dir.KeyLines(person)
	if keys == "" {
		return "", fmt.Errorf("signature refused: %s holds no key in the team directory %s", person, short(r.dir.Digest))
	}
	digest := sigDigest(sig)
	if when, used := r.usedSigs[digest]; used {
		return "", fmt.Errorf("signature refused: this signed %s was already used at %s (a replayed input counts once)", input, when.UTC().Format(time.RFC3339))
	}
	v, err := verify(keys)
	if err != nil {
		return "", fmt.Errorf("signature refused: %w", err)
	}
	if err := approval.CheckFreshness(at, workflow.Now(ctx), maxAge, signatureSkew); err != nil {
		return "", fmt.Errorf("signature refused: %w", err)
	}
	r.usedSigs[digest] = workflow.Now(ctx)
	return v.Fingerprint, nil
}

// proven records an accepted input with its proof.
func (r *release) proven(ctx workflow.Context, input, person, fingerprint, detail string) {
	if r.v < versionIdentity {
		return
	}
	r.st.Proofs = append(r.st.Proofs, record.Proof{At: workflow.Now(ctx), Input: input, Person: person, Fingerprint: fingerprint, Detail: detail})
}

func sigDigest(sig string) string {
	d := sha256.Sum256([]byte(strings.Join(strings.Fields(sig), "")))
	return hex.EncodeToString(d[:])
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
