package approvals

import (
	"slices"
	"strings"
	"time"

	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// Plan is what the release page shows: the plan and its state, read from the
// status query, and what the person the link names may do now.
type Plan struct {
	Release, Service, Environment string
	From, To                      string
	// T0 is the window in the reader's zone and in UTC.
	T0Local, T0UTC, Zone string
	Stage, Waiting       string
	Outcome              string
	Readiness            []ItemView
	Migrations           []ItemView
	Backups              []ItemView
	Slots                []SlotView
	Alerts               []AlertView
	Me                   *Me
}

// ItemView is one checklist line.
type ItemView struct {
	ID, Title, State, Value, Detail, Role string
	// Class is fail, pass, wait or none; the state is always written out too (never colour alone).
	Class string
}

// SlotView is one sign-off slot and who signed it.
type SlotView struct {
	Block, ID, Title, Role, State, Class string
	By                                   []SignerView
}

// SignerView is one decision on a slot.
type SignerView struct {
	Person, Name, Decision, Comment, AtLocal, AtUTC, Proof string
}

// AlertView is one escalated alert.
type AlertView struct {
	ID, Reason, Raised, AckedBy string
	Level                       int
}

// Me is what the person named by the link may do.
type Me struct {
	ID, Name string
	// Requester: this person started the release and may fill no slot.
	Requester bool
	// Passkeys is how many passkeys the directory holds for them.
	Passkeys    int
	Signoffs    []SlotView
	Attest      []ItemView
	Alerts      []AlertView
	CanRollback bool
	// Link is the link's query (p, exp, sig), carried by every form.
	Link string
}

// stateOrder puts failures first, then what waits for people, then the rest.
var stateOrder = []record.ItemState{record.ItemFailed, record.ItemUnavailable, record.ItemWaiting, record.ItemRunning, record.ItemPending, record.ItemPassed, record.ItemSkipped}

func itemView(it record.Item) ItemView {
	return ItemView{ID: it.ID, Title: it.Title, State: string(it.State), Value: it.Value, Detail: it.Detail, Role: it.Role, Class: render.Class(it.State)}
}

// BuildPlan lays out st for reading in zone; snap (the server's directory
// resolved for the release) says what person may do; person "" shows no actions.
func BuildPlan(st record.Status, snap *directory.Snapshot, person string, zone *time.Location) Plan {
	if zone == nil {
		zone = time.UTC
	}
	p := Plan{Release: st.ReleaseID, Service: st.Service, Environment: st.Environment, From: st.PreviousVersion, To: st.Version,
		Zone: zone.String(), Stage: string(st.Stage), Outcome: string(st.Outcome)}
	if st.Waiting != nil {
		p.Waiting = render.Wait(*st.Waiting, zone)
	}
	if p.From == "" {
		p.From = "(not recorded yet)"
	}
	if !st.Window.IsZero() {
		p.T0Local, p.T0UTC = st.Window.In(zone).Format("Mon 2 Jan 2006 15:04 MST"), st.Window.UTC().Format("2006-01-02 15:04 UTC")
	}
	for _, it := range st.Items {
		switch {
		case it.Stage == record.StageReadiness:
			p.Readiness = append(p.Readiness, itemView(it))
		}
		switch {
		case it.Kind == "postgres.pending_migrations" || it.ID == "deploy.migrations" || it.ID == "rollback.migrations":
			p.Migrations = append(p.Migrations, itemView(it))
		case it.Kind == "backup" || strings.HasSuffix(it.ID, ".backup"):
			p.Backups = append(p.Backups, itemView(it))
		}
	}
	slices.SortStableFunc(p.Readiness, func(a, b ItemView) int {
		return slices.Index(stateOrder, record.ItemState(a.State)) - slices.Index(stateOrder, record.ItemState(b.State))
	})
	for _, sl := range st.Slots {
		p.Slots = append(p.Slots, slotView(sl, snap, zone))
	}
	for _, a := range st.Alerts {
		p.Alerts = append(p.Alerts, AlertView{ID: a.ID, Reason: a.Reason, Level: a.Level, Raised: a.RaisedAt.UTC().Format("15:04 UTC"), AckedBy: a.AckedBy})
	}
	if person != "" && snap != nil {
		p.Me = buildMe(st, p, *snap, person)
	}
	return p
}

func slotView(sl record.SlotState, snap *directory.Snapshot, zone *time.Location) SlotView {
	v := SlotView{Block: sl.Block, ID: sl.ID, Title: sl.Title, Role: sl.Role, State: string(sl.State), Class: render.Class(sl.State)}
	for _, b := range sl.By {
		name := b.Name
		if name == "" && snap != nil {
			if pp, ok := snap.Person(b.Person); ok {
				name = pp.Name
			}
		}
		proof := "unsigned"
		if b.Signed {
			proof = "signed, " + b.Fingerprint
		}
		v.By = append(v.By, SignerView{Person: b.Person, Name: name, Decision: b.Decision, Comment: b.Comment,
			AtLocal: b.At.In(zone).Format("2 Jan 15:04 MST"), AtUTC: b.At.UTC().Format("15:04 UTC"), Proof: proof})
	}
	return v
}

// buildMe lists what person may do now. The workflow judges every input
// again (roles, slots, separation of duties, order): this only picks the
// forms worth showing.
func buildMe(st record.Status, p Plan, snap directory.Snapshot, person string) *Me {
	pp, ok := snap.Person(person)
	if !ok {
		return nil
	}
	me := &Me{ID: pp.ID, Name: pp.Name, Requester: st.Requester == person, Passkeys: len(pp.Passkeys)}
	if st.Stage == record.StageDone {
		return me
	}
	if !me.Requester {
		for _, sl := range p.Slots {
			if sl.State == string(record.ItemWaiting) && snap.HasRole(person, sl.Role) && !signed(sl, person) {
				me.Signoffs = append(me.Signoffs, sl)
			}
		}
	}
	for _, it := range st.Items {
		if it.Mode == record.ModeAttest && it.State == record.ItemWaiting && snap.HasRole(person, it.Role) {
			me.Attest = append(me.Attest, itemView(it))
		}
	}
	for _, a := range p.Alerts {
		if a.AckedBy == "" {
			me.Alerts = append(me.Alerts, a)
		}
	}
	switch record.Stage(p.Stage) {
	case record.StageDeploy, record.StagePostDeploy, record.StageWatch, record.StageReview:
		me.CanRollback = snap.AnyRole(person, snap.Policy.Rollback)
	}
	return me
}

func signed(sl SlotView, person string) bool {
	return slices.ContainsFunc(sl.By, func(b SignerView) bool { return b.Person == person })
}

// Waiting is one release on the list of a person's waiting releases.
type Waiting struct {
	Release, Service, Environment, Version, Stage string
	// What says what waits for this person ("sign-off compliance_officer", "attest 2 items").
	What []string
	Link string
}

// WaitingFor says what of st waits for person, nil when nothing does.
func WaitingFor(st record.Status, snap directory.Snapshot, person string) []string {
	p := BuildPlan(st, &snap, person, time.UTC)
	if p.Me == nil {
		return nil
	}
	var what []string
	for _, sl := range p.Me.Signoffs {
		what = append(what, "sign-off "+sl.ID)
	}
	if n := len(p.Me.Attest); n > 0 {
		what = append(what, render.Count(n, "item", "items")+" to attest")
	}
	if n := len(p.Me.Alerts); n > 0 {
		what = append(what, render.Count(n, "alert", "alerts")+" to acknowledge")
	}
	return what
}
