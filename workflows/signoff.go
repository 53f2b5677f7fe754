package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

func slotStates(s spec.Spec) []record.SlotState {
	var out []record.SlotState
	add := func(block string, b spec.SignoffBlock) {
		for _, sl := range b.Slots {
			out = append(out, record.SlotState{Block: block, ID: sl.ID, Title: sl.Title, Role: sl.Role, MinPeople: max(sl.MinPeople, 1), State: record.ItemPending})
		}
	}
	add(BlockApprovals, s.Approvals)
	add(BlockCompletion, s.Completion)
	add(BlockReview, s.Review.Signoffs)
	return out
}

func (r *release) block(name string) spec.SignoffBlock {
	switch name {
	case BlockApprovals:
		return r.spec.Approvals
	case BlockCompletion:
		return r.spec.Completion
	}
	return r.spec.Review.Signoffs
}

// signoff applies one sign-off, in every block: team member, open block, slot,
// separation of duties, role, proof, one decision per person, order, one slot per person.
func (r *release) signoff(ctx workflow.Context, s Signoff) (InputResult, error) {
	if err := r.member(s.Person); err != nil {
		return InputResult{}, err
	}
	if r.open == "" {
		return InputResult{}, fmt.Errorf("no sign-off is open in stage %s", r.st.Stage)
	}
	slot, err := r.pickSlot(s)
	if err != nil {
		return InputResult{}, err
	}
	if s.Person == r.in.Requester {
		return InputResult{}, fmt.Errorf("%s requested this release and may not sign it off (separation of duties)", s.Person)
	}
	if !r.spec.HasRole(s.Person, slot.Role) {
		return InputResult{}, fmt.Errorf("%s does not hold the role %s needed for slot %s; %s holds %v", s.Person, slot.Role, slot.ID, s.Person, r.spec.Roles(s.Person))
	}
	fingerprint, err := r.verifySignature(ctx, s)
	if err != nil {
		return InputResult{}, err
	}
	for _, by := range slot.By {
		if by.Person == s.Person {
			if by.Decision == string(s.Decision) {
				return InputResult{Message: fmt.Sprintf("%s already signed %s", s.Person, slot.ID), Duplicate: true}, nil
			}
			return InputResult{}, fmt.Errorf("%s already gave %q on slot %s", s.Person, by.Decision, slot.ID)
		}
	}
	if waiting := r.signsAfter(slot); len(waiting) > 0 {
		return InputResult{}, fmt.Errorf("slot %s signs after %s, still open", slot.ID, strings.Join(waiting, ", "))
	}
	if other := r.otherSlot(s.Person, slot); other != "" {
		return InputResult{}, fmt.Errorf("%s already fills slot %s; one person may fill only one slot", s.Person, other)
	}
	p, _ := r.spec.Person(s.Person)
	slot.By = append(slot.By, record.SignedBy{
		Person: s.Person, Name: p.Name, At: workflow.Now(ctx), Comment: s.Comment,
		Signed: fingerprint != "", Fingerprint: fingerprint, Decision: string(s.Decision),
	})
	r.proven(ctx, SignoffName, s.Person, fingerprint, fmt.Sprintf("%s %s", s.Decision, slot.ID))
	if s.Decision == Reject {
		slot.State = record.ItemFailed
		r.rejected = &slot.By[len(slot.By)-1]
		return InputResult{Message: fmt.Sprintf("%s rejected by %s: %s", slot.ID, s.Person, s.Comment)}, nil
	}
	if approvals(slot) >= slot.MinPeople {
		slot.State = record.ItemPassed
	}
	filled, total := r.blockProgress(r.open)
	if w := r.signoffWait; filled < total && w != nil {
		w.For = signoffWaitText(r.open, r.openSlotIDs())
	}
	return InputResult{Message: fmt.Sprintf("%s approved by %s (%d of %d slots filled)", slot.ID, s.Person, filled, total)}, nil
}

// pickSlot finds the slot a sign-off is for; with no slot named, the one open slot the person can fill.
func (r *release) pickSlot(s Signoff) (*record.SlotState, error) {
	var candidates []*record.SlotState
	if s.Slot == "" {
		// A repeated sign-off without a slot names the slot the person already signed.
		for i := range r.st.Slots {
			sl := &r.st.Slots[i]
			for _, by := range sl.By {
				if sl.Block == r.open && by.Person == s.Person {
					return sl, nil
				}
			}
		}
	}
	for i := range r.st.Slots {
		sl := &r.st.Slots[i]
		if sl.Block != r.open {
			continue
		}
		if s.Slot != "" && sl.ID == s.Slot {
			return sl, nil
		}
		if s.Slot == "" && r.spec.HasRole(s.Person, sl.Role) && sl.State != record.ItemPassed {
			candidates = append(candidates, sl)
		}
	}
	if s.Slot != "" {
		return nil, fmt.Errorf("slot %q is not open now; open slots: %s", s.Slot, strings.Join(r.openSlotIDs(), ", "))
	}
	switch len(candidates) {
	case 0:
		return nil, fmt.Errorf("%s holds no open slot; open slots: %s", s.Person, strings.Join(r.openSlotIDs(), ", "))
	case 1:
		return candidates[0], nil
	}
	var ids []string
	for _, c := range candidates {
		ids = append(ids, c.ID)
	}
	return nil, fmt.Errorf("%s could fill several slots (%s): name one with --slot", s.Person, strings.Join(ids, ", "))
}

// otherSlot names another slot of the open block the person already fills.
func (r *release) otherSlot(person string, slot *record.SlotState) string {
	for _, sl := range r.st.Slots {
		if sl.Block != slot.Block || sl.ID == slot.ID {
			continue
		}
		for _, by := range sl.By {
			if by.Person == person {
				return sl.ID
			}
		}
	}
	return ""
}

func approvals(sl *record.SlotState) int {
	n := 0
	for _, by := range sl.By {
		if by.Decision == string(Approve) {
			n++
		}
	}
	return n
}

func (r *release) openSlotIDs() []string {
	var ids []string
	for _, sl := range r.st.Slots {
		if sl.Block == r.open && sl.State != record.ItemPassed {
			ids = append(ids, sl.ID)
		}
	}
	return ids
}

func (r *release) blockProgress(block string) (filled, total int) {
	for _, sl := range r.st.Slots {
		if sl.Block == block {
			total++
			if sl.State == record.ItemPassed {
				filled++
			}
		}
	}
	return filled, total
}

func (r *release) blockDone(block string) bool {
	filled, total := r.blockProgress(block)
	return filled == total
}

// errRejected ends the release: a sign-off was rejected.
var errRejected = errors.New("sign-off rejected")

// signoffTimedOut reports whether a sign-off block ended by its timeout
// (on_timeout abort), and why; the block's stage decides what that means.
func signoffTimedOut(err error) (string, bool) {
	var e *endError
	if !errors.As(err, &e) || e.Outcome != record.OutcomeTimedOut {
		return "", false
	}
	return e.Reason, true
}

// collectSignoffs opens a block, asks its slots, reminds and escalates on durable
// timers, and returns when every slot is filled, one is rejected, or it times out.
func (r *release) collectSignoffs(ctx workflow.Context, block string) error {
	b := r.block(block)
	if len(b.Slots) == 0 {
		return nil
	}
	r.open, r.rejected = block, nil
	defer func() { r.open = "" }()
	for i := range r.st.Slots {
		if r.st.Slots[i].Block == block && r.st.Slots[i].State == record.ItemPending {
			r.st.Slots[i].State = record.ItemWaiting
		}
	}
	r.notifyRoles(ctx, notify.EventSignoffRequested, r.openSlotRoles(), 0, "Sign-off requested: "+block)
	start := workflow.Now(ctx)
	deadline := start.Add(b.Timeout.D())
	nextRemind := start.Add(b.RemindEvery.D())
	escalateAt := start.Add(b.EscalateAfter.D())
	escalated := b.EscalateAfter == 0
	done := func() bool { return r.blockDone(block) || r.rejected != nil }
	then := "the release ends timed_out"
	if b.OnTimeout == "hold" {
		then = "the release is held"
	}
	defer r.waitFor(ctx, record.WaitPerson, signoffWaitText(block, r.openSlotIDs()), deadline, then)()
	wait := r.st.Waiting
	r.signoffWait = wait
	defer func() { r.signoffWait = nil }()
	for {
		wait.For, wait.Until = signoffWaitText(block, r.openSlotIDs()), deadline
		next := deadline
		if b.RemindEvery > 0 && nextRemind.Before(next) {
			next = nextRemind
		}
		if !escalated && escalateAt.Before(next) {
			next = escalateAt
		}
		summary := fmt.Sprintf("Waiting for %s sign-offs until %s", block, next.UTC().Format(time.RFC3339))
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
			Timeout: max(next.Sub(workflow.Now(ctx)), time.Millisecond), TimerOptions: workflow.TimerOptions{Summary: summary},
		}, done)
		if err != nil {
			return err
		}
		if ok {
			if r.rejected != nil {
				return errRejected
			}
			return nil
		}
		now := workflow.Now(ctx)
		switch {
		case !now.Before(deadline):
			if err := r.signoffTimeout(ctx, block, b); err != nil {
				return err
			}
			deadline = workflow.Now(ctx).Add(b.Timeout.D())
		case !escalated && !now.Before(escalateAt):
			escalated = true
			r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, "sign-off overdue: "+strings.Join(r.openSlotIDs(), ", "), "")
		default:
			r.notifyRoles(ctx, notify.EventSignoffReminder, r.openSlotRoles(), 0, "Reminder: sign-off pending: "+strings.Join(r.openSlotIDs(), ", "))
			nextRemind = now.Add(b.RemindEvery.D())
		}
	}
}

// signoffWaitText names the sign-offs a block still waits for.
func signoffWaitText(block string, slots []string) string {
	return block + " sign-offs: " + strings.Join(slots, ", ")
}

// signoffTimeout applies on_timeout: abort ends the block with a timed-out
// end (the release's, in the approvals stage), hold waits for a resume.
func (r *release) signoffTimeout(ctx workflow.Context, block string, b spec.SignoffBlock) error {
	missing := strings.Join(r.openSlotIDs(), ", ")
	if b.OnTimeout == "hold" {
		r.st.Held, r.st.HeldBy = true, "golive (sign-off timeout: "+missing+")"
		r.notifyRoles(ctx, notify.EventSignoffTimeout, r.openSlotRoles(), 0, "Sign-off timed out, release held: "+missing)
		return r.waitHold(ctx, "the rest of the "+block+" sign-offs")
	}
	return end(record.OutcomeTimedOut, fmt.Sprintf("%s sign-off timed out after %s; missing: %s", block, b.Timeout, missing))
}

func (r *release) openSlotRoles() []string {
	var roles []string
	for _, sl := range r.st.Slots {
		if sl.Block == r.open && sl.State != record.ItemPassed && !slices.Contains(roles, sl.Role) {
			roles = append(roles, sl.Role)
		}
	}
	return roles
}

// recipients resolves roles to people, each once, in role order.
func (r *release) recipients(roles []string) []activities.Recipient {
	var out []activities.Recipient
	seen := map[string]bool{}
	for _, role := range roles {
		for _, p := range r.spec.Members(role) {
			if seen[p.ID] {
				continue
			}
			seen[p.ID] = true
			out = append(out, activities.Recipient{Person: p.ID, Name: p.Name, Email: p.Email, Phone: p.Phone})
		}
	}
	return out
}

// verifySignature checks a signed sign-off: the statement is rebuilt from
// what this workflow knows (release, run, block, slot, person, decision,
// comment, version, spec digest), so a signature made for another release, run
// or slot never verifies. Since the team directory, the key is the one the
// pinned directory holds for the person, a signature counts once, and the
// directory's policy says whether unsigned sign-offs count; before it, the key
// came from the spec and each block said whether signatures were required.
func (r *release) verifySignature(ctx workflow.Context, s Signoff) (string, error) {
	b := r.block(r.open)
	st := s.SignoffStatement(r.ref(ctx), r.open)
	if r.v >= versionIdentity {
		if s.Passkey != nil {
			return r.provePasskey(ctx, SignoffName, s.Person, s.Signature, s.SignedAt, max(b.Timeout.D(), time.Hour), s.Passkey, st.Bytes())
		}
		if s.Signature == "" && b.RequireSigned {
			return "", fmt.Errorf("%s sign-offs must be signed (require_signed_approvals): an unsigned sign-off, such as a plain signal from the UI, is refused; sign with golive approve --key", r.open)
		}
		return r.prove(ctx, SignoffName, s.Person, s.Signature, s.SignedAt, max(b.Timeout.D(), time.Hour), func(keys string) (approval.Verified, error) {
			return approval.Verify(st, s.Signature, keys)
		})
	}
	if s.Signature == "" {
		if b.RequireSigned {
			return "", fmt.Errorf("%s sign-offs must be signed (require_signed_approvals): an unsigned sign-off, such as a plain signal from the UI, is refused; sign with golive approve --key", r.open)
		}
		return "", nil
	}
	p, _ := r.spec.Person(s.Person)
	if p.PublicKey == "" {
		return "", fmt.Errorf("%s has no public_key in the release spec, so the signature cannot be verified", s.Person)
	}
	v, err := approval.Verify(st, s.Signature, p.PublicKey)
	if err != nil {
		return "", fmt.Errorf("signature refused: %w", err)
	}
	if err := approval.CheckFreshness(s.SignedAt, workflow.Now(ctx), max(b.Timeout.D(), time.Hour), signatureSkew); err != nil {
		return "", fmt.Errorf("signature refused: %w", err)
	}
	return v.Fingerprint, nil
}

// signsAfter lists the slots a slot must wait for (spec "after") that are not filled yet.
func (r *release) signsAfter(slot *record.SlotState) []string {
	var open []string
	for _, sl := range r.block(slot.Block).Slots {
		if sl.ID != slot.ID {
			continue
		}
		for _, a := range sl.After {
			for _, other := range r.st.Slots {
				if other.Block == slot.Block && other.ID == a && other.State != record.ItemPassed {
					open = append(open, a)
				}
			}
		}
	}
	return open
}
