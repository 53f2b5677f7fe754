package workflows

import (
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
)

// review is the Post-Deployment Review (stage 9): the pre/post comparison is
// computed, the debrief and action items are attested, and the review sign-offs
// collected. A review left open past its timeout ends the release as completed
// with the open items named, never as if they had been done.
func (r *release) review(ctx workflow.Context) error {
	if err := r.waitUntil(ctx, r.st.DeployAt.Add(r.spec.Review.After.D()), "Post-Deployment Review opens (24h after deploy)"); err != nil {
		return err
	}
	r.setStage(ctx, record.StageReview)
	// Added after releases had shipped: older histories never sent it.
	if workflow.GetVersion(ctx, changeReviewDue, workflow.DefaultVersion, 1) >= 1 {
		r.notifyRoles(ctx, notify.EventReviewDue, r.reviewRoles(), 0,
			"Post-Deployment Review due for "+r.in.Version+": metrics comparison, debrief and sign-offs")
	}
	r.compare(ctx)
	ok, err := r.collectAttests(ctx, record.StageReview, r.spec.Review.Timeout.D())
	if err != nil {
		return err
	}
	if !ok {
		r.st.Reason = "review overdue; open items: " + strings.Join(r.openItems(record.StageReview), ", ")
		r.alerts.raise(ctx, 1, r.st.Reason, "review")
		return nil
	}
	return r.reviewSignoffs(ctx)
}

// changeReviewDue versions the review_due notification (workflow.GetVersion).
const changeReviewDue = "review-due-notice"

// reviewRoles are the people the review needs: the roles attesting its items
// and filling its sign-off slots, each once, in spec order.
func (r *release) reviewRoles() []string {
	var roles []string
	add := func(role string) {
		if role != "" && !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	for _, it := range r.spec.Review.Items {
		add(it.Attest)
	}
	for _, sl := range r.spec.Review.Signoffs.Slots {
		add(sl.Role)
	}
	if len(roles) == 0 {
		roles = []string{"full_team"}
	}
	return roles
}

// reviewSignoffs collects "24-Hour Review" and "All Issues Resolved".
func (r *release) reviewSignoffs(ctx workflow.Context) error {
	err := r.collectSignoffs(ctx, BlockReview)
	if why, timedOut := signoffTimedOut(err); timedOut {
		// An overdue review does not undo the release: it is noted in the
		// reason, with the slots still missing (the block is closed by now).
		r.st.Reason = "review sign-offs overdue (" + why + ")"
		return nil
	}
	if err == errRejected {
		r.st.Reason = fmt.Sprintf("review sign-off rejected by %s: %s", r.rejected.Person, r.rejected.Comment)
		return nil
	}
	return err
}

// compare sets the pre/post comparison: baseline against the mean of the watch readings.
func (r *release) compare(ctx workflow.Context) {
	sums := map[string]float64{}
	counts := map[string]int{}
	for _, c := range r.st.Checks {
		if c.Window != WindowWatch {
			continue
		}
		for _, rd := range c.Readings {
			if rd.Verdict != record.VerdictUnavailable {
				sums[rd.Metric] += rd.Value
				counts[rd.Metric]++
			}
		}
	}
	r.st.Compare = nil
	var regressions []string
	for _, b := range r.st.Baseline {
		if b.Verdict == record.VerdictUnavailable || counts[b.Metric] == 0 {
			continue
		}
		after := sums[b.Metric] / float64(counts[b.Metric])
		reg := regressed(b.Unit, b.Value, after)
		r.st.Compare = append(r.st.Compare, record.Comparison{Metric: b.Metric, Unit: b.Unit, Baseline: b.Value, After: after, Regression: reg})
		if reg {
			regressions = append(regressions, fmt.Sprintf("%s %.3g → %.3g%s", b.Metric, b.Value, after, b.Unit))
		}
	}
	if len(r.st.Compare) == 0 {
		r.mark(ctx, itemCompare, record.ItemUnavailable, "", "no baseline or no watch readings to compare")
		r.mark(ctx, itemRegressions, record.ItemUnavailable, "", "nothing to compare")
		return
	}
	r.mark(ctx, itemCompare, record.ItemPassed, fmt.Sprintf("%d metrics compared", len(r.st.Compare)), "")
	if len(regressions) > 0 {
		r.mark(ctx, itemRegressions, record.ItemFailed, fmt.Sprintf("%d regression(s)", len(regressions)), strings.Join(regressions, "; "))
		return
	}
	r.mark(ctx, itemRegressions, record.ItemPassed, "no regressions", "")
}

// regressed reports an after-deploy mean worse than the baseline by more than
// noise: over 20 % and over the unit's floor (50 ms of latency, half a
// percentage point of a rate, 5 slow queries an hour). Rollback triggers catch
// the large degradations during the watch; this flags the small ones for review.
func regressed(unit string, before, after float64) bool {
	floor := 0.01
	switch unit {
	case "ms":
		floor = 50
	case "%":
		floor = 0.5
	case "/h":
		floor = 5
	}
	return after > before*1.2 && after-before > floor
}

// openItems lists the item IDs of a stage that are not final.
func (r *release) openItems(stage record.Stage) []string {
	var ids []string
	for _, it := range r.st.Items {
		if it.Stage == stage && !it.State.Done() {
			ids = append(ids, it.ID)
		}
	}
	return ids
}
