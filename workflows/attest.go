package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
)

// attest confirms checklist items. An item can be attested once it is waiting,
// i.e. once its stage has been reached, by a person holding the item's role.
func (r *release) attest(ctx workflow.Context, a Attest) (InputResult, error) {
	if err := r.member(a.Person); err != nil {
		return InputResult{}, err
	}
	ids := a.Items
	if len(ids) == 0 {
		for _, it := range r.st.Items {
			if it.Mode == record.ModeAttest && it.State == record.ItemWaiting && r.spec.HasRole(a.Person, it.Role) {
				ids = append(ids, it.ID)
			}
		}
		if len(ids) == 0 {
			return InputResult{}, fmt.Errorf("nothing waits for an attestation by %s now (roles %v)", a.Person, r.spec.Roles(a.Person))
		}
	}
	var fresh, dup []string
	for _, id := range ids {
		it := r.item(id)
		switch {
		case it == nil:
			return InputResult{}, fmt.Errorf("no checklist item %q", id)
		case it.Mode != record.ModeAttest:
			return InputResult{}, fmt.Errorf("item %s is checked by golive (%s), not attested", id, it.Mode)
		case !r.spec.HasRole(a.Person, it.Role):
			return InputResult{}, fmt.Errorf("item %s is attested by the role %s; %s holds %v", id, it.Role, a.Person, r.spec.Roles(a.Person))
		case it.State == record.ItemPassed:
			dup = append(dup, id)
		case it.State != record.ItemWaiting:
			return InputResult{}, fmt.Errorf("item %s is %s: its stage (%s) has not been reached", id, it.State, it.Stage)
		default:
			fresh = append(fresh, id)
		}
	}
	fp, err := r.proveInput(ctx, a)
	if err != nil {
		return InputResult{}, err
	}
	now := workflow.Now(ctx)
	for _, id := range fresh {
		it := r.item(id)
		it.State, it.Actor, it.At = record.ItemPassed, a.Person, now
		it.Value = "attested"
		if a.Comment != "" {
			it.Value = "attested: " + a.Comment
		}
	}
	if len(fresh) == 0 {
		return InputResult{Message: "already attested: " + strings.Join(dup, ", "), Duplicate: true}, nil
	}
	r.proven(ctx, AttestName, a.Person, fp, strings.Join(fresh, ", "))
	return InputResult{Message: fmt.Sprintf("%s attested %d item(s): %s", a.Person, len(fresh), strings.Join(fresh, ", ")) + proofNote(fp)}, nil
}

// collectAttests opens a stage's attest items, asks their roles, and waits until
// all are attested or timeout passes. It reports whether all were attested.
func (r *release) collectAttests(ctx workflow.Context, stage record.Stage, timeout time.Duration) (bool, error) {
	if r.attestsDone(stage) {
		return true, nil
	}
	r.openAttests(ctx, stage)
	roles := r.waitingRoles(stage)
	r.notifyRoles(ctx, notify.EventAttestationRequested, roles, 0, "Checklist items wait for your attestation ("+string(stage)+")")
	defer r.waitFor(ctx, record.WaitPerson, "attestations by "+strings.Join(roles, ", ")+" ("+string(stage)+")",
		workflow.Now(ctx).Add(timeout), "the unattested items count as not passed")()
	return workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      timeout,
		TimerOptions: workflow.TimerOptions{Summary: fmt.Sprintf("Waiting up to %s for %s attestations", timeout, stage)},
	}, func() bool { return r.attestsDone(stage) })
}
