package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// compensation undoes one step on rollback.
type compensation struct {
	name string
	run  func(ctx workflow.Context) error
}

// deploy is T-0 (stage 5). After each step that changes something, its
// compensation is pushed; a failure returns and the saga undoes them in reverse.
func (r *release) deploy(ctx workflow.Context) error {
	if err := r.waitUntil(ctx, r.st.Window, "T-0: wait for the deployment window"); err != nil {
		return err
	}
	r.setStage(ctx, record.StageDeploy)
	if err := r.beforeChange(ctx, "the code freeze"); err != nil {
		return err
	}
	if workflow.GetVersion(ctx, changeT0Alarms, workflow.DefaultVersion, 1) >= 1 {
		if err := r.recheckAlarms(ctx); err != nil {
			return err
		}
	}

	// Code freeze: announced to the team and recorded; lifted when the release ends either way.
	r.mark(ctx, itemFreeze, record.ItemRunning, "", "")
	r.markNotify(ctx, itemFreeze, r.notifyRoles(ctx, notify.EventCodeFreeze, []string{"full_team"}, 0, "Code freeze on for "+r.in.Version))
	r.comps = append(r.comps, compensation{"lift code freeze", func(ctx workflow.Context) error {
		r.notifyRoles(ctx, notify.EventCodeFreezeLifted, []string{"full_team"}, 0, "Code freeze lifted")
		return nil
	}})

	if err := r.baseline(ctx); err != nil {
		return err
	}
	if err := r.guard(ctx, spec.StepMigrate, r.migrate, r.failedItems(itemMigrate)); err != nil {
		return err
	}
	if err := r.guard(ctx, spec.StepDeploy, r.deployApp, r.failedItems(itemDeployApp)); err != nil {
		return err
	}
	verify := func(ctx workflow.Context) error { return r.verifyLive(ctx, itemVerify, r.in.Version) }
	if err := r.guard(ctx, spec.StepVerify, verify, r.failedItems(itemVerify)); err != nil {
		return err
	}
	smoke := func(ctx workflow.Context) error {
		err := r.smoke(ctx, itemSmoke)
		if err != nil {
			r.notifyRoles(ctx, notify.EventSmokeFailed, r.levelRoles(r.spec.Escalation.CriticalLevel), r.spec.Escalation.CriticalLevel, "Smoke tests failed after deploying "+r.in.Version)
		}
		return err
	}
	if err := r.guard(ctx, spec.StepSmoke, smoke, r.failedItems(itemSmoke)); err != nil {
		return err
	}
	if err := r.errorRate(ctx); err != nil {
		return err
	}
	r.mark(ctx, itemHealth, record.ItemRunning, "", "")
	var res activities.Result
	if err := workflow.ExecuteActivity(act(ctx, "Check system health", 0), prober.Health, r.spec.App).Get(ctx, &res); err != nil {
		r.markErr(ctx, itemHealth, err)
		return fmt.Errorf("system health: %w", err)
	}
	r.markResult(ctx, itemHealth, res)
	if !res.Passed() {
		return fmt.Errorf("system health %s: %s", res.State, res.Detail)
	}
	return nil
}

// pushComp adds a compensation unless one of that name is there already: a
// retried step must not be undone twice (the first one undoes it to where it began).
func (r *release) pushComp(name string, run func(ctx workflow.Context) error) {
	for _, c := range r.comps {
		if c.name == name {
			return
		}
	}
	r.comps = append(r.comps, compensation{name, run})
}

// baseline measures every metric before deploy with the same queries the watch uses.
func (r *release) baseline(ctx workflow.Context) error {
	r.mark(ctx, itemBaseline, record.ItemRunning, "", "")
	sample, err := r.sample(ctx, "Baseline metrics before deploy")
	if err != nil {
		r.markErr(ctx, itemBaseline, err)
		return nil // a missing baseline weakens the degradation trigger but does not stop the release
	}
	r.st.Baseline = readings(sample, "baseline", 0, "baseline")
	r.mark(ctx, itemBaseline, record.ItemPassed, render.Readings(r.st.Baseline), "")
	return nil
}

func (r *release) sample(ctx workflow.Context, summary string) (activities.Sample, error) {
	var s activities.Sample
	in := activities.SampleInput{ReleaseID: r.st.ReleaseID, Metrics: r.spec.Metrics}
	err := workflow.ExecuteActivity(act(ctx, summary, 0), metrics.Sample, in).Get(ctx, &s)
	return s, err
}

// migrate applies pending migrations and records the version before and after.
func (r *release) migrate(ctx workflow.Context) error {
	if err := r.beforeChange(ctx, "the migrations"); err != nil {
		return err
	}
	r.mark(ctx, itemMigrate, record.ItemRunning, "", "")
	in := activities.MigrateInput{ReleaseID: r.st.ReleaseID, Database: r.spec.Database}
	var res activities.MigrateResult
	if err := workflow.ExecuteActivity(act(ctx, "Deploy database migrations", r.spec.Database.StatementTimeout.D()*4), database.Migrate, in).Get(ctx, &res); err != nil {
		r.markErr(ctx, itemMigrate, err)
		return fmt.Errorf("migrations: %w", err)
	}
	value := res.Value
	if value == "" {
		value = fmt.Sprintf("schema version %d → %d", res.Before, res.After)
	}
	r.mark(ctx, itemMigrate, res.State, value, res.Detail)
	// Pushed before judging the result: a run that applied some migrations and
	// then failed must still be migrated back down.
	if res.After != res.Before {
		before := res.Before
		r.pushComp("migrate down", func(ctx workflow.Context) error { return r.migrateDown(ctx, before) })
	}
	if res.State == record.ItemFailed || res.State == record.ItemUnavailable {
		return fmt.Errorf("migrations %s: %s", res.State, res.Detail)
	}
	return nil
}

// deployApp pushes the new version; the previous one is recorded for rollback.
func (r *release) deployApp(ctx workflow.Context) error {
	if err := r.beforeChange(ctx, "the deploy"); err != nil {
		return err
	}
	r.mark(ctx, itemDeployApp, record.ItemRunning, "", "")
	r.notifyRoles(ctx, notify.EventDeployStarted, []string{"full_team"}, 0, "Deploying "+r.in.Version)
	var res activities.DeployResult
	err := workflow.ExecuteActivity(act(ctx, "Deploy application code: "+r.in.Version, r.spec.Deploy.Timeout.D()), deployer.Deploy, r.deployInput(r.in.Version)).Get(ctx, &res)
	// The revert is pushed even when the deploy failed: it may have been half applied.
	r.pushComp("revert application", r.revertApp)
	if err != nil {
		r.markErr(ctx, itemDeployApp, err)
		return fmt.Errorf("deploy: %w", err)
	}
	if res.Previous != "" {
		r.st.PreviousVersion = res.Previous
	}
	r.st.LiveVersion = r.in.Version
	r.st.DeployAt = workflow.Now(ctx)
	value := fmt.Sprintf("%s live (previous %s)", r.in.Version, orUnknown(r.st.PreviousVersion))
	r.mark(ctx, itemDeployApp, record.ItemPassed, value, res.Output)
	r.notifyRoles(ctx, notify.EventDeployCompleted, []string{"full_team"}, 0, "Deployed "+r.in.Version)
	return nil
}

func (r *release) verifyLive(ctx workflow.Context, id, version string) error {
	r.mark(ctx, id, record.ItemRunning, "", "")
	in := activities.VerifyInput{App: r.spec.App, Version: version, Timeout: r.spec.Deploy.Timeout.D()}
	var res activities.Result
	if err := workflow.ExecuteActivity(act(ctx, "Verify version "+version+" is live", in.Timeout+30e9), prober.VerifyVersion, in).Get(ctx, &res); err != nil {
		r.markErr(ctx, id, err)
		return fmt.Errorf("verify %s live: %w", version, err)
	}
	r.markResult(ctx, id, res)
	if !res.Passed() {
		return fmt.Errorf("version %s is not live: %s", version, res.Detail)
	}
	return nil
}

// smoke runs the critical user flows.
func (r *release) smoke(ctx workflow.Context, id string) error {
	r.mark(ctx, id, record.ItemRunning, "", "")
	in := activities.SmokeInput{App: r.spec.App, Flows: r.spec.Smoke.Flows}
	var res activities.SmokeResult
	if err := workflow.ExecuteActivity(act(ctx, "Run smoke tests: critical user flows", 0), prober.Smoke, in).Get(ctx, &res); err != nil {
		r.markErr(ctx, id, err)
		return fmt.Errorf("smoke tests: %w", err)
	}
	var parts, failed []string
	for _, f := range res.Flows {
		parts = append(parts, f.ID+" "+string(f.Result.State))
		if !f.Result.Passed() {
			failed = append(failed, f.ID+": "+f.Result.Detail)
		}
	}
	if res.Passed() {
		r.mark(ctx, id, record.ItemPassed, fmt.Sprintf("%d/%d flows passed", len(res.Flows), len(res.Flows)), strings.Join(parts, ", "))
		return nil
	}
	r.mark(ctx, id, record.ItemFailed, fmt.Sprintf("%d/%d flows failed", len(failed), len(res.Flows)), strings.Join(failed, "; "))
	return fmt.Errorf("smoke tests failed: %s", strings.Join(failed, "; "))
}

// errorRate checks the error rate right after deploy against the rollback trigger.
func (r *release) errorRate(ctx workflow.Context) error {
	r.mark(ctx, itemErrors, record.ItemRunning, "", "")
	s, err := r.sample(ctx, "Monitor error rates after deploy")
	if err != nil {
		r.markErr(ctx, itemErrors, err)
		return nil
	}
	rs := readings(s, "t0", 0, "deploy")
	evaluate(rs, r.spec.Thresholds, r.st.Baseline, false)
	worst := worstVerdict(rs)
	state := record.ItemPassed
	switch worst {
	case record.VerdictUnavailable:
		state = record.ItemUnavailable
	case record.VerdictCritical, record.VerdictTargetMissed:
		state = record.ItemFailed
	case record.VerdictRollback:
		r.mark(ctx, itemErrors, record.ItemFailed, render.Readings(rs), breaches(rs))
		return fmt.Errorf("rollback trigger right after deploy: %s", breaches(rs))
	}
	r.mark(ctx, itemErrors, state, render.Readings(rs), breaches(rs))
	return nil
}

func (r *release) deployInput(version string) activities.DeployInput {
	return activities.DeployInput{ReleaseID: r.st.ReleaseID, Deploy: r.spec.Deploy, App: r.spec.App, Version: version, Previous: r.st.PreviousVersion}
}
