// Package telemetry holds golive's own metric names and the helpers that emit
// them, and the slog handler that puts the release ID on every log line.
//
// The helpers take the SDK's metrics handler (client.MetricsHandler), never a
// Prometheus or OpenTelemetry type, so workflow code stays deterministic:
//
//   - in a workflow, pass workflow.GetMetricsHandler(ctx): the SDK drops what is
//     recorded while a history is replayed, so a metric counts once per event;
//   - in an activity, pass ActivityHandler(ctx) (activity.GetMetricsHandler when
//     ctx is an activity's, a no-op handler otherwise, as in unit tests).
//
// The worker (worker.StartTelemetry) turns the handler into Prometheus metrics.
// Counters are exposed with the suffix _total: golive_release_stage_entered is
// scraped as golive_release_stage_entered_total.
package telemetry

import (
	"context"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
)

// Metric names: counters, each with the tags listed.
const (
	// MetricStageEntered counts releases entering a stage (tag stage).
	MetricStageEntered = "golive_release_stage_entered"
	// MetricReleaseFinished counts releases that ended, by outcome (tag outcome).
	MetricReleaseFinished = "golive_release_finished"
	// MetricRollbacks counts rollback sagas started, by cause (tag reason).
	MetricRollbacks = "golive_rollbacks"
	// MetricCheckVerdicts counts judged watch readings (tags metric, verdict).
	MetricCheckVerdicts = "golive_check_verdicts"
	// MetricNotificationFailures counts messages that did not reach a person (tags event, channel).
	MetricNotificationFailures = "golive_notification_failures"
)

// Tag keys of golive's metrics.
const (
	TagStage   = "stage"
	TagOutcome = "outcome"
	TagReason  = "reason"
	TagMetric  = "metric"
	TagVerdict = "verdict"
	TagEvent   = "event"
	TagChannel = "channel"
)

// Rollback reasons: a small fixed set, so the metric's label stays bounded
// (the trigger's own text is in the release record, not in a label).
const (
	// ReasonTrigger is an automatic rollback trigger (error rate, degradation, analysis failure).
	ReasonTrigger = "trigger"
	// ReasonRequested is a person's rollback request (golive rollback).
	ReasonRequested = "requested"
	// ReasonAborted is an abort after something was changed (compensation runs).
	ReasonAborted = "aborted"
	// ReasonCancelled is a cancellation from Temporal (UI or CLI cancel).
	ReasonCancelled = "cancelled"
	// ReasonFailure is a step that failed (deploy, migrations, smoke tests, ...).
	ReasonFailure = "failure"
)

// StageEntered counts a release entering stage.
func StageEntered(h client.MetricsHandler, stage string) {
	inc(h, MetricStageEntered, TagStage, stage)
}

// ReleaseFinished counts a release that ended with outcome.
func ReleaseFinished(h client.MetricsHandler, outcome string) {
	inc(h, MetricReleaseFinished, TagOutcome, outcome)
}

// Rollback counts a rollback saga started for reason (one of the Reason constants).
func Rollback(h client.MetricsHandler, reason string) {
	inc(h, MetricRollbacks, TagReason, reason)
}

// CheckVerdict counts one judged reading of metric with its verdict.
func CheckVerdict(h client.MetricsHandler, metric, verdict string) {
	inc(h, MetricCheckVerdicts, TagMetric, metric, TagVerdict, verdict)
}

// NotificationFailed counts a message of event that did not go out on channel.
func NotificationFailed(h client.MetricsHandler, event, channel string) {
	inc(h, MetricNotificationFailures, TagEvent, event, TagChannel, channel)
}

// RollbackReason classifies why a rollback saga runs, from what the release
// knows when it starts it: aborted and requested say whether a person's abort
// or rollback request stopped the lifecycle, by is who decided ("temporal" for
// a cancellation) and trigger is the stop cause's text. Pure and deterministic.
func RollbackReason(aborted, requested bool, by, trigger string) string {
	switch {
	case aborted:
		return ReasonAborted
	case requested:
		return ReasonRequested
	case by == "temporal":
		return ReasonCancelled
	case strings.Contains(trigger, "rollback trigger"):
		return ReasonTrigger
	}
	return ReasonFailure
}

// ActivityHandler is the metrics handler of the activity running on ctx
// (tagged with the activity's type, namespace and task queue), or a no-op
// handler when ctx is not an activity's.
func ActivityHandler(ctx context.Context) client.MetricsHandler {
	if ctx == nil || !activity.IsActivity(ctx) {
		return client.MetricsNopHandler
	}
	return activity.GetMetricsHandler(ctx)
}

// inc adds one to counter name with the tags given as key, value pairs; an
// empty value is recorded as "unknown" so every series has the same labels.
func inc(h client.MetricsHandler, name string, kv ...string) {
	if h == nil {
		return
	}
	tags := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		if v == "" {
			v = "unknown"
		}
		tags[kv[i]] = v
	}
	h.WithTags(tags).Counter(name).Inc(1)
}
