// Package audit is golive's audit ledger: an append-only table in golive's own
// PostgreSQL database holding every stage change, approval (accepted or refused,
// with reason and actor), notification, metric decision and rollback step of
// every release. Each row is hash-chained to the one before it: its hash is the
// SHA-256 of the canonical JSON of the row, which includes the previous row's
// hash, so a modified, inserted or deleted row breaks the chain and Verify names
// it. Retention is the database's (HIPAA asks for six years), not Temporal's.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// DefaultTable is the ledger table.
const DefaultTable = "golive_audit"

// DefaultWriter is the role that may append to the ledger and nothing else.
const DefaultWriter = "golive_audit_writer"

// Genesis is the previous hash of the first row.
const Genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// Kinds of events.
const (
	KindStage        = "stage"
	KindApproval     = "approval"
	KindAttestation  = "attestation"
	KindNotification = "notification"
	KindMetric       = "metric"
	KindRollback     = "rollback"
	KindItem         = "item"
	// KindDirectory: the team directory a release pinned.
	KindDirectory = "directory"
	// KindInput: a human input other than a sign-off (start, attest, ack, steering), accepted or refused.
	KindInput = "input"
	// KindDecision: a decision on a failed step (retry, skip, rollback, abort,
	// or golive's default at the decision timeout); Action is the choice.
	KindDecision = "decision"
	// KindFreeze: a release held by a freeze window, or a freeze overridden by two rollback approvers.
	KindFreeze = "freeze"
	// KindDrill: a scheduled recovery drill's result (DrillWorkflow); Action is
	// its state, Data["drill"] its kind.
	KindDrill = "drill"
)

// DrillRelease is the release ID prefix of the ledger rows of one service's
// drills of one kind; each run appends under DrillRelease(...) + "/" + its run ID.
func DrillRelease(service, kind string) string { return "drill:" + service + ":" + kind }

// Event is one thing that happened in a release. Never secrets, never patient data.
type Event struct {
	// At is when it happened (the workflow's time); zero means when it is appended.
	At time.Time `json:"at"`
	// Kind is stage, approval, attestation, notification, metric, rollback or item.
	Kind string `json:"kind"`
	// Actor is who did it: a person's ID, or "golive".
	Actor string `json:"actor,omitempty"`
	// Action is what happened: "deploy" (stage), "approved" / "rejected", "sent", "rollback_trigger"...
	Action string `json:"action"`
	// Reason is why (a rejection's comment, a breach, a rollback trigger).
	Reason string `json:"reason,omitempty"`
	// Data holds further facts (slot, item, channel, metric value...).
	Data map[string]string `json:"data,omitempty"`
}

// Row is a ledger row.
type Row struct {
	Seq       int64             `json:"seq"`
	ReleaseID string            `json:"release_id"`
	At        time.Time         `json:"at"`
	Kind      string            `json:"kind"`
	Actor     string            `json:"actor"`
	Action    string            `json:"action"`
	Reason    string            `json:"reason"`
	Data      map[string]string `json:"data"`
	// Key makes appends idempotent (Temporal run + activity + index); empty outside activities.
	Key      string `json:"key"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// ComputeHash computes the row's hash: SHA-256 over the canonical JSON of every field
// but the hash itself (prev_hash included), hex-encoded.
func (r Row) ComputeHash() string {
	sum := sha256.Sum256(r.canonical())
	return hex.EncodeToString(sum[:])
}

// canonical is the row without its hash as canonical JSON.
func (r Row) canonical() []byte {
	data := map[string]any{}
	for k, v := range r.Data {
		data[k] = v
	}
	b, err := Canonical(map[string]any{
		"seq":        r.Seq,
		"release_id": r.ReleaseID,
		"at":         FormatTime(r.At),
		"kind":       r.Kind,
		"actor":      r.Actor,
		"action":     r.Action,
		"reason":     r.Reason,
		"data":       data,
		"key":        r.Key,
		"prev_hash":  r.PrevHash,
	})
	if err != nil {
		panic(err) // strings and integers always encode
	}
	return b
}

// FormatTime is the text form of a timestamp in the hash: UTC, microseconds
// (PostgreSQL's precision), RFC 3339.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z07:00")
}

// Canonical encodes v as canonical JSON: object keys sorted, no insignificant
// whitespace, no HTML escaping, numbers as written. The same value always gives
// the same bytes.
func Canonical(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil { // maps encode with sorted keys
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Problem is the first place the chain breaks.
type Problem struct {
	// Seq is the first tampered row (modified, or missing when Missing is set).
	Seq     int64  `json:"seq"`
	Missing bool   `json:"missing,omitempty"`
	Reason  string `json:"reason"`
}

func (p Problem) String() string { return fmt.Sprintf("row %d: %s", p.Seq, p.Reason) }

// VerifyReport is the outcome of walking the chain.
type VerifyReport struct {
	Rows int64 `json:"rows"`
	// HeadSeq and Head are the last row and its hash: keep them elsewhere (the
	// release evidence) to detect the removal of rows from the end.
	HeadSeq int64    `json:"head_seq"`
	Head    string   `json:"head"`
	Problem *Problem `json:"problem,omitempty"`
}

// OK reports whether the chain is intact.
func (v VerifyReport) OK() bool { return v.Problem == nil }

// Chain checks rows in seq order and stops at the first problem: a gap in seq
// (a deleted row), a hash that does not match the row's content (the row was
// changed), or a prev_hash that is not the previous row's hash (the previous row
// was changed and its hash recomputed).
type Chain struct {
	prev    string
	nextSeq int64
	rep     VerifyReport
}

// NewChain starts a walk at the genesis.
func NewChain() *Chain { return &Chain{prev: Genesis, nextSeq: 1} }

// Add checks the next row; it returns false once a problem is found.
func (c *Chain) Add(r Row) bool {
	if c.rep.Problem != nil {
		return false
	}
	c.rep.Rows++
	switch {
	case r.Seq != c.nextSeq:
		c.rep.Problem = &Problem{Seq: c.nextSeq, Missing: true,
			Reason: fmt.Sprintf("missing: the ledger jumps from row %d to row %d (deleted)", c.nextSeq-1, r.Seq)}
	case r.ComputeHash() != r.Hash:
		c.rep.Problem = &Problem{Seq: r.Seq, Reason: "changed: its content does not match its hash"}
	case r.PrevHash != c.prev && r.Seq == 1:
		c.rep.Problem = &Problem{Seq: 1, Reason: "changed: the first row does not start at the genesis hash"}
	case r.PrevHash != c.prev:
		c.rep.Problem = &Problem{Seq: r.Seq - 1,
			Reason: fmt.Sprintf("changed and rehashed: its hash is not the one row %d recorded as its predecessor", r.Seq)}
	}
	if c.rep.Problem != nil {
		return false
	}
	c.prev, c.nextSeq = r.Hash, r.Seq+1
	c.rep.HeadSeq, c.rep.Head = r.Seq, r.Hash
	return true
}

// Report returns the walk's outcome.
func (c *Chain) Report() VerifyReport { return c.rep }
