package spec

import (
	"maps"
	"regexp"
	"slices"
	"time"
)

// Defaults of the automatic checks that the checklist does not state as numbers.
const (
	// DefaultProbeOrigin is the disallowed Origin a cors check sends: a name that
	// cannot exist (.invalid, RFC 2606), so no real policy allows it.
	DefaultProbeOrigin = "https://disallowed.golive.invalid"
	// DefaultBurst and DefaultBurstWithin bound a rate_limit check.
	DefaultBurst       = 50
	DefaultBurstWithin = 10 * time.Second
	// MaxBurst and MaxBurstWithin are the most a spec may ask for: a readiness
	// check must never turn into a load test of production.
	MaxBurst       = 500
	MaxBurstWithin = time.Minute
	// DefaultMaxLifetimeDays is the longest certificate lifetime taken as
	// automated renewal (ACME certificates live 90 days).
	DefaultMaxLifetimeDays = 90
	// DefaultReportMaxAge bounds how old a CI report or the newest catalogued backup may be.
	DefaultReportMaxAge = 24 * time.Hour
	// DefaultJWTAlg is the algorithm a jwt check signs with.
	DefaultJWTAlg = "HS256"
)

// readinessFor returns the default Pre-Deployment items for s: the checklist's
// defaults, with an attestation or a weaker check replaced by a stronger
// automatic one where the spec gives what that check needs.
func readinessFor(s *Spec) []Item {
	items := defaultReadiness(s.App)
	set := func(id string, c Check) {
		for i := range items {
			if items[i].ID == id {
				items[i].Auto, items[i].Attest = &c, ""
			}
		}
	}
	if s.Database.URL != "" {
		set("env.database", Check{Kind: string(KindPing)})
		set("comp.audit_logging", Check{Kind: string(KindPgAudit)})
	}
	if s.Database.PoolerURL != "" {
		set("db.pooling", Check{Kind: string(KindPgBouncer)})
	}
	if len(s.Backup.CatalogCommand) > 0 {
		set("db.backup_schedule", Check{Kind: string(KindBackupCatalog)})
	}
	// Scheduled drills prove the "tested" lines; the check reads the last one.
	for _, k := range s.Drills.Scheduled() {
		set(drillItems[k], Check{Kind: string(KindDrill), Drill: &DrillCheck{Kind: k}})
	}
	return items
}

// fillKindDefaults completes the settings of the newer kinds (see fillCheckDefaults).
func fillKindDefaults(c *Check) {
	switch c.CheckKind() {
	case KindTLSRenewal:
		or(&c.MinDaysValid, 14)
		or(&c.MaxLifetimeDays, DefaultMaxLifetimeDays)
	case KindCORS:
		or(&c.Origin, DefaultProbeOrigin)
	case KindRateLimit:
		or(&c.Method, "GET")
		or(&c.Burst, DefaultBurst)
		or(&c.Within, dur(DefaultBurstWithin))
		// The check's own timeout must leave the burst its whole time limit.
		c.Timeout = max(c.Timeout, c.Within+dur(10*time.Second))
	case KindCSRF:
		or(&c.Method, "POST")
	case KindJWT:
		if c.JWT != nil {
			j := *c.JWT
			or(&j.Alg, DefaultJWTAlg)
			c.JWT = &j
		}
	case KindJUnit, KindK6, KindAxe, KindBackupCatalog:
		or(&c.MaxAge, dur(DefaultReportMaxAge))
	case KindPgAudit:
		if len(c.Schemas) == 0 {
			c.Schemas = []string{"public"}
		}
	}
}

// checkDefaults gives checks the spec-wide settings they read: the T+1h
// targets for report.k6, the metrics section for metric and alerts checks.
// It runs after the thresholds are filled.
func checkDefaults(s *Spec) {
	for _, items := range [][]Item{s.Readiness.Items, s.Prepare.Items, s.Review.Items, s.Rollback.ActionItems} {
		for i := range items {
			c := items[i].Auto
			if c == nil {
				continue
			}
			switch c.CheckKind() {
			case KindK6:
				or(&c.MaxP95, s.Thresholds.Targets.LatencyP95)
				or(&c.MaxErrorRate, s.Thresholds.Targets.ErrorRate)
			case KindDrill:
				drillCheckDefaults(s, c)
			case KindSecrets:
				if len(c.Refs) == 0 {
					c.Refs = SecretRefs(*s)
				}
			case KindMetric, KindAlerts:
				m := s.Metrics
				if c.Metrics != nil {
					m = *c.Metrics
					or(&m.Provider, s.Metrics.Provider)
					if m.Provider == s.Metrics.Provider {
						or(&m.URL, s.Metrics.URL)
					}
					or(&m.CloudWatch, s.Metrics.CloudWatch)
				}
				// A check reads one query of its own; the watch's queries and
				// sources stay with the watch.
				m.Queries, m.Analysis, m.Sources = nil, nil, nil
				c.Metrics = &m
			}
		}
	}
}

// SecretRefs lists, sorted and once each, every credential reference
// (env://, secret://) the spec names: the database and its pooler, the backup
// scratch server, the metrics sources, the live notification credentials,
// the smoke flows' credentials, the jwt checks' keys and the checks' headers.
func SecretRefs(s Spec) []string {
	seen := map[string]bool{}
	add := func(vs ...string) {
		for _, v := range vs {
			for _, m := range refInText.FindAllString(v, -1) {
				seen[m] = true
			}
		}
	}
	add(s.Database.URL, s.Database.PoolerURL, s.Backup.ScratchURL, s.Metrics.URL)
	if st := s.Drills.Staging; st != nil {
		add(st.Database.URL, st.Backup.ScratchURL)
	}
	for _, src := range s.Metrics.Sources {
		add(src.URL)
	}
	if s.Notify.Channel == "live" {
		add(s.Notify.ResendAPIKey, s.Notify.TwilioAccountSID, s.Notify.TwilioAuthToken, s.Notify.TwilioFrom)
	}
	for _, f := range s.Smoke.Flows {
		add(f.Body, f.Auth)
		for _, v := range f.Headers {
			add(v)
		}
	}
	for _, it := range s.Readiness.Items {
		if it.Auto == nil {
			continue
		}
		if it.Auto.JWT != nil {
			add(it.Auto.JWT.Key)
		}
		for _, v := range it.Auto.Headers {
			add(v)
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// refInText finds references, bare or written ${...} inside a value.
var refInText = regexp.MustCompile(`(?:env|secret)://[^\s"'}]+`)
