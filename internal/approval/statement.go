// Package approval makes sign-offs verifiable: an approver signs a canonical
// statement of what they decide (which release, which run, which slot, approve or
// reject, the comment, when) with their SSH key, and the release workflow
// verifies the signature against the public key the release spec registers for
// that person before it accepts the sign-off.
//
// Signatures use the OpenSSH signature format (SSHSIG, as made by
// `ssh-keygen -Y sign`) in the namespace "golive-approval", so a signature made
// for anything else (a git commit, a file) never counts as an approval. Keys may
// be ed25519, ECDSA (nistp256/384/521) or RSA (at least 2048 bits, signed with
// rsa-sha2-256 or rsa-sha2-512).
//
// Sign, OpenSigner and the agent access do I/O and belong to the CLI. Statement,
// ParseKeys, Verify and CheckFreshness are pure functions of their arguments
// (no clock, no randomness, no I/O), so workflow code may call them.
package approval

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Namespace is the SSH signature namespace of golive approvals (ssh-keygen -Y sign -n).
const Namespace = "golive-approval"

// statementHeader is the first line of every canonical statement; it changes
// when the format does.
const statementHeader = "golive-approval-v1"

// Statement is what an approver signs. The release workflow builds it from its
// own knowledge (workflow ID, run ID, open block, version, spec digest) and from
// the sign-off's fields (slot as sent, person, decision, comment, signed-at), so
// a signature made for any other release, run, block, slot, decision or comment
// does not verify.
type Statement struct {
	// WorkflowID is the release's workflow ID, e.g. "release:patient-portal:production".
	WorkflowID string
	// RunID is the release workflow's run ID.
	RunID string
	// Block is the sign-off block open when the statement was made (approvals, completion, review).
	Block string
	// Slot is the slot ID exactly as the sign-off names it; empty means "the one
	// open slot of Block my roles can fill".
	Slot string
	// Person is the signer's person ID in the release spec.
	Person string
	// Decision is "approve" or "reject".
	Decision string
	// Comment is the sign-off's comment, byte for byte.
	Comment string
	// Version is the version being released.
	Version string
	// SpecDigest identifies the spec the release runs (ReleaseInput.SpecDigest).
	SpecDigest string
	// SignedAt is when the approver signed (Signoff.SignedAt). It is compared
	// with allowed_signers validity windows and, by CheckFreshness, with the
	// workflow's clock.
	SignedAt time.Time
}

// Bytes returns the canonical form of s: the exact bytes that are signed. One
// "name value" line per field in a fixed order, each value quoted with
// strconv.QuoteToASCII (so newlines or quotes in a comment cannot forge another
// field, and the bytes do not depend on Unicode tables), the time in UTC RFC 3339
// with nanoseconds. The format is stable; a change would bump statementHeader.
func (s Statement) Bytes() []byte {
	var b strings.Builder
	b.WriteString(statementHeader)
	b.WriteByte('\n')
	field := func(name, value string) {
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(strconv.QuoteToASCII(value))
		b.WriteByte('\n')
	}
	field("workflow-id", s.WorkflowID)
	field("run-id", s.RunID)
	field("block", s.Block)
	field("slot", s.Slot)
	field("person", s.Person)
	field("decision", s.Decision)
	field("version", s.Version)
	field("spec-digest", s.SpecDigest)
	field("signed-at", s.SignedAt.UTC().Format(time.RFC3339Nano))
	field("comment", s.Comment)
	return []byte(b.String())
}

// String is the canonical form as text (what `ssh-keygen -Y sign -n golive-approval` would sign).
func (s Statement) String() string { return string(s.Bytes()) }

// Validate reports a statement that cannot be signed or verified: the fields
// that identify the release, the run, the block, the person and the decision,
// and the signing time, are required.
func (s Statement) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"workflow ID", s.WorkflowID}, {"run ID", s.RunID}, {"block", s.Block},
		{"person", s.Person}, {"decision", s.Decision},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if s.SignedAt.IsZero() {
		missing = append(missing, "signing time")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: approval statement without %s", ErrMalformed, strings.Join(missing, ", "))
	}
	return nil
}

// Reasons a signature is refused. Verify and CheckFreshness wrap one of them
// (a registered key that is too weak wraps both ErrMalformed and ErrWeakKey);
// test with errors.Is. The message says what was wrong, never anything secret.
var (
	// ErrUnsigned: the sign-off carries no signature.
	ErrUnsigned = errors.New("unsigned")
	// ErrMalformed: the signature, the statement or a key line cannot be parsed.
	ErrMalformed = errors.New("malformed")
	// ErrNamespace: the signature was made for another purpose (not "golive-approval").
	ErrNamespace = errors.New("wrong signature namespace")
	// ErrUnknownKey: the signing key is not registered for the person (or not
	// for this namespace or time).
	ErrUnknownKey = errors.New("key not registered for this person")
	// ErrWeakKey: the key type or size, or the signature algorithm, is not accepted.
	ErrWeakKey = errors.New("key or signature algorithm not accepted")
	// ErrBadSignature: the signature does not match the statement: it was made
	// for another release, run, block, slot, decision, comment or time, or altered.
	ErrBadSignature = errors.New("signature does not match")
	// ErrStale: the statement was signed too long ago, or claims a time too far in the future.
	ErrStale = errors.New("signature time out of range")
)

// CheckFreshness refuses a statement signed more than maxAge before now, or more
// than skew after now (the signer's clock runs ahead). Pass workflow.Now(ctx) as
// now in workflow code. maxAge 0 disables the age check.
func CheckFreshness(signedAt, now time.Time, maxAge, skew time.Duration) error {
	if signedAt.IsZero() {
		return fmt.Errorf("%w: no signing time", ErrStale)
	}
	if signedAt.After(now.Add(skew)) {
		return fmt.Errorf("%w: signed at %s, %s after the workflow's time %s (allowed clock skew %s)",
			ErrStale, signedAt.UTC().Format(time.RFC3339), signedAt.Sub(now).Round(time.Second), now.UTC().Format(time.RFC3339), skew)
	}
	if maxAge > 0 && now.Sub(signedAt) > maxAge {
		return fmt.Errorf("%w: signed at %s, %s before the workflow's time %s (at most %s allowed)",
			ErrStale, signedAt.UTC().Format(time.RFC3339), now.Sub(signedAt).Round(time.Second), now.UTC().Format(time.RFC3339), maxAge)
	}
	return nil
}

func (s Statement) who() string     { return s.Person }
func (s Statement) when() time.Time { return s.SignedAt }
func (s Statement) describe() string {
	return fmt.Sprintf("sign-off (%s, slot %q of %s, %s run %s, with this comment and time)", s.Decision, s.Slot, s.Block, s.WorkflowID, s.RunID)
}
