package spec_test

import (
	"sort"
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

// production is the minimal spec with every checklist default.
func production(t *testing.T) spec.Spec {
	t.Helper()
	l, err := spec.Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	return l.Spec
}

// find is the event of kind (and block, for the kinds that have one).
func find(t *testing.T, events []spec.Event, kind spec.EventKind, block string) spec.Event {
	t.Helper()
	for _, e := range events {
		if e.Kind == kind && e.Block == block {
			return e
		}
	}
	t.Fatalf("no %s %s event in the timeline", kind, block)
	return spec.Event{}
}

func TestTimelineOfAProductionReleasePlacesEveryMomentOfTheChecklist(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	t0 := start.Add(30 * time.Hour)
	events := spec.Timeline(production(t), start, t0)
	for _, tc := range []struct {
		kind     spec.EventKind
		block    string
		at       time.Time
		anchor   spec.Anchor
		earliest bool
	}{
		{spec.EventAttestationsDue, "readiness", start.Add(24 * time.Hour), spec.AnchorStart, true},
		{spec.EventSignoffEscalation, "approvals", start.Add(12 * time.Hour), spec.AnchorStart, true},
		{spec.EventSignoffDue, "approvals", start.Add(24 * time.Hour), spec.AnchorStart, true},
		{spec.EventPrepare, "", t0.Add(-4 * time.Hour), spec.AnchorWindow, false},
		{spec.EventAttestationsDue, "prepare", t0.Add(20 * time.Hour), spec.AnchorPrepare, true},
		{spec.EventDeploy, "", t0, spec.AnchorWindow, false},
		{spec.EventPostDeploy, "", t0.Add(time.Hour), spec.AnchorDeploy, false},
		{spec.EventT1HReportDue, "", t0.Add(time.Hour + spec.CheckGrace), spec.AnchorDeploy, false},
		{spec.EventAttestationsDue, "post_deploy", t0.Add(5 * time.Hour), spec.AnchorPostDeploy, true},
		{spec.EventSignoffEscalation, "completion", t0.Add(3 * time.Hour), spec.AnchorPostDeploy, true},
		{spec.EventSignoffDue, "completion", t0.Add(5 * time.Hour), spec.AnchorPostDeploy, true},
		{spec.EventReview, "", t0.Add(24 * time.Hour), spec.AnchorDeploy, false},
		{spec.EventAttestationsDue, "review", t0.Add(48 * time.Hour), spec.AnchorReview, true},
		{spec.EventSignoffEscalation, "review", t0.Add(36 * time.Hour), spec.AnchorReview, true},
		{spec.EventSignoffDue, "review", t0.Add(48 * time.Hour), spec.AnchorReview, true},
	} {
		e := find(t, events, tc.kind, tc.block)
		if !e.At.Equal(tc.at) || e.Anchor != tc.anchor || e.Earliest != tc.earliest {
			t.Errorf("%s %s: at %s (%s, earliest %v), want %s (%s, earliest %v)", tc.kind, tc.block, e.At, e.Anchor, e.Earliest, tc.at, tc.anchor, tc.earliest)
		}
	}
	if !sort.SliceIsSorted(events, func(i, j int) bool { return events[i].At.Before(events[j].At) }) {
		t.Error("timeline not sorted by time")
	}
}

func TestTimelineHasTheThirtyWatchChecksOfTheChecklist(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	t0 := start.Add(6 * time.Hour)
	var want []time.Duration
	for m := 15; m <= 240; m += 15 {
		want = append(want, time.Duration(m)*time.Minute)
	}
	for h := 5; h <= 12; h++ {
		want = append(want, time.Duration(h)*time.Hour)
	}
	for h := 14; h <= 24; h += 2 {
		want = append(want, time.Duration(h)*time.Hour)
	}
	var got []spec.Event
	for _, e := range spec.Timeline(production(t), start, t0) {
		if e.Kind == spec.EventWatchCheck {
			got = append(got, e)
		}
	}
	if len(got) != 30 {
		t.Fatalf("%d watch checks, want 30", len(got))
	}
	for i, e := range got {
		if e.Check != i+1 || e.Offset != want[i] || !e.At.Equal(t0.Add(want[i])) || e.Anchor != spec.AnchorDeploy {
			t.Errorf("check %d: #%d at +%s (%s), want #%d at +%s", i+1, e.Check, e.Offset, e.At, i+1, want[i])
		}
	}
	if got[3].Phase != "Hour 0-4 (Critical Period)" || got[3].Title != "Watch check 4/30 at +1h0m0s (Hour 0-4 (Critical Period))" {
		t.Errorf("check 4: %q %q", got[3].Phase, got[3].Title)
	}
}

func TestT1HIsItsOwnCheckWhenNoWatchCheckFallsOnIt(t *testing.T) {
	w := spec.Watch{T1H: spec.Duration(time.Hour), Phases: []spec.Phase{{Name: "p", Every: spec.Duration(40 * time.Minute), Until: spec.Duration(2 * time.Hour)}}}
	got := w.Checkpoints()
	want := []spec.Checkpoint{{Offset: 40 * time.Minute, Phase: "p"}, {Offset: time.Hour, Phase: "T+1h", Targets: true}, {Offset: 80 * time.Minute, Phase: "p"}, {Offset: 2 * time.Hour, Phase: "p"}}
	if len(got) != len(want) {
		t.Fatalf("checkpoints %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("checkpoint %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Past the last check, the T+1h check comes last.
	w.T1H = spec.Duration(3 * time.Hour)
	if got := w.Checkpoints(); got[len(got)-1] != (spec.Checkpoint{Offset: 3 * time.Hour, Phase: "T+1h", Targets: true}) {
		t.Errorf("last checkpoint %+v", got[len(got)-1])
	}
}

func TestNoWindowOrAPastOneMeansT0AtTheStart(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, window := range []time.Time{{}, start.Add(-time.Hour)} {
		events := spec.Timeline(production(t), start, window)
		if e := find(t, events, spec.EventDeploy, ""); !e.At.Equal(start) {
			t.Errorf("window %s: T-0 at %s, want the start %s", window, e.At, start)
		}
		// T-4h is then already past: the stage runs as soon as the approvals are in.
		if e := find(t, events, spec.EventPrepare, ""); !e.At.Equal(start.Add(-4 * time.Hour)) {
			t.Errorf("window %s: T-4h at %s", window, e.At)
		}
	}
}

func TestABlockWithoutSlotsOrEscalationHasNoSuchMoments(t *testing.T) {
	s := production(t)
	s.Completion.Slots = nil
	s.Approvals.EscalateAfter = s.Approvals.Timeout // escalating at the deadline never happens: the timeout does
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, e := range spec.Timeline(s, start, start.Add(6*time.Hour)) {
		if e.Block == "completion" || (e.Block == "approvals" && e.Kind == spec.EventSignoffEscalation) {
			t.Errorf("unexpected %s %s at %s", e.Kind, e.Block, e.At)
		}
	}
}
