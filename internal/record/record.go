// Package record holds the release record: the filled checklist that the status
// query returns, the evidence pack renders and the audit ledger stores. It lives
// apart from the workflows package so activities can read it without importing
// workflow code.
package record

import (
	"encoding/json"
	"strings"
	"time"
)

// ReleasePrefix starts every release's workflow ID ("release:SERVICE:ENVIRONMENT",
// built by workflows.ReleaseID and read by workflows.ParseRelease). It lives here
// so the notification catalogue can shorten an ID without importing workflow code.
const ReleasePrefix = "release:"

// ShortRelease is the short form of a release ID that commands print and accept
// ("SERVICE:ENVIRONMENT"), the inverse of workflows.ParseRelease.
func ShortRelease(releaseID string) string { return strings.TrimPrefix(releaseID, ReleasePrefix) }

// Stage is a lifecycle stage (the README's lifecycle table, in the order of Stages).
type Stage string

// The ten stages, in order, and the terminal one.
const (
	StagePlan       Stage = "plan"
	StageReadiness  Stage = "readiness"
	StageApprovals  Stage = "approvals"
	StagePrepare    Stage = "prepare"
	StageDeploy     Stage = "deploy"
	StagePostDeploy Stage = "post_deploy"
	StageWatch      Stage = "watch"
	StageRollback   Stage = "rollback"
	StageReview     Stage = "review"
	StageEvidence   Stage = "evidence"
	StageDone       Stage = "done"
)

// Stages lists the stages in lifecycle order with the checklist section each encodes.
var Stages = []struct {
	Stage Stage
	Title string
}{
	{StagePlan, "Plan"},
	{StageReadiness, "Pre-Deployment Checklist"},
	{StageApprovals, "Sign-offs: Deployment Approved By"},
	{StagePrepare, "Deployment Day: Pre-Deployment (T-4 hours)"},
	{StageDeploy, "Deployment (T-0)"},
	{StagePostDeploy, "Post-Deployment (T+1 hour)"},
	{StageWatch, "First 24 Hours Post-Deployment"},
	{StageRollback, "Rollback Procedures"},
	{StageReview, "Post-Deployment Review (24-48 hours)"},
	{StageEvidence, "Evidence"},
}

// Outcome is how a release ended (or "running").
type Outcome string

// Release outcomes.
const (
	OutcomeRunning    Outcome = "running"
	OutcomeCompleted  Outcome = "completed"
	OutcomeRolledBack Outcome = "rolled_back"
	OutcomeRejected   Outcome = "rejected"
	OutcomeAborted    Outcome = "aborted"
	OutcomeNotReady   Outcome = "not_ready"
	OutcomeTimedOut   Outcome = "timed_out"
	OutcomeFailed     Outcome = "failed"
)

// ItemState is the state of one checklist item.
type ItemState string

// Item states. Unavailable means the check could not run (not configured, provider
// down): it is never a pass.
const (
	ItemPending     ItemState = "pending"
	ItemRunning     ItemState = "running"
	ItemWaiting     ItemState = "waiting"
	ItemPassed      ItemState = "passed"
	ItemFailed      ItemState = "failed"
	ItemUnavailable ItemState = "unavailable"
	ItemSkipped     ItemState = "skipped"
)

// Done reports whether the state is final.
func (s ItemState) Done() bool {
	return s == ItemPassed || s == ItemFailed || s == ItemUnavailable || s == ItemSkipped
}

// Clears reports whether the state lets a gate through: passed, or skipped
// (by the spec, or by two rollback approvers), never anything else.
func (s ItemState) Clears() bool { return s == ItemPassed || s == ItemSkipped }

// Mode says how an item is satisfied.
type Mode string

// Item modes.
const (
	ModeAuto   Mode = "auto"
	ModeAttest Mode = "attest"
	ModeStep   Mode = "step"
)

// Item is one line of the filled checklist.
type Item struct {
	ID      string    `json:"id"`
	Stage   Stage     `json:"stage"`
	Section string    `json:"section,omitempty"`
	Title   string    `json:"title"`
	Mode    Mode      `json:"mode"`
	Role    string    `json:"role,omitempty"`
	Kind    string    `json:"kind,omitempty"`
	State   ItemState `json:"state"`
	// Optional items never block a gate.
	Optional bool `json:"optional,omitempty"`
	// Actor is who did it: a person for attestations, "golive" for automatic steps.
	Actor string    `json:"actor,omitempty"`
	At    time.Time `json:"at,omitzero"`
	// Value is what was measured or recorded (e.g. "HTTP 200 in 12ms", "v1.4.2").
	Value  string `json:"value,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Attempts are the earlier runs of a step that failed and was retried
	// (golive retry), oldest first; the item itself is the latest run.
	Attempts []Attempt `json:"attempts,omitempty"`
}

// Attempt is one earlier run of a retried step.
type Attempt struct {
	At     time.Time `json:"at"`
	State  ItemState `json:"state"`
	Value  string    `json:"value,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// SignedBy is one person's sign-off on a slot.
type SignedBy struct {
	Person  string    `json:"person"`
	Name    string    `json:"name,omitempty"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
	Signed  bool      `json:"signed,omitempty"`
	// Fingerprint is the SHA-256 fingerprint of the key that signed, when signed.
	Fingerprint string `json:"fingerprint,omitempty"`
	Decision    string `json:"decision"`
}

// SlotState is one sign-off slot.
type SlotState struct {
	Block     string     `json:"block"`
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Role      string     `json:"role"`
	MinPeople int        `json:"min_people"`
	By        []SignedBy `json:"by,omitempty"`
	State     ItemState  `json:"state"`
}

// Refusal is a human input that was refused, kept for the record. The same
// refusal repeated (same channel, input, claimed person and reason) is counted
// in Count, not stored again.
type Refusal struct {
	At    time.Time `json:"at"`
	Input string    `json:"input"`
	// Person is who the input claimed to come from; the claim was not proven.
	Person string `json:"person"`
	Slot   string `json:"slot,omitempty"`
	Reason string `json:"reason"`
	// Channel is how the input came: signal, update or start.
	Channel Channel `json:"channel,omitempty"`
	// Count is how many times this refusal came (0 for releases started before counting).
	Count int `json:"count,omitempty"`
	// LastAt is when it came last, when Count > 1.
	LastAt time.Time `json:"last_at,omitzero"`
	// PayloadBytes and PayloadDigest (SHA-256 hex) describe the first raw
	// payload; the payload itself is never kept.
	PayloadBytes  int    `json:"payload_bytes,omitempty"`
	PayloadDigest string `json:"payload_digest,omitempty"`
}

// Channel is how a human input reached the release.
type Channel string

// Input channels.
const (
	ChannelSignal Channel = "signal"
	ChannelUpdate Channel = "update"
	ChannelStart  Channel = "start"
)

// Proof is how an accepted human input was proven: the key that signed it, or
// the fact that it was not signed (where the directory's policy allows that).
type Proof struct {
	At     time.Time `json:"at"`
	Input  string    `json:"input"`
	Person string    `json:"person"`
	// Fingerprint is the SHA-256 fingerprint of the signing key; empty when unsigned.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Detail says what the input did, e.g. "abort: window moved".
	Detail string `json:"detail,omitempty"`
}

// Signed reports whether the input was signed.
func (p Proof) Signed() bool { return p.Fingerprint != "" }

// Directory is what a release pinned of the team directory at its start.
type Directory struct {
	File        string `json:"file"`
	Digest      string `json:"digest"`
	Environment string `json:"environment"`
	// Signers are the directory admins whose signatures on the file verified.
	Signers []string `json:"signers,omitempty"`
	// RequireSigned: every human input must carry a valid signature.
	RequireSigned bool `json:"require_signed"`
	// People lists each person with roles and key fingerprints, "id: role,role; SHA256:..".
	People []string `json:"people"`
}

// Verdict is the outcome of one metric reading.
type Verdict string

// Reading verdicts.
const (
	VerdictOK           Verdict = "ok"
	VerdictTargetMissed Verdict = "target_missed"
	VerdictCritical     Verdict = "critical"
	VerdictRollback     Verdict = "rollback"
	VerdictUnavailable  Verdict = "unavailable"
	// VerdictInconclusive: the metric met neither its success nor its failure condition.
	VerdictInconclusive Verdict = "inconclusive"
)

// Reading is one metric measured at one check.
type Reading struct {
	At     time.Time `json:"at"`
	Offset string    `json:"offset"`
	Phase  string    `json:"phase"`
	Metric string    `json:"metric"`
	Query  string    `json:"query,omitempty"`
	// Value is in the metric's unit: percent for rates, milliseconds for latency.
	Value   float64 `json:"value"`
	Unit    string  `json:"unit,omitempty"`
	Verdict Verdict `json:"verdict"`
	Detail  string  `json:"detail,omitempty"`
	// DryRun readings are recorded but never alert or roll back.
	DryRun bool `json:"dry_run,omitempty"`
}

// CheckReport is one watch check, sent by the monitoring child to the release.
type CheckReport struct {
	Window string        `json:"window"`
	Index  int           `json:"index"`
	Offset time.Duration `json:"offset"`
	Phase  string        `json:"phase"`
	// Targets marks the T+1h check, judged against the T+1h targets too.
	Targets  bool      `json:"targets,omitempty"`
	At       time.Time `json:"at"`
	Readings []Reading `json:"readings"`
	// Worst is the most severe verdict of the readings (dry-run ones excluded).
	Worst Verdict `json:"worst"`
	// Escalate lists problems a person must look at: measurement errors past
	// their limit, inconclusive results past theirs (the watch then waits).
	Escalate []string `json:"escalate,omitempty"`
	// Waiting is set when the watch paused for a person's decision on Escalate.
	Waiting bool `json:"waiting,omitempty"`
}

// Alert is an escalated problem.
type Alert struct {
	ID string `json:"id"`
	// Key groups alerts about one thing (a metric): one open alert per key.
	Key      string    `json:"key,omitempty"`
	Level    int       `json:"level"`
	Reason   string    `json:"reason"`
	RaisedAt time.Time `json:"raised_at"`
	// Sent counts notifications sent for it (re-sent and raised without an acknowledgement).
	Sent    int       `json:"sent"`
	AckedBy string    `json:"acked_by,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// Notice is one message delivery or failure, as the channel answered: the
// release record keeps every one (checklist: notifications sent, and proof).
type Notice struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Level  int       `json:"level,omitempty"`
	Person string    `json:"person"`
	// Channel is email, sms or log (dry run); empty when nothing could be tried.
	Channel string `json:"channel,omitempty"`
	OK      bool   `json:"ok"`
	// ID is the provider's message ID (Resend email ID, Twilio message SID).
	ID string `json:"id,omitempty"`
	// Duplicate: delivered by an earlier attempt under the same idempotency key; not sent again.
	Duplicate bool `json:"duplicate,omitempty"`
	// Fallback: this channel was tried because the person's first channel failed.
	Fallback bool `json:"fallback,omitempty"`
	Attempts int  `json:"attempts,omitempty"`
	// Error and Permanent describe a failure (redacted; permanent ones are not retried).
	Error     string `json:"error,omitempty"`
	Permanent bool   `json:"permanent,omitempty"`
}

// Comparison is one metric before and after the deploy.
type Comparison struct {
	Metric     string  `json:"metric"`
	Unit       string  `json:"unit,omitempty"`
	Baseline   float64 `json:"baseline"`
	After      float64 `json:"after"`
	Regression bool    `json:"regression"`
}

// RollbackState is the rollback record.
type RollbackState struct {
	Trigger   string    `json:"trigger"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Completed bool      `json:"completed"`
	// Frozen is set when the database could not be migrated down; the schema was left as it is.
	Frozen bool   `json:"frozen,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Status is the release as the status query returns it: the filled checklist.
type Status struct {
	ReleaseID       string    `json:"release_id"`
	Service         string    `json:"service"`
	Environment     string    `json:"environment"`
	Version         string    `json:"version"`
	PreviousVersion string    `json:"previous_version,omitempty"`
	LiveVersion     string    `json:"live_version,omitempty"`
	Requester       string    `json:"requester"`
	SpecFile        string    `json:"spec_file,omitempty"`
	SpecDigest      string    `json:"spec_digest,omitempty"`
	StartedAt       time.Time `json:"started_at"`
	Window          time.Time `json:"window"`
	DeployAt        time.Time `json:"deploy_at,omitzero"`
	Stage           Stage     `json:"stage"`
	Outcome         Outcome   `json:"outcome"`
	// Waiting is what the release waits for now and until when (nil when it is working).
	Waiting *Wait  `json:"waiting,omitempty"`
	Held    bool   `json:"held,omitempty"`
	HeldBy  string `json:"held_by,omitempty"`
	// Failure is the failed step waiting for a decision, while one does (failure policy ask).
	Failure *Failure `json:"failure,omitempty"`
	// Decisions are the decisions taken on failed steps, in order.
	Decisions []Decision `json:"decisions,omitempty"`
	// FreezeOverrides are the freezes two rollback approvers let this release deploy in.
	FreezeOverrides []FreezeOverride `json:"freeze_overrides,omitempty"`
	Items           []Item           `json:"items"`
	Slots           []SlotState      `json:"slots"`
	Refused         []Refusal        `json:"refused,omitempty"`
	// RefusedTotal counts every refused input, repeats included.
	RefusedTotal int `json:"refused_total,omitempty"`
	// Proofs lists every accepted human input with how it was proven.
	Proofs []Proof `json:"proofs,omitempty"`
	// RequesterFingerprint is the key that signed the start; empty when unsigned.
	RequesterFingerprint string `json:"requester_fingerprint,omitempty"`
	// Directory is the team directory pinned at the start (nil for releases started before directories).
	Directory *Directory     `json:"directory,omitempty"`
	Checks    []CheckReport  `json:"checks,omitempty"`
	Baseline  []Reading      `json:"baseline,omitempty"`
	Alerts    []Alert        `json:"alerts,omitempty"`
	Notices   []Notice       `json:"notices,omitempty"`
	Compare   []Comparison   `json:"compare,omitempty"`
	Rollback  *RollbackState `json:"rollback,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Evidence  string         `json:"evidence,omitempty"`
	// AuditHead is the hash of the audit ledger's last row for this release (the chain head the evidence pack prints).
	AuditHead string `json:"audit_head,omitempty"`
}

// WaitKind is what kind of thing a release waits for.
type WaitKind string

// Wait kinds.
const (
	// WaitTimer is a moment of the checklist (T-4h, T-0, T+1h, the review).
	WaitTimer WaitKind = "timer"
	// WaitPerson is people's sign-offs, attestations or acknowledgement.
	WaitPerson WaitKind = "person"
	// WaitDecision is a decision on a failed step (retry, skip, rollback, abort).
	WaitDecision WaitKind = "decision"
	// WaitHold is a hold, until somebody resumes the release.
	WaitHold WaitKind = "hold"
	// WaitFreeze is a freeze window, until it ends or two rollback approvers override it.
	WaitFreeze WaitKind = "freeze"
	// WaitWatch is the 24-hour watch's checks.
	WaitWatch WaitKind = "watch"
)

// Wait is what a release waits for: a kind, the thing in words, and the
// deadline (zero: until somebody acts, as for a hold).
type Wait struct {
	Kind  WaitKind  `json:"kind"`
	For   string    `json:"for"`
	Until time.Time `json:"until,omitzero"`
	// Then says what happens at Until when nothing came, e.g. "the release ends timed_out".
	Then string `json:"then,omitempty"`
}

// UnmarshalJSON also reads the plain string older workers answer (what the
// release waited for, in words, without a deadline), so a newer CLI can read
// the status of a release a worker of an earlier version serves.
func (w *Wait) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*w = Wait{Kind: WaitPerson, For: s}
		switch {
		case strings.HasPrefix(s, "held by "):
			w.Kind = WaitHold
		case strings.HasPrefix(s, "a decision "):
			w.Kind = WaitDecision
		}
		return nil
	}
	type plain Wait
	return json.Unmarshal(b, (*plain)(w))
}

// String is the wait in words with its deadline in UTC ("" for none); render.Wait shows it in a time zone.
func (w *Wait) String() string {
	if w == nil {
		return ""
	}
	if w.Until.IsZero() {
		return w.For
	}
	return w.For + " until " + w.Until.UTC().Format(time.RFC3339)
}

// Choice is a decision on a failed step.
type Choice string

// Decisions on a failed step. ChoiceTimeout is golive's, when nobody decided in time.
const (
	ChoiceRetry    Choice = "retry"
	ChoiceSkip     Choice = "skip"
	ChoiceRollback Choice = "rollback"
	ChoiceAbort    Choice = "abort"
	ChoiceTimeout  Choice = "timeout"
)

// Failure is a failed step that waits for people to decide.
type Failure struct {
	// Step is the failure policy's step name (spec.Step), e.g. smoke.
	Step string `json:"step"`
	// Items are the checklist items that failed; skip takes one of them.
	Items []string `json:"items"`
	// Error is what failed.
	Error   string    `json:"error"`
	Attempt int       `json:"attempt"`
	Since   time.Time `json:"since"`
	// Deadline is when the default (OnTimeout) is taken if nobody decided.
	Deadline  time.Time `json:"deadline"`
	OnTimeout Choice    `json:"on_timeout"`
	// Options say what each choice would do, in the order a person reads them.
	Options []Option `json:"options"`
	// Skips are the skip consents so far (a skip needs two distinct rollback approvers).
	Skips []Consent `json:"skips,omitempty"`
}

// Option is one choice on a failed step and what it would do.
type Option struct {
	Choice  Choice `json:"choice"`
	Command string `json:"command"`
	Effect  string `json:"effect"`
}

// Consent is one person's part of a two-person decision (a skip, a freeze override).
type Consent struct {
	Person string    `json:"person"`
	Item   string    `json:"item,omitempty"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	// Fingerprint is the key that signed the consent, when signed.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Decision is what was decided on a failed step.
type Decision struct {
	Step    string   `json:"step"`
	Attempt int      `json:"attempt"`
	Choice  Choice   `json:"choice"`
	Items   []string `json:"items,omitempty"`
	// By is who decided: one person, two for a skip, golive for a timeout.
	By     []string  `json:"by"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// FreezeOverride lets a release deploy inside one freeze: two distinct rollback approvers, each with a reason.
type FreezeOverride struct {
	Freeze string    `json:"freeze"`
	By     []Consent `json:"by"`
	// Granted is when the second approver made it count (zero while one consent waits for another).
	Granted time.Time `json:"granted,omitzero"`
}
