// Package spec defines the release spec: the YAML file that turns the production
// checklist into one release's plan. Every number the checklist names is a default
// here (defaults.go), never a constant in workflow code.
package spec

// Spec is one release spec, as loaded from YAML and completed with defaults.
// It travels in workflow payloads, so it holds references to secrets
// (secret://, env://), never their values, and never patient data.
type Spec struct {
	// Service is the name of the service being released, e.g. "patient-portal".
	Service string `yaml:"service" json:"service"`
	// Environment is where it goes, e.g. "production".
	Environment string `yaml:"environment" json:"environment"`
	// Version says where the release version comes from when `golive start` is not given one.
	Version VersionSource `yaml:"version" json:"version"`
	// App is the running application that probes, smoke tests and version checks talk to.
	App App `yaml:"app" json:"app"`
	// Team maps a role to the people who hold it. Roles fill sign-off slots and escalation contacts.
	Team map[string][]Person `yaml:"team" json:"team"`
	// RequireSignedApprovals refuses unsigned sign-offs in every block that does
	// not say otherwise (default: true for environment "production").
	RequireSignedApprovals bool `yaml:"require_signed_approvals" json:"require_signed_approvals"`
	// Approvals is the "Deployment Approved By" block.
	Approvals SignoffBlock `yaml:"approvals" json:"approvals"`
	// Completion is the "Deployment Completed By" block, asked for after the T+1h checks.
	Completion SignoffBlock `yaml:"completion" json:"completion"`
	// Readiness is the Pre-Deployment Checklist gate.
	Readiness Readiness `yaml:"readiness" json:"readiness"`
	// Window places T-4h and T-0.
	Window Window `yaml:"window" json:"window"`
	// Freeze lists the periods no release may deploy in: golive start and plan refuse a T-0 inside one.
	Freeze []Freeze `yaml:"freeze,omitempty" json:"freeze,omitempty"`
	// Failure says, per step, whether a failure rolls back or waits for a person's decision (golive retry, skip).
	Failure Failure `yaml:"failure" json:"failure"`
	// Prepare lists the T-4h items that need a person (rollback plan review, support briefed).
	Prepare StageItems `yaml:"prepare" json:"prepare"`
	// Backup is how backups are verified at T-4h and after deploy.
	Backup Backup `yaml:"backup" json:"backup"`
	// Database is the target database (migrations and database readiness checks).
	Database Database `yaml:"database" json:"database"`
	// Deploy is the deploy target.
	Deploy Deploy `yaml:"deploy" json:"deploy"`
	// Smoke lists the critical user flows tested after deploy and after rollback.
	Smoke Smoke `yaml:"smoke" json:"smoke"`
	// Metrics says where readings come from and which query yields each metric.
	Metrics Metrics `yaml:"metrics" json:"metrics"`
	// Thresholds are the T+1h targets, the critical alert limits and the rollback triggers.
	Thresholds Thresholds `yaml:"thresholds" json:"thresholds"`
	// Watch is the first-24-hours monitoring plan.
	Watch Watch `yaml:"watch" json:"watch"`
	// Escalation is the three-level escalation procedure.
	Escalation Escalation `yaml:"escalation" json:"escalation"`
	// Rollback is the rollback procedure.
	Rollback Rollback `yaml:"rollback" json:"rollback"`
	// Review is the Post-Deployment Review (24-48 hours) with its sign-offs.
	Review Review `yaml:"review" json:"review"`
	// Notify chooses how notifications leave golive.
	Notify Notify `yaml:"notify" json:"notify"`
	// Evidence says where the filled checklist is written.
	Evidence Evidence `yaml:"evidence" json:"evidence"`
	// Drills are the scheduled recovery drills against staging (`golive drill schedule`).
	Drills Drills `yaml:"drills,omitempty" json:"drills,omitzero"`
}

// VersionSource names where the version to release comes from.
type VersionSource struct {
	// From is "flag" (golive start --version), "file" or "env".
	From string `yaml:"from" json:"from"`
	// File is read when From is "file"; its trimmed content is the version.
	File string `yaml:"file,omitempty" json:"file,omitempty"`
	// Env is read when From is "env".
	Env string `yaml:"env,omitempty" json:"env,omitempty"`
}

// App is the deployed application as seen from outside.
type App struct {
	// URL is the base URL of the application, e.g. https://portal.example.org.
	URL string `yaml:"url" json:"url"`
	// HealthPath answers 200 when the application is healthy.
	HealthPath string `yaml:"health_path" json:"health_path"`
	// VersionPath answers with the live version (plain text or JSON {"version": ...}).
	VersionPath string `yaml:"version_path" json:"version_path"`
	// Domain is checked for DNS and TLS; defaults to the host of URL.
	Domain string `yaml:"domain,omitempty" json:"domain,omitempty"`
}

// Person is someone who can sign off, attest or be contacted.
type Person struct {
	// ID is the handle used on the command line (golive approve --as ID).
	ID string `yaml:"id" json:"id"`
	// Name is shown in sign-offs, attestations and the evidence.
	Name string `yaml:"name" json:"name"`
	// Email receives notifications (live channel email).
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
	// Phone receives SMS notifications (live channel sms), in E.164 form (+15555550100).
	Phone string `yaml:"phone,omitempty" json:"phone,omitempty"`
	// PublicKey is the person's OpenSSH public key, used when signed approvals are required.
	PublicKey string `yaml:"public_key,omitempty" json:"public_key,omitempty"`
}

// SignoffBlock is a set of role slots that must each be filled by a distinct person.
type SignoffBlock struct {
	// Slots are the block's lines, each filled by distinct people holding its role.
	Slots []Slot `yaml:"slots" json:"slots"`
	// Timeout is how long golive waits for every slot; OnTimeout decides what follows.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// OnTimeout is "abort" (end the release, compensating what was done) or "hold" (wait for a person to resume).
	OnTimeout string `yaml:"on_timeout" json:"on_timeout"`
	// RemindEvery re-sends the sign-off request to the slots still open.
	RemindEvery Duration `yaml:"remind_every" json:"remind_every"`
	// EscalateAfter raises the open request to the escalation contacts (level 2).
	EscalateAfter Duration `yaml:"escalate_after" json:"escalate_after"`
	// RequireSigned refuses sign-offs without a valid signature.
	RequireSigned bool `yaml:"require_signed" json:"require_signed"`
}

// Slot is one line of a sign-off block.
type Slot struct {
	// ID names the slot on the command line; defaults to Role.
	ID string `yaml:"id" json:"id"`
	// Title is the checklist's wording, e.g. "Development Lead".
	Title string `yaml:"title" json:"title"`
	// Role is the team role whose members may fill the slot.
	Role string `yaml:"role" json:"role"`
	// MinPeople is how many distinct people must sign this slot (default 1).
	MinPeople int `yaml:"min_people" json:"min_people"`
	// After lists slots of the same block that must be filled before this one
	// (e.g. compliance_officer after the others: "compliance signs last").
	After []string `yaml:"after,omitempty" json:"after,omitempty"`
}

// Readiness is the Pre-Deployment Checklist gate.
type Readiness struct {
	// Timeout bounds the wait for attestations; past it the gate fails, naming what is missing.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Items override the checklist's default items by ID, or add new ones.
	Items []Item `yaml:"items" json:"items"`
}

// StageItems lists overrides for the items of one stage.
type StageItems struct {
	// Items override the stage's default items by ID, or add new ones.
	Items []Item `yaml:"items" json:"items"`
}

// Item is one checklist line. It is either checked automatically (Auto) or
// confirmed by a person holding a role (Attest).
type Item struct {
	// ID names the item on the command line and in the evidence (env.dns); an ID of a default item overrides it.
	ID string `yaml:"id" json:"id"`
	// Section is the checklist group the item is listed under (default for new items: Additional Items).
	Section string `yaml:"section,omitempty" json:"section,omitempty"`
	// Title is the checklist's wording of the item; required for a new item.
	Title string `yaml:"title,omitempty" json:"title,omitempty"`
	// Auto is the automatic check; mutually exclusive with Attest.
	Auto *Check `yaml:"auto,omitempty" json:"auto,omitempty"`
	// Attest is the role that confirms the item.
	Attest string `yaml:"attest,omitempty" json:"attest,omitempty"`
	// Optional items are reported but never block the gate.
	Optional bool `yaml:"optional,omitempty" json:"optional,omitempty"`
}

// Window places the deployment in time.
type Window struct {
	// PrepareLead is how long before T-0 the T-4h stage runs.
	PrepareLead Duration `yaml:"prepare_lead" json:"prepare_lead"`
	// Duration is the announced maintenance window length.
	Duration Duration `yaml:"duration" json:"duration"`
}

// Backup says how backups are verified.
type Backup struct {
	// Type is none, postgres (pg_dump + restore into a scratch database) or rds.
	Type string `yaml:"type" json:"type"`
	// ChecksumTables are compared by checksum after a restore (row counts are compared for every table).
	ChecksumTables []string `yaml:"checksum_tables,omitempty" json:"checksum_tables,omitempty"`
	// ScratchURL is a reference to the server a postgres backup is restored on, into a
	// scratch database created and dropped by golive (default: database.url's server).
	ScratchURL string `yaml:"scratch_url,omitempty" json:"scratch_url,omitempty"`
	// Jobs is pg_restore's parallelism for a postgres backup: 1 (default) streams
	// pg_dump into pg_restore with no dump file; more dumps to a file first.
	Jobs int `yaml:"jobs,omitempty" json:"jobs,omitempty"`
	// CatalogCommand is argv of a backup catalog listing as JSON (pgbackrest info
	// --output=json, wal-g backup-list --json); with it, the default "Backup
	// schedule configured" item reads the newest backup's age (backup.catalog).
	CatalogCommand []string `yaml:"catalog_command,omitempty" json:"catalog_command,omitempty"`
	// Instance is the RDS instance identifier when Type is rds.
	Instance string `yaml:"instance,omitempty" json:"instance,omitempty"`
	// MaxAge is how old the latest automated RDS snapshot may be (default 24h).
	MaxAge Duration `yaml:"max_age,omitempty" json:"max_age,omitempty"`
	// MinRetentionDays is the least RDS automated backup retention accepted (default 1).
	MinRetentionDays int `yaml:"min_retention_days,omitempty" json:"min_retention_days,omitempty"`
}

// Database is the target database.
type Database struct {
	// URL is a reference to the connection string (env://NAME or secret://aws/NAME#KEY), never the value.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// PoolerURL is a reference to the connection pooler's admin console (PgBouncer's
	// "pgbouncer" database); with it, "Database connection pooling configured" reads the pooler.
	PoolerURL string `yaml:"pooler_url,omitempty" json:"pooler_url,omitempty"`
	// Migrations is the directory of migration files; empty means no migrations.
	Migrations string `yaml:"migrations,omitempty" json:"migrations,omitempty"`
	// LockTimeout and StatementTimeout apply to each migration statement.
	LockTimeout      Duration `yaml:"lock_timeout" json:"lock_timeout"`
	StatementTimeout Duration `yaml:"statement_timeout" json:"statement_timeout"`
	// LockRetries is how often a migration that hit lock_timeout is tried again,
	// with exponential backoff from RetryBackoff (default 5, and 1s).
	LockRetries  int      `yaml:"lock_retries,omitempty" json:"lock_retries,omitempty"`
	RetryBackoff Duration `yaml:"retry_backoff,omitempty" json:"retry_backoff,omitempty"`
	// LockWait bounds the wait for another release's migration lock (default 5m).
	LockWait Duration `yaml:"lock_wait,omitempty" json:"lock_wait,omitempty"`
	// VersionTable is the migration version table (default goose_db_version).
	VersionTable string `yaml:"version_table,omitempty" json:"version_table,omitempty"`
	// AcceptIrreversible names pending migration files without a down part the
	// team accepts: the T-4h rollback rehearsal then passes while saying their
	// rollback was not proven (restoring the backup is their rollback). Any
	// other migration without a down part fails the rehearsal.
	AcceptIrreversible []string `yaml:"accept_irreversible,omitempty" json:"accept_irreversible,omitempty"`
}

// Deploy is the deploy target.
type Deploy struct {
	// Target is demo, command, ecs or s3-static.
	Target string `yaml:"target" json:"target"`
	// URL is the demo app's admin base URL (target demo; defaults to the app URL).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Command and RollbackCommand for target command; GOLIVE_VERSION is set in their environment.
	Command         []string `yaml:"command,omitempty" json:"command,omitempty"`
	RollbackCommand []string `yaml:"rollback_command,omitempty" json:"rollback_command,omitempty"`
	// Timeout bounds the deploy and the wait for the new version to be live.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// WaitTimeout bounds the wait for an AWS target to settle (ecs: a steady service;
	// s3-static: the distribution deployed and its invalidation completed). It stays
	// below Timeout, so a target that never settles fails the deploy clearly and the
	// release rolls back (default: Timeout less a tenth).
	WaitTimeout Duration `yaml:"wait_timeout,omitempty" json:"wait_timeout,omitempty"`
	// ECS is the service updated when Target is ecs.
	ECS *ECSTarget `yaml:"ecs,omitempty" json:"ecs,omitempty"`
	// S3 is the bucket and CloudFront distribution when Target is s3-static.
	S3 *S3Target `yaml:"s3,omitempty" json:"s3,omitempty"`
}

// ECSTarget is an Amazon ECS service. A deploy registers a task definition
// revision that runs the release image and points the service at it; rollback
// points the service back at the revision that ran before.
type ECSTarget struct {
	// Cluster is the cluster name or ARN.
	Cluster string `yaml:"cluster" json:"cluster"`
	// Service is the service name or ARN.
	Service string `yaml:"service" json:"service"`
	// Container names the container whose image changes (default: the task's only container).
	Container string `yaml:"container,omitempty" json:"container,omitempty"`
	// Image is the image repository (the version becomes its tag), or a reference
	// with {version} in it, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/portal:{version}.
	Image string `yaml:"image" json:"image"`
}

// S3Target is a single-page app in an S3 bucket behind CloudFront. A deploy
// uploads Dir to s3://Bucket/Prefix/VERSION/ and switches the distribution's
// origin path there; rollback switches it back, with no upload.
type S3Target struct {
	// Bucket receives the build.
	Bucket string `yaml:"bucket" json:"bucket"`
	// Dir is the local build directory uploaded (index.html at its root).
	Dir string `yaml:"dir" json:"dir"`
	// Prefix is the key prefix under which each version gets its own folder (default releases).
	Prefix string `yaml:"prefix,omitempty" json:"prefix,omitempty"`
	// DistributionID is the CloudFront distribution serving the bucket.
	DistributionID string `yaml:"distribution_id" json:"distribution_id"`
	// OriginID picks the distribution's origin to switch (default: the origin of the
	// bucket, or the only origin).
	OriginID string `yaml:"origin_id,omitempty" json:"origin_id,omitempty"`
	// InvalidatePaths are invalidated after each switch (default ["/*"]).
	InvalidatePaths []string `yaml:"invalidate_paths,omitempty" json:"invalidate_paths,omitempty"`
}

// Smoke lists critical user flows.
type Smoke struct {
	// Flows are the critical user flows, each tested with one HTTP request.
	Flows []Flow `yaml:"flows" json:"flows"`
}

// Flow is one critical user flow, tested by an HTTP request. Flows run in
// order, so a login flow can hand its session to the flows after it.
type Flow struct {
	// ID names the flow in results.
	ID string `yaml:"id" json:"id"`
	// Title is the checklist's wording (default: the ID).
	Title string `yaml:"title" json:"title"`
	// Method is the HTTP method of the request (default GET).
	Method string `yaml:"method" json:"method"`
	// Path is requested on the app URL; it must start with /.
	Path string `yaml:"path" json:"path"`
	// ExpectStatus is the HTTP status that passes (default 200).
	ExpectStatus int `yaml:"expect_status" json:"expect_status"`
	// Headers are sent with the request. A value may hold references, written
	// ${env://NAME} or ${secret://aws/NAME#KEY}, resolved on the worker; a value
	// that is a bare reference is replaced whole.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	// Body is sent as the request body (Content-Type application/json when it
	// starts with { or [); references inside are resolved as in Headers (JSON-escaped).
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// Session, on a login flow, is the JSON path of the session token in its
	// answer ($.token); the flows after it with auth "session" send it.
	Session string `yaml:"session,omitempty" json:"session,omitempty"`
	// Auth is "session" (the token a login flow captured, as a Bearer token),
	// a reference to a bearer token (env://SMOKE_TOKEN), or empty (none).
	Auth string `yaml:"auth,omitempty" json:"auth,omitempty"`
	// ExpectBody is a substring the answer's body must contain.
	ExpectBody string `yaml:"expect_body,omitempty" json:"expect_body,omitempty"`
	// ExpectJSON is a JSON path ($.patients[0].id) that must be present in the answer.
	ExpectJSON string `yaml:"expect_json,omitempty" json:"expect_json,omitempty"`
}

// Metrics says where readings come from.
type Metrics struct {
	// Provider is http, prometheus, postgres or cloudwatch.
	Provider string `yaml:"provider" json:"provider"`
	// URL of the provider (http: the JSON endpoint; prometheus: the server).
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// Queries maps a metric name (error_rate, latency_p95, db_connections,
	// slow_queries, failed_logins, or any other) to the query that yields it.
	Queries map[string]string `yaml:"queries" json:"queries"`
	// Analysis refines how each metric's readings are judged, with Argo Rollouts'
	// AnalysisTemplate semantics. Metrics without an entry use the defaults.
	Analysis map[string]Analysis `yaml:"analysis,omitempty" json:"analysis,omitempty"`
	// CloudWatch tunes the cloudwatch provider.
	CloudWatch *CloudWatchMetrics `yaml:"cloudwatch,omitempty" json:"cloudwatch,omitempty"`
	// Sources are more providers, each with its own queries (see MetricSource).
	// A metric name is defined once across metrics.queries and all sources.
	Sources []MetricSource `yaml:"sources,omitempty" json:"sources,omitempty"`
}

// CloudWatchMetrics tunes how CloudWatch readings are taken.
type CloudWatchMetrics struct {
	// Window is how far back one reading looks: each metric is aggregated over the
	// whole window, which ends at the last full minute (default 5m, a multiple of a minute).
	Window Duration `yaml:"window,omitempty" json:"window,omitempty"`
}

// Analysis is how one metric's measurements are judged over the watch.
type Analysis struct {
	// SuccessCondition and FailureCondition are expressions over `result`
	// (e.g. "result < 1", "result >= 0 && result <= 80"). A measurement that meets
	// neither is inconclusive. When empty, the checklist thresholds judge it.
	SuccessCondition string `yaml:"success_condition,omitempty" json:"success_condition,omitempty"`
	FailureCondition string `yaml:"failure_condition,omitempty" json:"failure_condition,omitempty"`
	// FailureLimit is how many failed measurements are tolerated; one more triggers rollback (default 0).
	FailureLimit int `yaml:"failure_limit,omitempty" json:"failure_limit,omitempty"`
	// InconclusiveLimit is how many inconclusive measurements are tolerated before a person is asked (default 0).
	InconclusiveLimit int `yaml:"inconclusive_limit,omitempty" json:"inconclusive_limit,omitempty"`
	// ConsecutiveErrorLimit is how many measurement errors in a row are tolerated before escalation (default 4).
	ConsecutiveErrorLimit int `yaml:"consecutive_error_limit,omitempty" json:"consecutive_error_limit,omitempty"`
	// DryRun records the metric's verdicts without alerting or rolling back.
	DryRun bool `yaml:"dry_run,omitempty" json:"dry_run,omitempty"`
}

// Thresholds are the checklist's numbers. Rates are percentages, latencies durations.
type Thresholds struct {
	// Targets are the T+1h expectations.
	Targets Targets `yaml:"targets" json:"targets"`
	// Critical limits alert through escalation when exceeded.
	Critical Critical `yaml:"critical" json:"critical"`
	// Rollback limits roll the release back when exceeded.
	Rollback RollbackTriggers `yaml:"rollback" json:"rollback"`
}

// Targets are the T+1h expectations.
type Targets struct {
	// ErrorRate is the highest error rate at T+1h that meets the target.
	ErrorRate Percent `yaml:"error_rate" json:"error_rate"`
	// LatencyP95 is the highest p95 response time at T+1h that meets the target.
	LatencyP95 Duration `yaml:"latency_p95" json:"latency_p95"`
	// ConnectionsDrift is how far DB connections may move from the baseline and still be "stable".
	ConnectionsDrift Percent `yaml:"connections_drift" json:"connections_drift"`
	// SlowQuerySpike is how far slow queries may rise over the baseline before it is a "spike".
	SlowQuerySpike Percent `yaml:"slow_query_spike" json:"slow_query_spike"`
}

// Critical are the auto-alert limits.
type Critical struct {
	// ErrorRate above it raises an alert.
	ErrorRate Percent `yaml:"error_rate" json:"error_rate"`
	// LatencyP95 above it raises an alert.
	LatencyP95 Duration `yaml:"latency_p95" json:"latency_p95"`
	// DBConnections is the share of the database's connection limit in use above which an alert is raised.
	DBConnections Percent `yaml:"db_connections" json:"db_connections"`
	// SlowQueries is the number of slow queries per hour above which an alert is raised.
	SlowQueries float64 `yaml:"slow_queries_per_hour" json:"slow_queries_per_hour"`
	// FailedLogins is the share of failed logins above which an alert is raised.
	FailedLogins Percent `yaml:"failed_logins" json:"failed_logins"`
}

// RollbackTriggers roll the release back on their own.
type RollbackTriggers struct {
	// ErrorRate above it rolls the release back.
	ErrorRate Percent `yaml:"error_rate" json:"error_rate"`
	// Degradation is the allowed p95 latency growth against the pre-deploy baseline.
	Degradation Percent `yaml:"degradation" json:"degradation"`
	// DegradationMin is the smallest absolute p95 growth that counts as degradation,
	// so a 3 ms baseline growing to 5 ms is not read as "67 % slower".
	DegradationMin Duration `yaml:"degradation_min" json:"degradation_min"`
}

// Watch is the monitoring plan after deploy.
type Watch struct {
	// T1H is when the T+1h post-deployment checks run, counted from deploy.
	T1H Duration `yaml:"t1h" json:"t1h"`
	// Phases run one after the other from the deploy time.
	Phases []Phase `yaml:"phases" json:"phases"`
}

// Phase checks every Every until Until, both counted from the deploy time.
type Phase struct {
	// Name is shown with each check of the phase (default Phase N).
	Name string `yaml:"name" json:"name"`
	// Until is when the phase ends, counted from the deploy time; it is always a check.
	Until Duration `yaml:"until" json:"until"`
	// Every is the interval between the phase's checks.
	Every Duration `yaml:"every" json:"every"`
}

// Escalation is the escalation procedure.
type Escalation struct {
	// Levels are numbered 1, 2, 3... in order; an alert not acknowledged in time is raised one level.
	Levels []Level `yaml:"levels" json:"levels"`
	// CriticalLevel is the level a critical metric breach starts at (default 2).
	CriticalLevel int `yaml:"critical_level" json:"critical_level"`
	// TargetLevel is the level a missed T+1h target starts at (default 1).
	TargetLevel int `yaml:"target_level" json:"target_level"`
	// RollbackLevel is the level of a rollback trigger, data integrity or security issue (default 3).
	RollbackLevel int `yaml:"rollback_level" json:"rollback_level"`
}

// Level is one escalation level.
type Level struct {
	// Level is the level's number, 1 for the least severe.
	Level int `yaml:"level" json:"level"`
	// Name is how the checklist calls the level (Minor issue, Major issue, Critical issue).
	Name string `yaml:"name" json:"name"`
	// Response is how long an alert at this level waits for an acknowledgement before it is raised.
	Response Duration `yaml:"response" json:"response"`
	// Contacts are team roles.
	Contacts []string `yaml:"contacts" json:"contacts"`
}

// Rollback is the rollback procedure.
type Rollback struct {
	// Approvers are the roles that may request a rollback ("Team lead approves").
	Approvers []string `yaml:"approvers" json:"approvers"`
	// Watch is the post-rollback monitoring.
	Watch Phase `yaml:"watch" json:"watch"`
	// ActionItems are the post-rollback actions, each attested by a role.
	ActionItems []Item `yaml:"action_items" json:"action_items"`
}

// Review is the Post-Deployment Review.
type Review struct {
	// After is when the review opens, counted from deploy (default 24h).
	After Duration `yaml:"after" json:"after"`
	// Timeout is how long the review stays open (default 24h, so it closes by 48h).
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Items are the debrief and action items, each attested by a role.
	Items []Item `yaml:"items" json:"items"`
	// Signoffs are "24-Hour Review" and "All Issues Resolved".
	Signoffs SignoffBlock `yaml:"signoffs" json:"signoffs"`
}

// Notify chooses the notification channel.
type Notify struct {
	// Channel is log (print to the worker log) or live (email via Resend, SMS via Twilio).
	Channel string `yaml:"channel" json:"channel"`
	// From is the sender address for email.
	From string `yaml:"from,omitempty" json:"from,omitempty"`
	// Users are the addresses told of the maintenance window.
	Users []string `yaml:"users,omitempty" json:"users,omitempty"`
	// Channels are the live channels in use: email (Resend) and/or sms (Twilio); default both.
	// A message that fails on one channel goes by the other when the recipient has an address for it.
	Channels []string `yaml:"channels,omitempty" json:"channels,omitempty"`
	// ResendAPIKey is a reference to the Resend API key (env://NAME or secret://aws/NAME#KEY), never the key.
	ResendAPIKey string `yaml:"resend_api_key,omitempty" json:"resend_api_key,omitempty"`
	// TwilioAccountSID is the Twilio account SID (AC...), literal or a reference.
	TwilioAccountSID string `yaml:"twilio_account_sid,omitempty" json:"twilio_account_sid,omitempty"`
	// TwilioAuthToken is a reference to the Twilio auth token, never the token.
	TwilioAuthToken string `yaml:"twilio_auth_token,omitempty" json:"twilio_auth_token,omitempty"`
	// TwilioFrom is the sending number (E.164) or Messaging Service SID (MG...), literal or a reference.
	TwilioFrom string `yaml:"twilio_from,omitempty" json:"twilio_from,omitempty"`
}

// Evidence says where the filled checklist goes.
type Evidence struct {
	// Dir receives <release>.md and <release>.html when the release ends.
	Dir string `yaml:"dir" json:"dir"`
}
