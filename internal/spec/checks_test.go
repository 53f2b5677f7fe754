package spec_test

import (
	"strings"
	"testing"

	"github.com/golive/golive/internal/spec"
)

func item(t *testing.T, s spec.Spec, id string) spec.Item {
	t.Helper()
	for _, it := range s.Readiness.Items {
		if it.ID == id {
			return it
		}
	}
	t.Fatalf("no item %s", id)
	return spec.Item{}
}

func kindOf(it spec.Item) string {
	if it.Auto == nil {
		return "attest " + it.Attest
	}
	return it.Auto.Kind
}

// A default attestation or weaker check becomes a stronger automatic check
// only when the spec gives what that check needs.
func TestDefaultsTurnAutomaticOnlyWhenTheSpecGivesWhatTheCheckNeeds(t *testing.T) {
	l, err := spec.Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		"env.database": "postgres.ping", "comp.audit_logging": "postgres.pgaudit", "db.pooling": "postgres.connections",
		"db.backup_schedule": "backup", "sec.tls": "tls.renewal", "sec.cors": "cors", "sec.xss": "csp",
		"sec.rate_limiting": "attest operations_lead", "sec.csrf": "attest development_lead", "mon.alerts": "attest operations_lead",
	} {
		if got := kindOf(item(t, l.Spec, id)); got != want {
			t.Errorf("%s = %s, want %s", id, got, want)
		}
	}
	src := strings.Replace(minimal, "  url: env://DATABASE_URL\n", "  url: env://DATABASE_URL\n  pooler_url: env://PGBOUNCER_ADMIN_URL\n", 1)
	src = strings.Replace(src, "  type: postgres\n", "  type: postgres\n  catalog_command: [pgbackrest, --stanza=main, info, --output=json]\n", 1)
	l, err = spec.Parse("min.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := kindOf(item(t, l.Spec, "db.pooling")); got != "pgbouncer" {
		t.Errorf("db.pooling with pooler_url = %s", got)
	}
	c := item(t, l.Spec, "db.backup_schedule").Auto
	if c.Kind != "backup.catalog" || c.Backup == nil || c.Backup.CatalogCommand[0] != "pgbackrest" || c.MaxAge.D().Hours() != 24 {
		t.Errorf("db.backup_schedule with catalog_command = %+v", c)
	}
	noDB := strings.Replace(strings.Replace(minimal, "database:\n  url: env://DATABASE_URL\n", "", 1), "type: postgres", "type: none", 1)
	l, err = spec.Parse("min.yaml", []byte(noDB+"readiness:\n  items:\n    - {id: db.migrations, optional: true}\n    - {id: db.rls, optional: true}\n    - {id: db.fk_indexes, optional: true}\n    - {id: db.pooling, optional: true}\n    - {id: db.backup_schedule, optional: true}\n    - {id: perf.queries, optional: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := kindOf(item(t, l.Spec, "env.database")); got != "http" {
		t.Errorf("env.database without database.url = %s", got)
	}
	if got := kindOf(item(t, l.Spec, "comp.audit_logging")); got != "attest compliance_officer" {
		t.Errorf("comp.audit_logging without database.url = %s", got)
	}
}

// The default sec.auth item and the default patient_records flow agree: the
// same path refuses an anonymous caller and serves the user the login flow logged in.
func TestDefaultAuthItemAndPatientRecordsFlowAgree(t *testing.T) {
	l, err := spec.Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	auth := item(t, l.Spec, "sec.auth").Auto
	flows := map[string]spec.Flow{}
	for _, f := range l.Spec.Smoke.Flows {
		flows[f.ID] = f
	}
	login, records := flows["login"], flows["patient_records"]
	if auth.Path != records.Path || auth.ExpectStatus != 401 || records.ExpectStatus != 200 {
		t.Errorf("sec.auth %s %d vs patient_records %s %d", auth.Path, auth.ExpectStatus, records.Path, records.ExpectStatus)
	}
	if login.Session == "" || records.Auth != "session" {
		t.Errorf("login %+v, patient_records %+v: records must use the login's session", login, records)
	}
}

func TestNewCheckKindsAreValidated(t *testing.T) {
	src := minimal + `readiness:
  items:
    - {id: sec.rate_limiting, auto: {kind: rate_limit, url: "http://203.0.113.9/api", burst: 5000, within: 5m}}
    - {id: sec.auth, auto: {kind: jwt, jwt: {key: hunter2, alg: RS256}}}
    - {id: test.e2e, auto: {kind: report.junit}}
    - {id: mon.metrics, auto: {kind: metric, query: up, condition: "result >"}}
    - {id: mon.alerts, auto: {kind: alerts, metrics: {provider: http}}}
    - {id: db.pooling, auto: {kind: pgbouncer}}
smoke:
  flows:
    - {id: records, path: /api/patients, auth: session, headers: {Authorization: "Bearer abc"}}
    - {id: login, method: POST, path: /api/login, session: token}
`
	_, err := spec.Parse("bad.yaml", []byte(src))
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`readiness.items[0].auto.burst: 5000 is outside 1..500`,
		`readiness.items[0].auto.within: 5m is outside (0s, 1m]`,
		`readiness.items[0].auto.url: host 203.0.113.9 is neither loopback nor the app's host`,
		`readiness.items[1].auto.jwt.key: holds a literal credential`,
		`readiness.items[1].auto.jwt.alg: unknown value "RS256"`,
		`readiness.items[2].auto.report: is required`,
		`readiness.items[3].auto.condition:`,
		`readiness.items[4].auto.alerts: is required`,
		`readiness.items[4].auto.metrics.provider: "http" has no alert rules`,
		`readiness.items[5].auto: pgbouncer needs database.pooler_url`,
		`smoke.flows[0].headers.Authorization: holds a literal credential`,
		`smoke.flows[0].auth: is session, but no flow before it captures one`,
		`smoke.flows[1].session: "token" is not a JSON path`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing error %q in:\n%s", want, err)
		}
	}
}

func TestABurstMayGoOnlyToLoopbackOrTheAppsHost(t *testing.T) {
	app := spec.App{URL: "https://portal.example.org", Domain: "portal.example.org"}
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "portal.example.org": true,
		"PORTAL.example.org": true, "10.0.0.5": false, "example.org": false, "portal.example.org.evil.test": false} {
		if got := spec.BurstAllowed(host, app); got != want {
			t.Errorf("BurstAllowed(%s) = %v", host, got)
		}
	}
}

// The production example checks 43 of the 67 Pre-Deployment lines itself
// (14 before the newer kinds, 40 before the drills); docs/checklist-map.md
// says why each other one stays an attestation.
func TestHealthcareExampleChecks43Of67LinesAutomatically(t *testing.T) {
	l, err := spec.Load("../../examples/healthcare-production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	auto, attest := 0, 0
	for _, it := range l.Spec.Readiness.Items {
		if it.Auto != nil {
			auto++
		} else {
			attest++
		}
	}
	if auto != 43 || attest != 24 {
		t.Errorf("%d automatic, %d attested; want 43 and 24", auto, attest)
	}
	refs := strings.Join(item(t, l.Spec, "env.secrets").Auto.Refs, " ")
	for _, want := range []string{"env://DATABASE_URL", "env://PGBOUNCER_ADMIN_URL", "env://RESEND_API_KEY", "secret://aws/portal/jwt-test#key", "secret://aws/portal/smoke#password", "secret://aws/grafana/golive-reader#token", "env://STAGING_DATABASE_URL"} {
		if !strings.Contains(refs, want) {
			t.Errorf("env.secrets refs %s lack %s", refs, want)
		}
	}
}

func TestARateLimitCheckHasTimeForItsWholeBurst(t *testing.T) {
	l, err := spec.Parse("min.yaml", []byte(minimal+"readiness:\n  items:\n    - {id: sec.rate_limiting, auto: {kind: rate_limit, path: /api/search, within: 1m}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := item(t, l.Spec, "sec.rate_limiting").Auto
	if c.Burst != spec.DefaultBurst || c.Method != "GET" || c.Timeout.D() < c.Within.D() {
		t.Errorf("rate_limit defaults: burst %d, method %s, timeout %s for within %s", c.Burst, c.Method, c.Timeout, c.Within)
	}
}
