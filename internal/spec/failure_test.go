package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

func TestFailurePolicyDefaultsAskInProductionBeforeTheDeployAndForVerifyAndSmoke(t *testing.T) {
	ask, rb := spec.FailAsk, spec.FailRollback
	for _, tc := range []struct {
		env  string
		want map[spec.Step]spec.FailureAction
	}{
		{"production", map[spec.Step]spec.FailureAction{spec.StepReadiness: ask, spec.StepBackup: ask, spec.StepMigrate: rb, spec.StepDeploy: rb, spec.StepVerify: ask, spec.StepSmoke: ask}},
		{"staging", map[spec.Step]spec.FailureAction{spec.StepReadiness: rb, spec.StepBackup: rb, spec.StepMigrate: rb, spec.StepDeploy: rb, spec.StepVerify: rb, spec.StepSmoke: rb}},
	} {
		l, err := spec.Parse("min.yaml", []byte(inEnvironment(tc.env)))
		if err != nil {
			t.Fatalf("%s: %v", tc.env, err)
		}
		f := l.Spec.Failure
		for _, st := range spec.Steps {
			if got := f.Step(st).OnFailure; got != tc.want[st] {
				t.Errorf("%s: %s defaults to %s, want %s", tc.env, st, got, tc.want[st])
			}
		}
		if f.Timeout(spec.StepSmoke) != spec.DefaultDecisionTimeout {
			t.Errorf("%s: decision timeout %s", tc.env, f.Timeout(spec.StepSmoke))
		}
	}
}

// inEnvironment is the minimal spec in env, with signed approvals not required
// (its people have no keys).
func inEnvironment(env string) string {
	return strings.Replace(minimal, "environment: staging", "environment: "+env+"\nrequire_signed_approvals: false", 1)
}

func TestFailurePolicyAsWritten(t *testing.T) {
	src := inEnvironment("production") +
		"failure:\n  decision_timeout: 1h\n  smoke: {on_failure: rollback}\n  deploy: {on_failure: ask, decision_timeout: 10m}\n"
	l, err := spec.Parse("min.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := l.Spec.Failure
	if f.Ask(spec.StepSmoke) || !f.Ask(spec.StepDeploy) {
		t.Errorf("written policies rewritten: smoke %s, deploy %s", f.Smoke.OnFailure, f.Deploy.OnFailure)
	}
	if f.Timeout(spec.StepDeploy) != 10*time.Minute || f.Timeout(spec.StepVerify) != time.Hour {
		t.Errorf("timeouts: deploy %s, verify %s", f.Timeout(spec.StepDeploy), f.Timeout(spec.StepVerify))
	}
}

func TestFailurePolicyErrorsAreNamedAndPlaced(t *testing.T) {
	src := minimal + "failure:\n  decision_timeout: 10s\n  smoke: {on_failure: retry}\n  deploy: {on_failure: ask, decision_timeout: 5s}\n"
	_, err := spec.Parse("spec.yaml", []byte(src))
	if err == nil {
		t.Fatal("a bad failure policy was accepted")
	}
	for _, want := range []string{
		`failure.smoke.on_failure: unknown value "retry" (want one of rollback, ask)`,
		"failure.decision_timeout: 10s is too short",
		"failure.deploy.decision_timeout: 5s is too short",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if !strings.Contains(err.Error(), "spec.yaml:") {
		t.Errorf("errors do not name the file and line:\n%v", err)
	}
}
