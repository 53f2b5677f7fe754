package approvals_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/record"
)

func demoSnapshot(t *testing.T) directory.Snapshot {
	t.Helper()
	d, err := directory.Load(filepath.Join(root, "examples", "directory", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Resolve("demo-portal", "demo")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitingStatus() record.Status {
	return record.Status{
		ReleaseID: "release:demo-portal:demo", Service: "demo-portal", Environment: "demo", Version: "1.1.0", PreviousVersion: "1.0.0",
		Requester: "erin", Stage: record.StageApprovals, Outcome: record.OutcomeRunning,
		Window: time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC),
		Items: []record.Item{
			{ID: "a", Stage: record.StageReadiness, Title: "passes", State: record.ItemPassed},
			{ID: "b", Stage: record.StageReadiness, Title: "waits", State: record.ItemWaiting, Mode: record.ModeAttest, Role: "compliance_officer"},
			{ID: "c", Stage: record.StageReadiness, Title: "fails", State: record.ItemFailed},
			{ID: "m", Stage: record.StageReadiness, Title: "migrations", Kind: "postgres.pending_migrations", State: record.ItemUnavailable},
			{ID: "prepare.backup", Stage: record.StagePrepare, Title: "backup", State: record.ItemPending},
		},
		Slots: []record.SlotState{
			{Block: "approvals", ID: "development_lead", Role: "development_lead", State: record.ItemPassed,
				By: []record.SignedBy{{Person: "alice", At: time.Date(2026, 12, 7, 1, 2, 0, 0, time.UTC), Decision: "approve", Signed: true, Fingerprint: "SHA256:x"}}},
			{Block: "approvals", ID: "compliance_officer", Role: "compliance_officer", State: record.ItemWaiting},
			{Block: "approvals", ID: "project_manager", Role: "project_manager", State: record.ItemWaiting},
		},
	}
}

func TestThePlanListsReadinessFailuresFirstAndTheFormsOfTheReader(t *testing.T) {
	snap := demoSnapshot(t)
	ny, _ := time.LoadLocation("America/New_York")
	p := approvals.BuildPlan(waitingStatus(), &snap, "carol", ny)
	var order []string
	for _, it := range p.Readiness {
		order = append(order, it.ID)
	}
	if !slices.Equal(order, []string{"c", "m", "b", "a"}) {
		t.Errorf("readiness order %v, want failed, unavailable, waiting, passed", order)
	}
	if p.From != "1.0.0" || p.To != "1.1.0" || p.T0UTC != "2026-12-07 14:00 UTC" || p.T0Local != "Mon 7 Dec 2026 09:00 EST" {
		t.Errorf("plan %+v", p)
	}
	if len(p.Migrations) != 1 || len(p.Backups) != 1 || p.Slots[0].By[0].Name != "Alice Adams" || p.Slots[0].By[0].Proof != "signed, SHA256:x" {
		t.Errorf("migrations %+v backups %+v slots %+v", p.Migrations, p.Backups, p.Slots)
	}
	if p.Me == nil || len(p.Me.Signoffs) != 1 || p.Me.Signoffs[0].ID != "compliance_officer" || len(p.Me.Attest) != 1 || p.Me.CanRollback {
		t.Errorf("carol may do %+v", p.Me)
	}
}

func TestTheRequesterAndOutsidersGetNoSignoffForm(t *testing.T) {
	snap := demoSnapshot(t)
	if me := approvals.BuildPlan(waitingStatus(), &snap, "erin", nil).Me; me == nil || !me.Requester || len(me.Signoffs) != 0 {
		t.Errorf("requester erin: %+v", me)
	}
	if me := approvals.BuildPlan(waitingStatus(), &snap, "mallory", nil).Me; me != nil {
		t.Errorf("mallory, not in the directory: %+v", me)
	}
	if me := approvals.BuildPlan(waitingStatus(), &snap, "alice", nil).Me; me == nil || len(me.Signoffs) != 0 {
		t.Errorf("alice, whose slot is filled: %+v", me)
	}
	if got := approvals.WaitingFor(waitingStatus(), snap, "dave"); !slices.Equal(got, []string{"sign-off project_manager"}) {
		t.Errorf("waiting for dave: %v", got)
	}
}
