package spec

import (
	"fmt"
	"net/url"
	"time"
)

// Default values that the checklist does not state as numbers.
const (
	// DefaultEvidenceDir receives the filled checklists.
	DefaultEvidenceDir = ".golive/evidence"

	// Environment variables the notification credentials are read from by default
	// (notify.resend_api_key: env://RESEND_API_KEY, and so on).
	EnvResendAPIKey     = "RESEND_API_KEY"
	EnvTwilioAccountSID = "TWILIO_ACCOUNT_SID"
	EnvTwilioAuthToken  = "TWILIO_AUTH_TOKEN"
	EnvTwilioFrom       = "TWILIO_FROM"
)

func dur(d time.Duration) Duration { return Duration(d) }

func defaultApp() App { return App{HealthPath: "/healthz", VersionPath: "/version"} }

// Defaults returns a spec holding every default: the numbers, roles, items and
// flows of the production checklist. Service, environment, app URL, team and
// deploy target have no default. A spec's zero fields are filled from it by ApplyDefaults.
func Defaults() Spec {
	return Spec{
		Version: VersionSource{From: "flag"},
		App:     defaultApp(),
		Approvals: SignoffBlock{
			Slots: []Slot{
				{ID: RoleDevelopmentLead, Title: "Development Lead", Role: RoleDevelopmentLead, MinPeople: 1},
				{ID: RoleOperationsLead, Title: "Operations Lead", Role: RoleOperationsLead, MinPeople: 1},
				{ID: RoleComplianceOfficer, Title: "Compliance Officer", Role: RoleComplianceOfficer, MinPeople: 1},
				{ID: RoleProjectManager, Title: "Project Manager", Role: RoleProjectManager, MinPeople: 1},
			},
			Timeout: dur(24 * time.Hour), OnTimeout: "abort",
			RemindEvery: dur(4 * time.Hour), EscalateAfter: dur(12 * time.Hour),
		},
		// Completion and review sign-offs hold rather than abort on timeout: the release
		// is live and healthy by then, and a missing signature must not roll it back.
		Completion: SignoffBlock{
			Slots:   []Slot{{ID: RoleEngineer, Title: "Engineer", Role: RoleEngineer, MinPeople: 1}},
			Timeout: dur(4 * time.Hour), OnTimeout: "hold",
			RemindEvery: dur(time.Hour), EscalateAfter: dur(2 * time.Hour),
		},
		Readiness: Readiness{Timeout: dur(24 * time.Hour), Items: DefaultReadiness()},
		// The steps' on_failure depends on the environment (see failureDefaults).
		Failure:  Failure{DecisionTimeout: dur(DefaultDecisionTimeout)},
		Window:   Window{PrepareLead: dur(4 * time.Hour), Duration: dur(2 * time.Hour)},
		Prepare:  StageItems{Items: DefaultPrepare()},
		Backup:   Backup{Type: "none"},
		Database: Database{LockTimeout: dur(5 * time.Second), StatementTimeout: dur(5 * time.Minute)},
		Deploy:   Deploy{Timeout: dur(10 * time.Minute)},
		Smoke:    Smoke{Flows: DefaultFlows()},
		Metrics:  Metrics{Provider: "http"},
		Thresholds: Thresholds{
			Targets:  Targets{ErrorRate: 0.1, LatencyP95: dur(500 * time.Millisecond), ConnectionsDrift: 20, SlowQuerySpike: 50},
			Critical: Critical{ErrorRate: 1, LatencyP95: dur(2 * time.Second), DBConnections: 80, SlowQueries: 50, FailedLogins: 5},
			Rollback: RollbackTriggers{ErrorRate: 5, Degradation: 50, DegradationMin: Duration(100 * time.Millisecond)},
		},
		Watch: Watch{T1H: dur(time.Hour), Phases: []Phase{
			{Name: "Hour 0-4 (Critical Period)", Until: dur(4 * time.Hour), Every: dur(15 * time.Minute)},
			{Name: "Hour 4-12", Until: dur(12 * time.Hour), Every: dur(time.Hour)},
			{Name: "Hour 12-24", Until: dur(24 * time.Hour), Every: dur(2 * time.Hour)},
		}},
		Escalation: Escalation{
			Levels: []Level{
				{Level: 1, Name: "Minor issue", Response: dur(30 * time.Minute), Contacts: []string{RoleOnCallDeveloper}},
				{Level: 2, Name: "Major issue", Response: dur(15 * time.Minute), Contacts: []string{RoleDevelopmentLead, RoleOperationsLead}},
				{Level: 3, Name: "Critical issue", Response: 0, Contacts: []string{RoleFullTeam, RoleManagement}},
			},
			CriticalLevel: 2, TargetLevel: 1, RollbackLevel: 3,
		},
		Rollback: Rollback{
			Approvers:   []string{RoleDevelopmentLead, RoleOperationsLead},
			Watch:       Phase{Name: "Post-rollback", Every: dur(5 * time.Minute), Until: dur(30 * time.Minute)},
			ActionItems: DefaultActionItems(),
		},
		Review: Review{
			After: dur(24 * time.Hour), Timeout: dur(24 * time.Hour), Items: DefaultReviewItems(),
			Signoffs: SignoffBlock{
				Slots: []Slot{
					{ID: "review_24h", Title: "24-Hour Review", Role: RoleOperationsLead, MinPeople: 1},
					{ID: "issues_resolved", Title: "All Issues Resolved", Role: RoleDevelopmentLead, MinPeople: 1},
				},
				Timeout: dur(24 * time.Hour), OnTimeout: "hold",
				RemindEvery: dur(4 * time.Hour), EscalateAfter: dur(12 * time.Hour),
			},
		},
		Notify: Notify{
			Channel: "log", Channels: []string{"email", "sms"},
			ResendAPIKey:     "env://" + EnvResendAPIKey,
			TwilioAccountSID: "env://" + EnvTwilioAccountSID,
			TwilioAuthToken:  "env://" + EnvTwilioAuthToken,
			TwilioFrom:       "env://" + EnvTwilioFrom,
		},
		Evidence: Evidence{Dir: DefaultEvidenceDir},
	}
}

// DefaultFlows returns the five critical workflows of the T+1h checklist.
func DefaultFlows() []Flow {
	return []Flow{
		// The login flow captures the session the other flows use, so "Patient
		// record access" tests a logged-in user while sec.auth proves that
		// the same path refuses an anonymous one.
		{ID: "login", Title: "User login/authentication", Method: "POST", Path: "/api/login", ExpectStatus: 200, Session: "$.token"},
		{ID: "patient_records", Title: "Patient record access", Method: "GET", Path: "/api/patients", ExpectStatus: 200, Auth: "session"},
		{ID: "appointments", Title: "Appointment scheduling", Method: "POST", Path: "/api/appointments", ExpectStatus: 200, Auth: "session"},
		{ID: "clinical_notes", Title: "Clinical note creation", Method: "POST", Path: "/api/notes", ExpectStatus: 200, Auth: "session"},
		{ID: "billing", Title: "Billing operations", Method: "GET", Path: "/api/billing", ExpectStatus: 200, Auth: "session"},
	}
}

// ApplyDefaults fills every zero field of s from Defaults and merges its item
// lists into the default checklists (see MergeItems). It is what Load does after
// decoding; call it on specs built in code.
func ApplyDefaults(s *Spec) { applyDefaults(s, nil) }

// applyDefaults is ApplyDefaults; present reports whether the file wrote a field path
// (nil: only non-zero values count as written).
func applyDefaults(s *Spec, present func(path string) bool) {
	d := Defaults()
	if !written(present, "require_signed_approvals", s.RequireSignedApprovals) {
		s.RequireSignedApprovals = s.Environment == "production"
	}
	for _, b := range []struct {
		path string
		blk  *SignoffBlock
	}{{"approvals", &s.Approvals}, {"completion", &s.Completion}, {"review.signoffs", &s.Review.Signoffs}} {
		if !written(present, b.path+".require_signed", b.blk.RequireSigned) {
			b.blk.RequireSigned = s.RequireSignedApprovals
		}
	}
	or(&s.Version.From, d.Version.From)
	or(&s.App.HealthPath, d.App.HealthPath)
	or(&s.App.VersionPath, d.App.VersionPath)
	if s.App.Domain == "" {
		if u, err := url.Parse(s.App.URL); err == nil {
			s.App.Domain = u.Hostname()
		}
	}
	signoffDefaults(&s.Approvals, d.Approvals)
	signoffDefaults(&s.Completion, d.Completion)
	or(&s.Readiness.Timeout, d.Readiness.Timeout)
	failureDefaults(s, d)
	s.Readiness.Items = mergeAt(readinessFor(s), s.Readiness.Items, "readiness.items", present)
	or(&s.Window.PrepareLead, d.Window.PrepareLead)
	or(&s.Window.Duration, d.Window.Duration)
	s.Prepare.Items = mergeAt(d.Prepare.Items, s.Prepare.Items, "prepare.items", present)
	or(&s.Backup.Type, d.Backup.Type)
	or(&s.Database.LockTimeout, d.Database.LockTimeout)
	or(&s.Database.StatementTimeout, d.Database.StatementTimeout)
	or(&s.Deploy.Timeout, d.Deploy.Timeout)
	awsDefaults(s)
	if s.Deploy.Target == "demo" {
		or(&s.Deploy.URL, s.App.URL)
	}
	if len(s.Smoke.Flows) == 0 {
		s.Smoke.Flows = d.Smoke.Flows
	}
	for i := range s.Smoke.Flows {
		f := &s.Smoke.Flows[i]
		or(&f.Method, "GET")
		or(&f.ExpectStatus, 200)
		or(&f.Title, f.ID)
	}
	or(&s.Metrics.Provider, d.Metrics.Provider)
	if present != nil && present("thresholds.rollback.degradation_min") {
		d.Thresholds.Rollback.DegradationMin = s.Thresholds.Rollback.DegradationMin // 0s written: any growth counts
	}
	thresholdDefaults(&s.Thresholds, d.Thresholds)
	or(&s.Watch.T1H, d.Watch.T1H)
	if len(s.Watch.Phases) == 0 {
		s.Watch.Phases = d.Watch.Phases
	}
	for i := range s.Watch.Phases {
		or(&s.Watch.Phases[i].Name, fmt.Sprintf("Phase %d", i+1))
	}
	if len(s.Escalation.Levels) == 0 {
		s.Escalation.Levels = d.Escalation.Levels
	}
	or(&s.Escalation.CriticalLevel, d.Escalation.CriticalLevel)
	or(&s.Escalation.TargetLevel, d.Escalation.TargetLevel)
	or(&s.Escalation.RollbackLevel, d.Escalation.RollbackLevel)
	if len(s.Rollback.Approvers) == 0 {
		s.Rollback.Approvers = d.Rollback.Approvers
	}
	or(&s.Rollback.Watch.Name, d.Rollback.Watch.Name)
	or(&s.Rollback.Watch.Every, d.Rollback.Watch.Every)
	or(&s.Rollback.Watch.Until, d.Rollback.Watch.Until)
	s.Rollback.ActionItems = mergeAt(d.Rollback.ActionItems, s.Rollback.ActionItems, "rollback.action_items", present)
	or(&s.Review.After, d.Review.After)
	or(&s.Review.Timeout, d.Review.Timeout)
	s.Review.Items = mergeAt(d.Review.Items, s.Review.Items, "review.items", present)
	d.Review.Signoffs.Timeout = s.Review.Timeout
	signoffDefaults(&s.Review.Signoffs, d.Review.Signoffs)
	or(&s.Notify.Channel, d.Notify.Channel)
	if len(s.Notify.Channels) == 0 {
		s.Notify.Channels = d.Notify.Channels
	}
	or(&s.Notify.ResendAPIKey, d.Notify.ResendAPIKey)
	or(&s.Notify.TwilioAccountSID, d.Notify.TwilioAccountSID)
	or(&s.Notify.TwilioAuthToken, d.Notify.TwilioAuthToken)
	or(&s.Notify.TwilioFrom, d.Notify.TwilioFrom)
	or(&s.Evidence.Dir, d.Evidence.Dir)
	databaseDefaults(s)
	drillDefaults(s)
	checkDefaults(s)
}

// mergeAt merges items written at path into defaults and completes their checks.
func mergeAt(defaults, items []Item, path string, present func(string) bool) []Item {
	var optionalSet func(int) bool
	if present != nil {
		optionalSet = func(i int) bool { return present(fmt.Sprintf("%s[%d].optional", path, i)) }
	}
	out := mergeItems(defaults, items, optionalSet)
	for i := range out {
		fillCheckDefaults(out[i].Auto)
	}
	return out
}

// signoffDefaults fills a sign-off block: default slots when none are given,
// slot ID from role, at least one person, and the block's timers.
func signoffDefaults(b *SignoffBlock, d SignoffBlock) {
	if len(b.Slots) == 0 {
		b.Slots = append([]Slot(nil), d.Slots...)
	}
	for i := range b.Slots {
		sl := &b.Slots[i]
		or(&sl.ID, sl.Role)
		or(&sl.Title, sl.ID)
		or(&sl.MinPeople, 1)
	}
	or(&b.Timeout, d.Timeout)
	or(&b.OnTimeout, d.OnTimeout)
	or(&b.RemindEvery, d.RemindEvery)
	or(&b.EscalateAfter, d.EscalateAfter)
}

// thresholdDefaults fills each unset threshold.
func thresholdDefaults(t *Thresholds, d Thresholds) {
	or(&t.Targets.ErrorRate, d.Targets.ErrorRate)
	or(&t.Targets.LatencyP95, d.Targets.LatencyP95)
	or(&t.Targets.ConnectionsDrift, d.Targets.ConnectionsDrift)
	or(&t.Targets.SlowQuerySpike, d.Targets.SlowQuerySpike)
	or(&t.Critical.ErrorRate, d.Critical.ErrorRate)
	or(&t.Critical.LatencyP95, d.Critical.LatencyP95)
	or(&t.Critical.DBConnections, d.Critical.DBConnections)
	or(&t.Critical.SlowQueries, d.Critical.SlowQueries)
	or(&t.Critical.FailedLogins, d.Critical.FailedLogins)
	or(&t.Rollback.ErrorRate, d.Rollback.ErrorRate)
	or(&t.Rollback.Degradation, d.Rollback.Degradation)
	or(&t.Rollback.DegradationMin, d.Rollback.DegradationMin)
}

// or sets *v to def when *v is the zero value.
func or[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Defaults of the AWS integrations.
const (
	// DefaultS3Prefix is the key prefix under which each s3-static version gets its folder.
	DefaultS3Prefix = "releases"
	// DefaultBackupMaxAge is how old the latest automated RDS snapshot may be.
	DefaultBackupMaxAge = 24 * time.Hour
	// DefaultMinRetentionDays is the least RDS automated backup retention accepted.
	DefaultMinRetentionDays = 1
	// DefaultCloudWatchWindow is how far back one CloudWatch reading looks.
	DefaultCloudWatchWindow = 5 * time.Minute
)

// awsDefaults fills the AWS targets' and providers' settings: the deploy wait
// stays a tenth below the deploy timeout so a target that never settles fails
// the deploy itself rather than timing the activity out.
func awsDefaults(s *Spec) {
	or(&s.Deploy.WaitTimeout, s.Deploy.Timeout-s.Deploy.Timeout/10)
	if t := s.Deploy.S3; t != nil {
		or(&t.Prefix, DefaultS3Prefix)
		if len(t.InvalidatePaths) == 0 {
			t.InvalidatePaths = []string{"/*"}
		}
	}
	if s.Backup.Type == "rds" {
		or(&s.Backup.MaxAge, dur(DefaultBackupMaxAge))
		or(&s.Backup.MinRetentionDays, DefaultMinRetentionDays)
	}
	cloudWatchWindow(s.Metrics.Provider, &s.Metrics.CloudWatch)
	for i := range s.Metrics.Sources {
		cloudWatchWindow(s.Metrics.Sources[i].Provider, &s.Metrics.Sources[i].CloudWatch)
	}
}

// written reports whether the file set a boolean field (without file
// information, a true value counts as written).
func written(present func(string) bool, path string, v bool) bool {
	if present == nil {
		return v
	}
	return present(path)
}

// cloudWatchWindow defaults a cloudwatch provider's reading window.
func cloudWatchWindow(provider string, cw **CloudWatchMetrics) {
	if provider != "cloudwatch" {
		return
	}
	if *cw == nil {
		*cw = &CloudWatchMetrics{}
	}
	or(&(*cw).Window, dur(DefaultCloudWatchWindow))
}
