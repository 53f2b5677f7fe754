// Package activities holds golive's activities: one struct per external system
// (prober, deployer, database, metrics, notifier, recorder), each holding its
// clients; the methods are the activities. Activities are idempotent per
// workflow ID + activity ID, and never import the workflows package.
package activities

import (
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// Error types of non-retryable application errors.
const (
	// ErrNotConfigured: the integration this step needs is not configured.
	ErrNotConfigured = "NotConfigured"
	// ErrBadInput: the spec or input cannot work, retrying will not help.
	ErrBadInput = "BadInput"
	// ErrDeployFailed: the deploy target refused or failed the deploy.
	ErrDeployFailed = "DeployFailed"
)

// Result is the outcome of one checklist step done by an activity.
type Result struct {
	// State is passed, failed, unavailable or skipped (record.Item*: the
	// state the checklist item gets).
	State record.ItemState `json:"state"`
	// Value is what was measured, short (e.g. "HTTP 200 in 12ms").
	Value string `json:"value,omitempty"`
	// Detail explains a failure or lists offenders; never secrets or patient data.
	Detail string `json:"detail,omitempty"`
}

// Passed reports whether the step passed.
func (r Result) Passed() bool { return r.State == record.ItemPassed }

// CheckInput runs one automatic readiness check.
type CheckInput struct {
	ReleaseID string     `json:"release_id"`
	ItemID    string     `json:"item_id"`
	Check     spec.Check `json:"check"`
	App       spec.App   `json:"app"`
}

// SmokeInput runs the critical user flows against the app.
type SmokeInput struct {
	App   spec.App    `json:"app"`
	Flows []spec.Flow `json:"flows"`
}

// FlowResult is one flow's outcome.
type FlowResult struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Result Result `json:"result"`
}

// SmokeResult is every flow's outcome.
type SmokeResult struct {
	Flows []FlowResult `json:"flows"`
}

// Passed reports whether every flow passed.
func (s SmokeResult) Passed() bool {
	for _, f := range s.Flows {
		if !f.Result.Passed() {
			return false
		}
	}
	return len(s.Flows) > 0
}

// VerifyInput waits for a version to be live.
type VerifyInput struct {
	App     spec.App      `json:"app"`
	Version string        `json:"version"`
	Timeout time.Duration `json:"timeout"`
}

// DeployInput deploys or reverts a version.
type DeployInput struct {
	ReleaseID string      `json:"release_id"`
	Deploy    spec.Deploy `json:"deploy"`
	App       spec.App    `json:"app"`
	// Version is the release version (on revert: the version being rolled back).
	Version string `json:"version"`
	// Previous is the recorded version (or revision, or origin path) that was live before; Revert makes it live.
	Previous string `json:"previous,omitempty"`
}

// DeployResult records what a deploy changed.
type DeployResult struct {
	// Previous is what was live before, so rollback needs no rebuild.
	Previous string `json:"previous"`
	// Live is what is live now.
	Live string `json:"live"`
	// Output is a short record from the target (command output, revision ARN).
	Output string `json:"output,omitempty"`
}

// MigrateInput applies or rolls back migrations.
type MigrateInput struct {
	ReleaseID string        `json:"release_id"`
	Database  spec.Database `json:"database"`
	// TargetVersion is the version to migrate down to (rollback only).
	TargetVersion int64 `json:"target_version,omitempty"`
}

// MigrateResult records the schema version before and after.
type MigrateResult struct {
	Result
	Before  int64    `json:"before"`
	After   int64    `json:"after"`
	Applied []string `json:"applied,omitempty"`
	// Blocking names the migration without a down part that stopped a rollback.
	Blocking string `json:"blocking,omitempty"`
}

// BackupInput verifies a backup.
type BackupInput struct {
	ReleaseID string        `json:"release_id"`
	Phase     string        `json:"phase"`
	Backup    spec.Backup   `json:"backup"`
	Database  spec.Database `json:"database"`
}

// SampleInput takes one reading of every configured metric.
type SampleInput struct {
	ReleaseID string       `json:"release_id"`
	Metrics   spec.Metrics `json:"metrics"`
	// At is the evaluation time of the queries (the check's scheduled time, so
	// a replayed or late check reads the same moment); zero means now.
	At time.Time `json:"at,omitzero"`
}

// MetricValue is one metric's value, or why there is none.
type MetricValue struct {
	Name  string  `json:"name"`
	Query string  `json:"query,omitempty"`
	Value float64 `json:"value"`
	// Unit is "%" for rates, "ms" for latency, "/h" for counts per hour.
	Unit string `json:"unit,omitempty"`
	// Error is set when the value could not be read; the reading is then unavailable, never healthy.
	Error string `json:"error,omitempty"`
	// Condition is the metric's analysis verdict when the spec gives success or
	// failure conditions: "success", "failure" or "inconclusive"; empty otherwise.
	Condition string `json:"condition,omitempty"`
}

// Sample is one reading of every metric, in the order of the metric names.
type Sample struct {
	At     time.Time     `json:"at"`
	Values []MetricValue `json:"values"`
}

// Recipient is one person a notification goes to.
type Recipient struct {
	Person string `json:"person"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
}

// NotifyInput sends one catalogue event to recipients.
type NotifyInput struct {
	ReleaseID string        `json:"release_id"`
	Event     string        `json:"event"`
	Level     int           `json:"level,omitempty"`
	Notify    spec.Notify   `json:"notify"`
	To        []Recipient   `json:"to"`
	Facts     []Fact        `json:"facts,omitempty"`
	Attempt   int           `json:"attempt,omitempty"`
	Delay     time.Duration `json:"-"`
	// Decided are the sign-off decisions made so far (oldest first), so later
	// notices say who decided and when ("approved by Grace at 14:02").
	Decided []Decision `json:"decided,omitempty"`
}

// Decision is one sign-off decision a notice reports.
type Decision struct {
	Slot     string    `json:"slot"`
	Decision string    `json:"decision"`
	Name     string    `json:"name"`
	At       time.Time `json:"at"`
}

// Fact is one release fact a message may carry (service, version, stage...). Never patient data.
type Fact struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// NotifyResult records deliveries: counts of people reached and missed, and
// every channel tried for each of them (At and Level are the workflow's to set).
type NotifyResult struct {
	Result
	Delivered  int             `json:"delivered"`
	Failed     int             `json:"failed"`
	Deliveries []record.Notice `json:"deliveries,omitempty"`
}
