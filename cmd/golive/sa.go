package main

import (
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

func temporalSA(service, env, version string) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		workflows.SAService.ValueSet(service),
		workflows.SAEnvironment.ValueSet(env),
		workflows.SAVersion.ValueSet(version),
		workflows.SAStage.ValueSet(string(record.StagePlan)),
		workflows.SAOutcome.ValueSet(string(record.OutcomeRunning)),
	)
}
