package spec

import "strings"

// CheckKind names what an automatic readiness check looks at. The kinds are a
// closed set: CheckKinds is built from these constants, the validator accepts
// only them and activities.CheckActivity maps each one to the activity that
// runs it, so a kind the spec accepts always has code that runs it.
type CheckKind string

// The automatic check kinds.
const (
	// KindHTTP: one request to the app; status (default 200) and an optional header.
	KindHTTP CheckKind = "http"
	// KindTLS: the certificate chain, host name and days left.
	KindTLS CheckKind = "tls"
	// KindTLSRenewal: KindTLS plus proof of automated renewal: a lifetime of at
	// most max_lifetime_days (ACME-style, default 90) or a renew_command that succeeds.
	KindTLSRenewal CheckKind = "tls.renewal"
	// KindDNS: the host resolves.
	KindDNS CheckKind = "dns"
	// KindCommand: argv run without a shell on the worker; exit 0 passes.
	KindCommand CheckKind = "command"
	// KindSecrets: every credential reference the spec names (database,
	// notification, smoke and check credentials) resolves on the worker.
	KindSecrets CheckKind = "secrets"
	// KindCORS: a disallowed Origin is not reflected (nor answered with "*").
	KindCORS CheckKind = "cors"
	// KindRateLimit: a bounded burst (burst requests within a time limit) sees HTTP 429.
	KindRateLimit CheckKind = "rate_limit"
	// KindCSRF: a state-changing request without the CSRF token is refused.
	KindCSRF CheckKind = "csrf"
	// KindCSP: the Content-Security-Policy is judged: a default-src, and no
	// 'unsafe-inline', 'unsafe-eval' or wildcard in the effective script-src.
	KindCSP CheckKind = "csp"
	// KindJWT: a missing, an expired, a wrongly signed and an alg "none" token
	// are each refused, and a valid one (signed with the test key) is accepted.
	KindJWT CheckKind = "jwt"
	// KindJUnit: a JUnit XML report with every test passed (100%), fresh enough.
	KindJUnit CheckKind = "report.junit"
	// KindK6: a k6 JSON summary whose p95 and error rate are under the targets.
	KindK6 CheckKind = "report.k6"
	// KindAxe: an axe-core JSON report without serious or critical violations.
	KindAxe CheckKind = "report.axe"
	// KindMetric: one query through the metrics providers, judged by a condition.
	KindMetric CheckKind = "metric"
	// KindAlerts: every watched metric has its alert rule (Prometheus) or alarm
	// (CloudWatch), and none of them is firing now.
	KindAlerts CheckKind = "alerts"
	// KindSQL: a query on the target database; no rows or one true passes.
	KindSQL CheckKind = "sql"
	// KindPing: a real SQL round trip on database.url (server version, database, latency).
	KindPing CheckKind = "postgres.ping"
	// KindPendingMigrations, KindRLS, KindFKIndexes, KindConnections and
	// KindSlowQueries are the PostgreSQL readiness checks of internal/pgcheck.
	KindPendingMigrations CheckKind = "postgres.pending_migrations"
	KindRLS               CheckKind = "postgres.rls"
	KindFKIndexes         CheckKind = "postgres.fk_indexes"
	KindConnections       CheckKind = "postgres.connections"
	KindSlowQueries       CheckKind = "postgres.slow_queries"
	// KindPgAudit: pgaudit is loaded and its settings cover the check's schemas.
	KindPgAudit CheckKind = "postgres.pgaudit"
	// KindPgBouncer: the pooler at database.pooler_url answers SHOW POOLS and SHOW CONFIG.
	KindPgBouncer CheckKind = "pgbouncer"
	// KindBackup: a backup is possible (postgres: pg_dump) or recent (rds: automated snapshots).
	KindBackup CheckKind = "backup"
	// KindBackupCatalog: the newest successful backup in a catalog command's JSON
	// (pgbackrest info --output=json, wal-g backup-list --json) is younger than max_age.
	KindBackupCatalog CheckKind = "backup.catalog"
	// KindDrill: the last scheduled drill of drill.kind (audit ledger) passed
	// within drill.max_age.
	KindDrill CheckKind = "drill"
)

// CheckKinds are the values of an automatic check's kind, in documentation order.
var CheckKinds = kindNames(KindHTTP, KindTLS, KindTLSRenewal, KindDNS, KindCommand, KindSecrets,
	KindCORS, KindRateLimit, KindCSRF, KindCSP, KindJWT,
	KindJUnit, KindK6, KindAxe, KindMetric, KindAlerts,
	KindSQL, KindPing, KindPendingMigrations, KindRLS, KindFKIndexes, KindConnections, KindSlowQueries,
	KindPgAudit, KindPgBouncer, KindBackup, KindBackupCatalog, KindDrill)

// AllCheckKinds returns every kind, typed, in the order of CheckKinds.
func AllCheckKinds() []CheckKind {
	out := make([]CheckKind, len(CheckKinds))
	for i, k := range CheckKinds {
		out[i] = CheckKind(k)
	}
	return out
}

func kindNames(ks ...CheckKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// CheckKind returns the check's kind, typed. Check.Kind stays a string on the
// wire (and in the release record), so histories recorded before the type keep decoding.
func (c Check) CheckKind() CheckKind { return CheckKind(c.Kind) }

// IsDatabaseCheck reports the check kinds that connect to the target database
// (and so take their target from the spec's database section).
func IsDatabaseCheck(kind string) bool {
	switch CheckKind(kind) {
	case KindSQL, KindBackup, KindBackupCatalog, KindPgBouncer:
		return true
	}
	return strings.HasPrefix(kind, "postgres.")
}
