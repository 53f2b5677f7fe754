package spec

import (
	"fmt"
	"sort"
	"time"
)

// EventKind names one moment of a release's timeline.
type EventKind string

// The moments a release waits for, in the order the release reaches them.
const (
	// EventAttestationsDue: a stage's attestations are due (readiness, prepare, post_deploy, review).
	EventAttestationsDue EventKind = "attestations_due"
	// EventSignoffEscalation: a sign-off block still open is raised to the escalation contacts.
	EventSignoffEscalation EventKind = "signoff_escalation"
	// EventSignoffDue: a sign-off block's timeout; its on_timeout applies then.
	EventSignoffDue EventKind = "signoff_due"
	// EventPrepare: T-4h, the Deployment Day pre-deployment stage.
	EventPrepare EventKind = "t_minus_4h"
	// EventDeploy: T-0, the deployment.
	EventDeploy EventKind = "t0"
	// EventPostDeploy: T+1h, the post-deployment checks.
	EventPostDeploy EventKind = "t_plus_1h"
	// EventT1HReportDue: the T+1h key-metrics check must have reported by then.
	EventT1HReportDue EventKind = "t_plus_1h_report_due"
	// EventWatchCheck: one check of the first 24 hours.
	EventWatchCheck EventKind = "watch_check"
	// EventReview: the Post-Deployment Review opens.
	EventReview EventKind = "review"
)

// Anchor names what an event's offset counts from.
type Anchor string

// The anchors of a timeline.
const (
	// AnchorStart: the release's start (the approvals open right after the readiness gate).
	AnchorStart Anchor = "start"
	// AnchorWindow: T-0 as the release resolved it (now, when no window or a past one is given).
	AnchorWindow Anchor = "t0"
	// AnchorDeploy: the end of the deploy step, where the watch cadence starts; planned at T-0.
	AnchorDeploy Anchor = "deploy"
	// AnchorPrepare: the T-4h stage.
	AnchorPrepare Anchor = "t_minus_4h"
	// AnchorPostDeploy: the T+1h stage.
	AnchorPostDeploy Anchor = "t_plus_1h"
	// AnchorReview: the review's opening.
	AnchorReview Anchor = "review"
)

// Event is one moment of a release's timeline: At is Offset after the Anchor's planned time.
type Event struct {
	Kind EventKind `json:"kind"`
	// Title is the moment in the checklist's words, as status and the UI name it.
	Title string `json:"title"`
	// Block is the sign-off block or attestation stage, for the kinds that have one.
	Block string `json:"block,omitempty"`
	// Check is the 1-based index of a watch check; Phase its phase.
	Check int    `json:"check,omitempty"`
	Phase string `json:"phase,omitempty"`
	// Anchor and Offset say how At is computed, the way the release computes it.
	Anchor Anchor        `json:"anchor"`
	Offset time.Duration `json:"offset_ns"`
	At     time.Time     `json:"at"`
	// Earliest marks a moment that moves later by as long as the step before it
	// takes (people answering, checks running): At is the soonest it can be.
	Earliest bool `json:"earliest,omitempty"`
}

// CheckGrace is how long a watch check (and the T+1h key-metrics report) may
// run past its due time before the release counts it as unmeasured.
const CheckGrace = 15 * time.Minute

// Checkpoint is one watch check, at an exact offset from the deploy time.
// The workflow sends it to its monitoring child as it is (workflows.Checkpoint).
type Checkpoint struct {
	Offset time.Duration `json:"offset"`
	Phase  string        `json:"phase"`
	// Targets marks the T+1h check, which also judges the T+1h targets.
	Targets bool `json:"targets,omitempty"`
}

// Checkpoints are the watch's checks with the T+1h check flagged, added as its
// own check when no phase's check falls on it.
func (w Watch) Checkpoints() []Checkpoint {
	t1h := w.T1H.D()
	var out []Checkpoint
	flagged := false
	for _, o := range w.Offsets() {
		if !flagged && t1h < o.Offset {
			out, flagged = append(out, Checkpoint{Offset: t1h, Phase: "T+1h", Targets: true}), true
		}
		on := !flagged && o.Offset == t1h
		flagged = flagged || on
		out = append(out, Checkpoint{Offset: o.Offset, Phase: o.Phase, Targets: on})
	}
	if !flagged {
		out = append(out, Checkpoint{Offset: t1h, Phase: "T+1h", Targets: true})
	}
	return out
}

// ResolveWindow is T-0 as a release started at start resolves it: the window,
// or the start itself when no window or one already past is given.
func ResolveWindow(start, window time.Time) time.Time {
	if window.IsZero() || window.Before(start) {
		return start
	}
	return window
}

// Timeline is every moment a release of s started at start with T-0 window
// waits for, sorted by time: the T-4h, T-0 and T+1h timers, each watch check,
// the review, every sign-off escalation and deadline and every attestation
// deadline, computed the way the release workflow computes them. Moments after
// the deploy count from the deploy step's end, planned here at T-0; sign-off
// and attestation moments count from when their step opens, planned at the
// soonest it can (Earliest). Pure: no clock, no I/O.
func Timeline(s Spec, start, window time.Time) []Event {
	t0 := ResolveWindow(start, window)
	tl := &timeline{anchors: map[Anchor]time.Time{
		AnchorStart: start, AnchorWindow: t0, AnchorDeploy: t0,
		AnchorPrepare:    t0.Add(-s.Window.PrepareLead.D()),
		AnchorPostDeploy: t0.Add(s.Watch.T1H.D()),
		AnchorReview:     t0.Add(s.Review.After.D()),
	}}
	if hasAttest(s.Readiness.Items) {
		tl.add(Event{Kind: EventAttestationsDue, Block: "readiness", Title: "Readiness attestations due", Anchor: AnchorStart, Offset: s.Readiness.Timeout.D(), Earliest: true})
	}
	tl.signoffs("approvals", "Deployment Approved By", s.Approvals, AnchorStart)
	tl.add(Event{Kind: EventPrepare, Title: "T-4h: pre-deployment checks", Anchor: AnchorWindow, Offset: -s.Window.PrepareLead.D()})
	if hasAttest(s.Prepare.Items) {
		tl.add(Event{Kind: EventAttestationsDue, Block: "prepare", Title: "T-4h attestations due", Anchor: AnchorPrepare, Offset: s.Readiness.Timeout.D(), Earliest: true})
	}
	tl.add(Event{Kind: EventDeploy, Title: "T-0: deployment", Anchor: AnchorWindow})
	tl.add(Event{Kind: EventPostDeploy, Title: "T+1h: post-deployment checks", Anchor: AnchorDeploy, Offset: s.Watch.T1H.D()})
	tl.add(Event{Kind: EventT1HReportDue, Title: "T+1h key-metrics report due", Anchor: AnchorDeploy, Offset: s.Watch.T1H.D() + CheckGrace})
	// The T+1h user acceptance spot check is always attested.
	tl.add(Event{Kind: EventAttestationsDue, Block: "post_deploy", Title: "T+1h attestations due", Anchor: AnchorPostDeploy, Offset: s.Completion.Timeout.D(), Earliest: true})
	tl.signoffs("completion", "Deployment Completed By", s.Completion, AnchorPostDeploy)
	checks := s.Watch.Checkpoints()
	for i, cp := range checks {
		tl.add(Event{Kind: EventWatchCheck, Check: i + 1, Phase: cp.Phase, Anchor: AnchorDeploy, Offset: cp.Offset,
			Title: fmt.Sprintf("Watch check %d/%d at +%s (%s)", i+1, len(checks), cp.Offset, cp.Phase)})
	}
	tl.add(Event{Kind: EventReview, Title: "Post-Deployment Review opens", Anchor: AnchorDeploy, Offset: s.Review.After.D()})
	if hasAttest(s.Review.Items) {
		tl.add(Event{Kind: EventAttestationsDue, Block: "review", Title: "Review attestations due", Anchor: AnchorReview, Offset: s.Review.Timeout.D(), Earliest: true})
	}
	tl.signoffs("review", "24-Hour Review and All Issues Resolved", s.Review.Signoffs, AnchorReview)
	sort.SliceStable(tl.events, func(i, j int) bool { return tl.events[i].At.Before(tl.events[j].At) })
	return tl.events
}

// timeline collects events, placing each at its anchor's planned time.
type timeline struct {
	anchors map[Anchor]time.Time
	events  []Event
}

func (tl *timeline) add(e Event) {
	e.At = tl.anchors[e.Anchor].Add(e.Offset)
	tl.events = append(tl.events, e)
}

// signoffs are a block's escalation (when it comes before the deadline, as the
// workflow only escalates then) and its deadline, counted from its opening. A
// block without slots is never opened.
func (tl *timeline) signoffs(block, title string, b SignoffBlock, opens Anchor) {
	if len(b.Slots) == 0 {
		return
	}
	if esc := b.EscalateAfter.D(); esc > 0 && esc < b.Timeout.D() {
		tl.add(Event{Kind: EventSignoffEscalation, Block: block, Title: title + ": overdue sign-offs escalate", Anchor: opens, Offset: esc, Earliest: true})
	}
	tl.add(Event{Kind: EventSignoffDue, Block: block, Title: fmt.Sprintf("%s due (then %s)", title, b.OnTimeout), Anchor: opens, Offset: b.Timeout.D(), Earliest: true})
}

func hasAttest(items []Item) bool {
	for _, it := range items {
		if it.Attest != "" {
			return true
		}
	}
	return false
}
