package spec

import (
	"fmt"
	"time"
)

// Failure says, step by step, what a failed step does: roll back (the release
// ends, compensating what was done) or ask the people (it stops at the failed
// step and waits for golive retry, skip, rollback or abort).
type Failure struct {
	// DecisionTimeout is how long a failed step set to ask waits for a decision
	// before it takes the default: abort before anything changed, rollback after (default 30m).
	DecisionTimeout Duration `yaml:"decision_timeout" json:"decision_timeout"`
	// Readiness is the Pre-Deployment Checklist gate (default ask in production, rollback elsewhere).
	Readiness StepFailure `yaml:"readiness" json:"readiness"`
	// Backup is the T-4h backup verification (default ask in production, rollback elsewhere).
	Backup StepFailure `yaml:"backup" json:"backup"`
	// Migrate is the T-0 database migrations (default rollback).
	Migrate StepFailure `yaml:"migrate" json:"migrate"`
	// Deploy is the T-0 application deploy (default rollback).
	Deploy StepFailure `yaml:"deploy" json:"deploy"`
	// Verify is the check that the new version is live after the deploy (default ask in production, rollback elsewhere).
	Verify StepFailure `yaml:"verify" json:"verify"`
	// Smoke is the smoke tests of the critical flows at T-0 and T+1h (default ask in production, rollback elsewhere).
	Smoke StepFailure `yaml:"smoke" json:"smoke"`
}

// StepFailure is one step's failure policy. Watch triggers are not steps:
// they roll back at once and never wait.
type StepFailure struct {
	// OnFailure is rollback (end the release, compensating) or ask (wait for a person's decision).
	OnFailure FailureAction `yaml:"on_failure" json:"on_failure"`
	// DecisionTimeout overrides failure.decision_timeout for this step.
	DecisionTimeout Duration `yaml:"decision_timeout,omitempty" json:"decision_timeout,omitempty"`
}

// FailureAction is what a failed step does.
type FailureAction string

// Failure actions.
const (
	FailRollback FailureAction = "rollback"
	FailAsk      FailureAction = "ask"
)

// FailureActions lists the values of on_failure.
var FailureActions = []string{string(FailRollback), string(FailAsk)}

// Step names a step with a failure policy: the keys of failure.
type Step string

// The steps with a failure policy, in the order a release runs them.
const (
	StepReadiness Step = "readiness"
	StepBackup    Step = "backup"
	StepMigrate   Step = "migrate"
	StepDeploy    Step = "deploy"
	StepVerify    Step = "verify"
	StepSmoke     Step = "smoke"
)

// Steps lists the steps with a failure policy, in run order.
var Steps = []Step{StepReadiness, StepBackup, StepMigrate, StepDeploy, StepVerify, StepSmoke}

// DefaultDecisionTimeout is failure.decision_timeout when the spec leaves it out.
const DefaultDecisionTimeout = 30 * time.Minute

// Step returns the policy of one step (the zero StepFailure for an unknown one).
func (f *Failure) Step(s Step) *StepFailure {
	switch s {
	case StepReadiness:
		return &f.Readiness
	case StepBackup:
		return &f.Backup
	case StepMigrate:
		return &f.Migrate
	case StepDeploy:
		return &f.Deploy
	case StepVerify:
		return &f.Verify
	case StepSmoke:
		return &f.Smoke
	}
	return &StepFailure{}
}

// Ask reports whether a failure of step s waits for a person's decision.
func (f Failure) Ask(s Step) bool { return f.Step(s).OnFailure == FailAsk }

// Timeout is how long a failure of step s waits for a decision.
func (f Failure) Timeout(s Step) time.Duration {
	if d := f.Step(s).DecisionTimeout; d > 0 {
		return d.D()
	}
	return f.DecisionTimeout.D()
}

// failureDefaults fills the failure policy: ask in production for the steps
// before the deploy and for verify and smoke after it, rollback otherwise.
func failureDefaults(s *Spec, d Spec) {
	or(&s.Failure.DecisionTimeout, d.Failure.DecisionTimeout)
	for _, st := range Steps {
		def := FailRollback
		if s.Environment == "production" && st != StepMigrate && st != StepDeploy {
			def = FailAsk
		}
		or(&s.Failure.Step(st).OnFailure, def)
	}
}

// failure checks the failure policy.
func (c *checker) failure() {
	for _, st := range Steps {
		c.enum(fmt.Sprintf("failure.%s.on_failure", st), string(c.s.Failure.Step(st).OnFailure), FailureActions)
	}
	if c.s.Failure.DecisionTimeout.D() < time.Minute {
		c.add("failure.decision_timeout", "%s is too short for a person to decide (at least 1m)", c.s.Failure.DecisionTimeout)
	}
	for _, st := range Steps {
		if d := c.s.Failure.Step(st).DecisionTimeout; d != 0 && d.D() < time.Minute {
			c.add(fmt.Sprintf("failure.%s.decision_timeout", st), "%s is too short for a person to decide (at least 1m)", d)
		}
	}
}
