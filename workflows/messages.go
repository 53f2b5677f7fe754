// Package workflows holds golive's deterministic workflow code: the release
// workflow (one per release), the monitoring child workflow and the rollback saga.
//
// This file is the contract between the workflows, the CLI and people using the
// Temporal UI: task queue, workflow IDs, every signal/update/query name beside its
// payload, status enums and search-attribute keys. Nothing here is spelled twice.
package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// TaskQueue is the task queue the golive worker polls.
const TaskQueue = "golive"

// ReleaseID is the workflow ID of the release of service to environment. There is
// at most one running release per pair; a second start fails and names this one.
func ReleaseID(service, environment string) string {
	return record.ReleasePrefix + service + ":" + environment
}

// MonitorID is the workflow ID of a release's monitoring child for one watch
// window (releases started before the team directory).
func MonitorID(releaseID, window string) string { return releaseID + ":" + window }

// CheckID is the workflow ID of a release's child for check n (from 1) of a watch window.
func CheckID(releaseID, window string, n int) string {
	return MonitorID(releaseID, window) + ":" + strconv.Itoa(n)
}

// Search attributes kept current on every release, so the UI's list filters by them.
var (
	SAService     = temporal.NewSearchAttributeKeyKeyword("GoliveService")
	SAEnvironment = temporal.NewSearchAttributeKeyKeyword("GoliveEnvironment")
	SAVersion     = temporal.NewSearchAttributeKeyKeyword("GoliveVersion")
	SAStage       = temporal.NewSearchAttributeKeyKeyword("GoliveStage")
	// SAOutcome is the release's outcome: running from the start, then one of
	// the record.Outcome values when it ends (releases started since outcomeShown).
	SAOutcome = temporal.NewSearchAttributeKeyKeyword("GoliveOutcome")
)

// SearchAttributeNames lists the custom search attributes golive needs registered (all Keyword).
func SearchAttributeNames() []string {
	return []string{SAService.GetName(), SAEnvironment.GetName(), SAVersion.GetName(), SAStage.GetName(), SAOutcome.GetName()}
}

// ReleaseInput starts a release.
type ReleaseInput struct {
	// Spec is the loaded spec with defaults applied. It holds secret references, never values.
	Spec spec.Spec `json:"spec"`
	// SpecFile and SpecDigest identify the file the spec came from (SHA-256 of its bytes).
	SpecFile   string `json:"spec_file"`
	SpecDigest string `json:"spec_digest"`
	// Version is the version to release.
	Version string `json:"version"`
	// Requester is the person who claims to start the release; they may fill no
	// sign-off slot. The claim counts once StartSignature proves it (see StartStatement).
	Requester string `json:"requester"`
	// Window is T-0. Zero means "now".
	Window time.Time `json:"window,omitzero"`
	// StartSignature is the requester's signature over StartStatement; empty
	// for an unsigned start (refused where the directory requires signatures).
	StartSignature string    `json:"start_signature,omitempty"`
	StartSignedAt  time.Time `json:"start_signed_at,omitzero"`
}

// StartStatement is what a requester signs to start a release: the release ID,
// no run (it does not exist yet), the version, spec digest, file and window.
func (in ReleaseInput) StartStatement() approval.InputStatement {
	window := ""
	if !in.Window.IsZero() {
		window = in.Window.UTC().Format(time.RFC3339)
	}
	return approval.InputStatement{
		WorkflowID: ReleaseID(in.Spec.Service, in.Spec.Environment), Input: StartName, Person: in.Requester,
		Version: in.Version, SpecDigest: in.SpecDigest, SignedAt: in.StartSignedAt,
		Fields: []approval.Field{{Name: "spec-file", Value: in.SpecFile}, {Name: "window", Value: window}},
	}
}

// StartName names the start of a release in statements, proofs and refusals.
const StartName = "start"

// ReleaseResult is what a finished release returns.
type ReleaseResult struct {
	Outcome record.Outcome `json:"outcome"`
	Version string         `json:"version"`
	// LiveVersion is what runs when the release ends (the previous version after a rollback).
	LiveVersion string `json:"live_version"`
	Reason      string `json:"reason,omitempty"`
	// EvidencePath is where the filled checklist was written, if anywhere.
	EvidencePath string `json:"evidence_path,omitempty"`
}

// Human input. Each is accepted both as a Signal (Temporal UI "Send Signal",
// `temporal workflow signal`) and as an Update of the same name (the golive CLI),
// and both go through one validation. A refused input is kept in the status.
const (
	// SignoffName approves or rejects a sign-off slot. Payload: Signoff.
	SignoffName = "signoff"
	// AttestName confirms checklist items held by the person's role. Payload: Attest.
	AttestName = "attest"
	// RollbackName asks for a rollback. Payload: RollbackRequest.
	RollbackName = "rollback"
	// AckName acknowledges an escalated alert. Payload: Ack.
	AckName = "ack"
	// AbortName ends the release, compensating what was done. Payload: Abort.
	AbortName = "abort"
	// HoldName pauses the release before its next step. Payload: Hold.
	HoldName = "hold"
	// ResumeName lifts a hold. Payload: Resume.
	ResumeName = "resume"
	// RetryName runs a failed step again (failure policy ask). Payload: Retry.
	RetryName = "retry"
	// SkipName is one rollback approver's consent to skip a failed item; the
	// second distinct one makes it count. Payload: Skip.
	SkipName = "skip"
	// OverrideFreezeName is one rollback approver's consent to deploy inside a
	// freeze; the second distinct one makes it count. Payload: OverrideFreeze.
	OverrideFreezeName = "override-freeze"
)

// Retry runs the failed step that waits for a decision again.
type Retry struct {
	Person string `json:"person"`
	// Step is the failed step (spec.Step, e.g. smoke): a retry meant for another step is refused. Empty: the one waiting.
	Step   string `json:"step,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
}

// Skip consents to skipping one failed item of the failed step; a skip
// counts once two distinct rollback approvers sent one for the same item.
// The item shows as skipped in the evidence, never as passed.
type Skip struct {
	Person string `json:"person"`
	Item   string `json:"item"`
	Reason string `json:"reason"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
}

// OverrideFreeze consents to deploying inside a freeze of the spec; the
// override counts once two distinct rollback approvers sent one for it.
type OverrideFreeze struct {
	Person string `json:"person"`
	// Freeze is the freeze's name in the spec.
	Freeze string `json:"freeze"`
	Reason string `json:"reason"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
}

// Decision is a sign-off decision.
type Decision string

// Sign-off decisions.
const (
	Approve Decision = "approve"
	Reject  Decision = "reject"
)

// Signoff fills (or rejects) one sign-off slot.
type Signoff struct {
	// Slot is the slot ID (by default the role, e.g. development_lead). Empty: the one open slot the person can fill.
	Slot string `json:"slot,omitempty"`
	// Person is the team member's ID from the spec.
	Person   string   `json:"person"`
	Decision Decision `json:"decision"`
	Comment  string   `json:"comment,omitempty"`
	// Signature is an SSH signature over the canonical statement, when signed approvals are used.
	Signature string `json:"signature,omitempty"`
	// SignedAt is the time inside the signed statement.
	SignedAt time.Time `json:"signed_at,omitzero"`
	// Passkey is a WebAuthn assertion over SHA-256 of the statement (the approval pages), instead of Signature.
	Passkey *passkey.Assertion `json:"passkey,omitempty"`
}

// Attest confirms checklist items.
type Attest struct {
	Person string `json:"person"`
	// Items are item IDs; empty means every item the person's roles can attest in the current stage.
	Items   []string `json:"items,omitempty"`
	Comment string   `json:"comment,omitempty"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
	// Passkey is a WebAuthn assertion over SHA-256 of the statement (the approval pages), instead of Signature.
	Passkey *passkey.Assertion `json:"passkey,omitempty"`
}

// RollbackReason is why a person asks for a rollback (checklist "When to Rollback").
type RollbackReason string

// Rollback reasons a person may give.
const (
	ReasonCriticalBug    RollbackReason = "critical_bug"
	ReasonDataCorruption RollbackReason = "data_corruption"
	ReasonSecurity       RollbackReason = "security"
	ReasonPerformance    RollbackReason = "performance"
	ReasonErrorRate      RollbackReason = "error_rate"
)

// RollbackReasons lists the rollback reasons, in the checklist's order.
var RollbackReasons = []RollbackReason{ReasonCriticalBug, ReasonDataCorruption, ReasonSecurity, ReasonPerformance, ReasonErrorRate}

// RollbackReasonList spells the rollback reasons joined by sep, for messages and flag help.
func RollbackReasonList(sep string) string {
	names := make([]string, len(RollbackReasons))
	for i, r := range RollbackReasons {
		names[i] = string(r)
	}
	return strings.Join(names, sep)
}

// RollbackRequest asks for a rollback; the person must hold a rollback approver role.
type RollbackRequest struct {
	Person  string         `json:"person"`
	Reason  RollbackReason `json:"reason"`
	Comment string         `json:"comment,omitempty"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
	// Passkey is a WebAuthn assertion over SHA-256 of the statement (the approval pages), instead of Signature.
	Passkey *passkey.Assertion `json:"passkey,omitempty"`
}

// Ack acknowledges an alert, which stops its escalation.
type Ack struct {
	Person  string `json:"person"`
	AlertID string `json:"alert_id"`
	Comment string `json:"comment,omitempty"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
	// Passkey is a WebAuthn assertion over SHA-256 of the statement (the approval pages), instead of Signature.
	Passkey *passkey.Assertion `json:"passkey,omitempty"`
}

// Abort ends the release. What was done is compensated in reverse order.
type Abort struct {
	Person string `json:"person"`
	Reason string `json:"reason"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
}

// Hold pauses the release before its next step.
type Hold struct {
	Person string `json:"person"`
	Reason string `json:"reason"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
}

// Resume lifts a hold.
type Resume struct {
	Person string `json:"person"`
	// Signature is the person's SSH signature over the input's statement (see Statement); SignedAt is the time in it.
	Signature string    `json:"signature,omitempty"`
	SignedAt  time.Time `json:"signed_at,omitzero"`
}

// InputResult is what an accepted Update returns.
type InputResult struct {
	// Message says what changed, e.g. "development_lead approved by alice (2 of 4 slots filled)".
	Message string `json:"message"`
	// Duplicate is true when the same input had already been recorded; it counted once.
	Duplicate bool `json:"duplicate,omitempty"`
}

// ErrRefused is the application error type of a refused human input (an
// Update's failure). A release refused at its start or its input fails with
// activities.ErrBadInput; activities' own error types are the activities.Err* constants.
const ErrRefused = "Refused"

// Error types of a release that ended rolled_back or failed (releases started
// since outcomeShown). The workflow then fails with one of them, after its
// evidence is written, so the Temporal UI's list shows the release as Failed;
// the error's details hold the ReleaseResult (read it with EndedResult). Every
// other outcome completes the workflow: completed, and the ones where nothing
// stayed changed at the target because a person or a gate stopped it before
// the deploy (rejected, aborted, not_ready, timed_out); GoliveOutcome tells
// them apart.
const (
	ErrReleaseRolledBack = "ReleaseRolledBack"
	ErrReleaseFailed     = "ReleaseFailed"
)

// outcomeErrTypes maps the outcomes that fail the workflow to their error type.
var outcomeErrTypes = map[record.Outcome]string{
	record.OutcomeRolledBack: ErrReleaseRolledBack,
	record.OutcomeFailed:     ErrReleaseFailed,
}

// EndedResult reads a release's result from what getting it returned: for a
// release that ended rolled_back or failed, err is the workflow's failure and
// its details are the ReleaseResult, which EndedResult decodes into res and
// returns nil; any other err is returned as it is.
//
//	err := workflows.EndedResult(run.Get(ctx, &res), &res)
func EndedResult(err error, res *ReleaseResult) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || (app.Type() != ErrReleaseRolledBack && app.Type() != ErrReleaseFailed) {
		return err
	}
	if derr := app.Details(res); derr != nil {
		return fmt.Errorf("decode the result of a release that ended %s: %w", app.Type(), derr)
	}
	return nil
}

// StatusQuery returns the release's Status.
const StatusQuery = "status"

// CheckReportName is the signal the monitoring child of releases started
// before the team directory sent its parent after each check. Newer releases
// get each check as their check child's result, and refuse, record and alert
// on any check-report signal: nobody outside the release can add a check.
const CheckReportName = "check-report"

// Release is the target of a command: what `golive status RELEASE` and the
// other commands accept, "release:SERVICE:ENVIRONMENT" or "SERVICE:ENVIRONMENT".
// ParseRelease is the one place that reads it.
func ParseRelease(s string) string {
	if strings.HasPrefix(s, record.ReleasePrefix) {
		return s
	}
	return record.ReleasePrefix + s
}

// Monitoring windows: the MonitorInput.Window and record.CheckReport.Window of
// the watch and of the post-rollback watch.
const (
	WindowWatch    = "watch"
	WindowRollback = "post-rollback"
)

// Sign-off blocks: record.SlotState.Block, the block an Signoff is for.
const (
	BlockApprovals  = "approvals"
	BlockCompletion = "completion"
	BlockReview     = "review"
)
