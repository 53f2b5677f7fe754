package spec

// Roles the default checklist and sign-offs use.
const (
	RoleDevelopmentLead   = "development_lead"
	RoleOperationsLead    = "operations_lead"
	RoleComplianceOfficer = "compliance_officer"
	RoleProjectManager    = "project_manager"
	RoleEngineer          = "engineer"
	RoleOnCallDeveloper   = "on_call_developer"
	RoleManagement        = "management"
	// RoleFullTeam means every person in the team unless the team defines it explicitly.
	RoleFullTeam = "full_team"
)

// Sections of the Pre-Deployment Checklist, worded as in the checklist.
const (
	SectionEnvironment   = "Environment Setup"
	SectionDatabase      = "Database"
	SectionSecurity      = "Security"
	SectionMonitoring    = "Monitoring & Observability"
	SectionCompliance    = "Compliance (HIPAA for Healthcare)"
	SectionTesting       = "Testing"
	SectionDocumentation = "Documentation"
	SectionPerformance   = "Performance"
	SectionAppConfig     = "Application Configuration"
	// SectionAdditional holds items a spec adds without naming a section.
	SectionAdditional = "Additional Items"
)

// baaLine is the checklist's parent line of the BAA sub-lines; each sub-line's
// item title is this line, a space and the sub-line.
const baaLine = "Business Associate Agreements (BAAs) signed with:"

// DefaultReadiness returns every line of the Pre-Deployment Checklist (all 9 groups)
// as an item, in checklist order, with its default mode: an automatic check where
// golive can verify the line itself, otherwise an attestation by a role.
func DefaultReadiness() []Item { return defaultReadiness(defaultApp()) }

// defaultReadiness builds the catalogue against app, so health checks use its health path.
func defaultReadiness(app App) []Item {
	s := newSection(SectionEnvironment)
	s.auto("env.database", "Production database provisioned and accessible", Check{Kind: string(KindHTTP), Path: app.HealthPath})
	s.auto("env.variables", "Environment variables configured (`.env.production`)", Check{Kind: string(KindHTTP), Path: app.HealthPath})
	s.attest("env.secrets", "Secrets management configured (all API keys stored securely)", RoleOperationsLead)
	s.auto("env.hosting", "CDN/hosting configured (Lovable, Vercel, or custom)", Check{Kind: string(KindHTTP), Path: app.HealthPath})
	s.auto("env.domain", "Custom domain configured with SSL/TLS", Check{Kind: string(KindTLS)})
	s.auto("env.dns", "DNS records properly configured", Check{Kind: string(KindDNS)})
	items := s.items

	s = newSection(SectionDatabase)
	s.auto("db.migrations", "All migrations applied and verified", Check{Kind: string(KindPendingMigrations)})
	s.auto("db.rls", "RLS policies reviewed and tested on all tables", Check{Kind: string(KindRLS)})
	s.auto("db.fk_indexes", "Indexes optimized (no missing indexes on foreign keys)", Check{Kind: string(KindFKIndexes)})
	s.auto("db.backup_schedule", "Backup schedule configured (daily automated backups)", Check{Kind: string(KindBackup)})
	s.attest("db.pitr", "Point-in-time recovery tested", RoleOperationsLead)
	s.auto("db.pooling", "Database connection pooling configured", Check{Kind: string(KindConnections)})
	s.attest("db.retention_docs", "Data retention policies documented", RoleComplianceOfficer)
	items = append(items, s.items...)

	s = newSection(SectionSecurity)
	s.attest("sec.audit", "Security audit completed with no critical vulnerabilities", RoleComplianceOfficer)
	s.attest("sec.pentest", "Penetration testing passed", RoleComplianceOfficer)
	s.attest("sec.rate_limiting", "Rate limiting configured on all public endpoints", RoleOperationsLead)
	s.auto("sec.tls", "SSL/TLS certificates valid and auto-renewal configured", Check{Kind: string(KindTLSRenewal)})
	// A disallowed Origin must not be reflected; an app without CORS headers passes.
	s.auto("sec.cors", "CORS policies properly configured", Check{Kind: string(KindCORS), Path: "/"})
	// An API call without a token must be refused.
	s.auto("sec.auth", "API authentication tested (JWT validation working)", Check{Kind: string(KindHTTP), Path: "/api/patients", ExpectStatus: 401})
	s.attest("sec.input_validation", "Input validation and sanitization verified", RoleDevelopmentLead)
	// The policy is judged, not just present.
	s.auto("sec.xss", "XSS protection enabled", Check{Kind: string(KindCSP), Path: "/"})
	s.attest("sec.csrf", "CSRF protection configured", RoleDevelopmentLead)
	items = append(items, s.items...)

	s = newSection(SectionMonitoring)
	s.attest("mon.error_tracking", "Error tracking configured (console errors logged)", RoleDevelopmentLead)
	s.attest("mon.performance", "Performance monitoring active (Performance Dashboard)", RoleOperationsLead)
	s.attest("mon.uptime", "Uptime monitoring configured (external service)", RoleOperationsLead)
	s.attest("mon.alerts", "Alert rules configured for critical events", RoleOperationsLead)
	s.attest("mon.logs", "Log aggregation setup", RoleOperationsLead)
	s.attest("mon.dashboard_access", "Dashboard access for operations team", RoleOperationsLead)
	s.attest("mon.metrics", "Metric collection validated", RoleOperationsLead)
	items = append(items, s.items...)

	s = newSection(SectionCompliance)
	s.attest("comp.hipaa_review", "HIPAA compliance review completed", RoleComplianceOfficer)
	s.attest("comp.baa.supabase", baaLine+" Lovable/Supabase", RoleComplianceOfficer)
	s.attest("comp.baa.email", baaLine+" Email provider (Resend)", RoleComplianceOfficer)
	s.attest("comp.baa.sms", baaLine+" SMS provider (Twilio)", RoleComplianceOfficer)
	s.attest("comp.baa.ai", baaLine+" AI provider (if applicable)", RoleComplianceOfficer)
	s.attest("comp.audit_logging", "Audit logging verified (all PHI access logged)", RoleComplianceOfficer)
	s.attest("comp.retention", "Data retention policies configured", RoleComplianceOfficer)
	s.attest("comp.breach_notification", "Breach notification procedures documented", RoleComplianceOfficer)
	s.attest("comp.training", "Employee HIPAA training completed", RoleComplianceOfficer)
	s.attest("comp.privacy_policy", "Privacy policy published", RoleComplianceOfficer)
	s.attest("comp.terms", "Terms of service published", RoleComplianceOfficer)
	items = append(items, s.items...)

	s = newSection(SectionTesting)
	s.attest("test.e2e", "End-to-end tests passing (100%)", RoleDevelopmentLead)
	s.attest("test.load", "Load testing completed (can handle expected concurrent users)", RoleOperationsLead)
	s.attest("test.uat", "User acceptance testing (UAT) passed", RoleProjectManager)
	s.attest("test.rollback_plan", "Rollback plan tested and documented", RoleOperationsLead)
	s.attest("test.disaster_recovery", "Disaster recovery plan tested", RoleOperationsLead)
	s.attest("test.browsers", "Browser compatibility tested (Chrome, Firefox, Safari, Edge)", RoleDevelopmentLead)
	s.attest("test.mobile", "Mobile responsiveness verified", RoleDevelopmentLead)
	s.attest("test.accessibility", "Accessibility testing passed (WCAG 2.1 AA)", RoleDevelopmentLead)
	items = append(items, s.items...)

	s = newSection(SectionDocumentation)
	s.attest("doc.user", "User documentation updated and accessible", RoleProjectManager)
	s.attest("doc.admin", "Admin documentation updated", RoleProjectManager)
	s.attest("doc.api", "API documentation current (if API exposed)", RoleDevelopmentLead)
	s.attest("doc.runbooks", "Runbooks up to date for all integrations", RoleOperationsLead)
	s.attest("doc.deployment", "Deployment procedures documented", RoleOperationsLead)
	s.attest("doc.troubleshooting", "Troubleshooting guides created", RoleOperationsLead)
	s.attest("doc.contacts", "Contact list for escalations updated", RoleProjectManager)
	items = append(items, s.items...)

	s = newSection(SectionPerformance)
	s.attest("perf.caching", "Caching strategy implemented", RoleDevelopmentLead)
	s.attest("perf.assets", "Static assets optimized (images, CSS, JS)", RoleDevelopmentLead)
	s.auto("perf.queries", "Database queries optimized (slow queries < 500ms)", Check{Kind: string(KindSlowQueries)})
	s.attest("perf.cdn", "CDN configured for static content", RoleOperationsLead)
	s.attest("perf.lazy_loading", "Lazy loading implemented for images", RoleDevelopmentLead)
	s.attest("perf.code_splitting", "Code splitting implemented", RoleDevelopmentLead)
	items = append(items, s.items...)

	s = newSection(SectionAppConfig)
	s.attest("app.feature_flags", "Feature flags configured", RoleDevelopmentLead)
	s.attest("app.email_templates", "Email templates tested", RoleProjectManager)
	s.attest("app.sms_templates", "SMS templates tested", RoleProjectManager)
	s.attest("app.notifications", "Notification settings configured", RoleProjectManager)
	s.attest("app.default_settings", "Default settings reviewed", RoleProjectManager)
	s.attest("app.content", "Client-facing content reviewed (branding, copy)", RoleProjectManager)
	return append(items, s.items...)
}

// DefaultPrepare returns the T-4h items that need a person; the other T-4h lines
// (team notification, maintenance window, backup verification) are workflow steps.
func DefaultPrepare() []Item {
	s := newSection("Pre-Deployment (T-4 hours)")
	s.attest("prepare.rollback_plan", "Rollback plan review: Team reviews rollback procedures", RoleDevelopmentLead)
	s.attest("prepare.support_briefed", "Support team briefed: Support ready for post-deployment issues", RoleProjectManager)
	return s.items
}

// DefaultReviewItems returns the Post-Deployment Review lines a person attests.
// "Compare pre/post deployment metrics" and "Identify any performance regressions"
// are not items: golive computes them from the baseline and watch samples.
func DefaultReviewItems() []Item {
	s := newSection("Metrics Review")
	s.attest("review.user_feedback", "Review user feedback", RoleProjectManager)
	s.attest("review.support_tickets", "Analyze support tickets", RoleOperationsLead)
	items := s.items
	s = newSection("Team Debrief")
	s.attest("review.went_well", "What went well?", RoleProjectManager)
	s.attest("review.could_improve", "What could be improved?", RoleProjectManager)
	s.attest("review.surprises", "Any surprises or unexpected issues?", RoleOperationsLead)
	s.attest("review.doc_gaps", "Documentation gaps identified?", RoleProjectManager)
	items = append(items, s.items...)
	s = newSection("Action Items")
	s.attest("review.update_checklist", "Update deployment checklist based on learnings", RoleOperationsLead)
	s.attest("review.minor_issues", "Address any minor issues discovered", RoleDevelopmentLead)
	s.attest("review.next_improvements", "Plan next deployment improvements", RoleProjectManager)
	s.attest("review.update_docs", "Update documentation", RoleProjectManager)
	return append(items, s.items...)
}

// ComputedReviewLines are the Post-Deployment Review lines golive fills in itself
// from the pre-deploy baseline and the watch samples, so they are not attest items.
var ComputedReviewLines = []string{"Compare pre/post deployment metrics", "Identify any performance regressions"}

// DefaultActionItems returns the Post-Rollback Actions, each attested by a lead.
func DefaultActionItems() []Item {
	s := newSection("Post-Rollback Actions")
	s.attest("rollback.root_cause", "Root cause analysis completed", RoleDevelopmentLead)
	s.attest("rollback.fix_staged", "Fix developed and tested in staging", RoleDevelopmentLead)
	s.attest("rollback.plan_revised", "Deployment plan revised", RoleOperationsLead)
	s.attest("rollback.debrief", "Team debriefing scheduled", RoleOperationsLead)
	s.attest("rollback.docs_updated", "Documentation updated", RoleDevelopmentLead)
	return s.items
}

// sectionBuilder collects the items of one checklist section.
type sectionBuilder struct {
	name  string
	items []Item
}

func newSection(name string) *sectionBuilder { return &sectionBuilder{name: name} }

func (s *sectionBuilder) auto(id, title string, c Check) {
	s.items = append(s.items, Item{ID: id, Section: s.name, Title: title, Auto: &c})
}

func (s *sectionBuilder) attest(id, title, role string) {
	s.items = append(s.items, Item{ID: id, Section: s.name, Title: title, Attest: role})
}
