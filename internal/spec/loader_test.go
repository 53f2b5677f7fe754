package spec_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/golive/golive/internal/spec"
)

// minimal is the smallest spec that loads; bad cases below extend or edit it,
// so their line numbers start at 22 when appended.
const minimal = `service: portal
environment: staging
app:
  url: https://portal.example.org
team:
  development_lead: [{id: ann, name: Ann}]
  operations_lead: [{id: ben, name: Ben}]
  compliance_officer: [{id: cat, name: Cat}]
  project_manager: [{id: dan, name: Dan}]
  engineer: [{id: eve, name: Eve}]
  on_call_developer: [{id: ann, name: Ann}]
  management: [{id: dan, name: Dan}]
deploy:
  target: demo
database:
  url: env://DATABASE_URL
backup:
  type: postgres
metrics:
  url: http://127.0.0.1:9/stats
  queries: {error_rate: $.e, latency_p95: $.l}
`

func TestExamplesLoad(t *testing.T) {
	for _, f := range []string{"healthcare-production.yaml", "demo.yaml"} {
		l, err := spec.Load("../../examples/" + f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		data, _ := os.ReadFile("../../examples/" + f)
		sum := sha256.Sum256(data)
		if l.Digest != hex.EncodeToString(sum[:]) || l.File != "../../examples/"+f {
			t.Errorf("%s: digest %s file %s", f, l.Digest, l.File)
		}
		if n := len(l.Spec.Readiness.Items); n != len(spec.DefaultReadiness()) {
			t.Errorf("%s: %d readiness items, want %d", f, n, len(spec.DefaultReadiness()))
		}
	}
}

func TestMinimalLoads(t *testing.T) {
	l, err := spec.Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	if s.App.Domain != "portal.example.org" || s.App.HealthPath != "/healthz" || s.Deploy.URL != s.App.URL {
		t.Errorf("app/deploy defaults: %+v %+v", s.App, s.Deploy)
	}
	if len(s.Approvals.Slots) != 4 || s.Approvals.Timeout.String() != "24h0m0s" || s.Approvals.OnTimeout != "abort" {
		t.Errorf("approvals defaults: %+v", s.Approvals)
	}
	if s.Thresholds.Critical.ErrorRate != 1 || s.Thresholds.Targets.ErrorRate != 0.1 || s.Thresholds.Critical.SlowQueries != 50 {
		t.Errorf("threshold defaults: %+v", s.Thresholds)
	}
	if len(s.Smoke.Flows) != 5 || s.Evidence.Dir != ".golive/evidence" || s.Version.From != "flag" {
		t.Errorf("flows/evidence/version defaults: %d %q %q", len(s.Smoke.Flows), s.Evidence.Dir, s.Version.From)
	}
}

func TestBadSpecs(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown key", minimal + "servce: x\nwatch:\n  t1h: 1h\n  cadence: 5m\n", []string{
			`bad.yaml:22:1: servce: unknown key "servce" (did you mean "service"?)`,
			`bad.yaml:25:3: watch.cadence: unknown key "cadence"`,
		}},
		{"wrong type", minimal + "readiness:\n  timeout: soon\n  items: yes\nwindow: [1, 2]\n", []string{
			`bad.yaml:23:12: readiness.timeout: "soon" is not a duration (want e.g. 15m, 4h, 90s)`,
			`bad.yaml:24:10: readiness.items: want a list, got "yes"`,
			`bad.yaml:25:9: window: want a mapping, got a list`,
		}},
		{"wrong scalar type", minimal + "escalation:\n  critical_level: two\n", []string{
			`bad.yaml:23:19: escalation.critical_level: want an integer, got "two"`,
		}},
		{"missing service", strings.Replace(minimal, "service: portal\n", "", 1), []string{
			`bad.yaml:1:1: service: is required (the service being released)`,
		}},
		{"negative interval", minimal + "watch:\n  phases:\n    - {until: 1h, every: -5m}\n    - {until: 30m, every: 0s}\n", []string{
			`bad.yaml:24:26: watch.phases[0].every: duration "-5m" is negative`,
			`bad.yaml:25:15: watch.phases[1].until: 30m must be later than the previous phase's until (1h)`,
			`bad.yaml:25:27: watch.phases[1].every: 0s is no wait at all: write a positive duration`,
		}},
		{"threshold 150%", minimal + "thresholds:\n  critical:\n    error_rate: 150%\n    failed_logins: 5\n", []string{
			`bad.yaml:24:17: thresholds.critical.error_rate: percentage 150% is outside 0%..100%`,
			`bad.yaml:25:20: thresholds.critical.failed_logins: "5" is not a percentage (write it with a % sign, e.g. 5%)`,
		}},
		{"role without people, duplicate slot", minimal + "approvals:\n  slots:\n    - {role: development_lead}\n    - {id: cfo, role: cfo}\n    - {id: development_lead, role: operations_lead}\n", []string{
			`bad.yaml:25:23: approvals.slots[1].role: role "cfo" has no people in team`,
			`bad.yaml:26:12: approvals.slots[2].id: duplicate slot id "development_lead" (also approvals.slots[0])`,
		}},
		{"too few distinct people", strings.Replace(minimal, "{id: ben, name: Ben}", "{id: ann, name: Ann}", 1), []string{
			`bad.yaml:1:1: approvals.slots: need 4 distinct people but the team can fill only 3 of them`,
			`bad.yaml:1:1: review.signoffs.slots: need 2 distinct people but the team can fill only 1 of them`,
		}},
		{"items and enums", minimal + "notify: {channel: pager}\nreadiness:\n  items:\n    - {id: x.new}\n    - {id: env.dns, auto: {kind: ping}, attest: ops}\n    - {id: env.dns, title: again}\n", []string{
			`bad.yaml:22:19: notify.channel: unknown value "pager" (want one of log, live)`,
			`bad.yaml:25:7: readiness.items[0]: set auto (a check) or attest (a role): "x.new" is not a default item`,
			`bad.yaml:25:7: readiness.items[0].title: is required for an item that is not in the default checklist`,
			`bad.yaml:26:7: readiness.items[1]: set either auto or attest, not both`,
			`bad.yaml:26:34: readiness.items[1].auto.kind: unknown value "ping" (want one of ` + strings.Join(spec.CheckKinds, ", ") + `)`,
			`bad.yaml:26:49: readiness.items[1].attest: role "ops" has no people in team`,
			`bad.yaml:27:12: readiness.items[2].id: duplicate item id "env.dns" (also readiness.items[1])`,
		}},
		{"person without id, contact role without people", strings.Replace(minimal, "{id: eve, name: Eve}", "{name: Eve}", 1) +
			"escalation:\n  levels:\n    - {level: 1, name: Minor, response: 1m, contacts: [sre]}\n", []string{
			`bad.yaml:1:1: completion.slots[0].role: role "engineer" has no people in team`,
			`bad.yaml:10:14: team.engineer[0].id: is required (the handle used with golive approve --as)`,
			`bad.yaml:22:1: escalation.critical_level: level 2 is not defined (levels 1..1)`,
			`bad.yaml:22:1: escalation.rollback_level: level 3 is not defined (levels 1..1)`,
			`bad.yaml:24:56: escalation.levels[0].contacts[0]: role "sre" has no people in team`,
		}},
		{"integrations not configured", strings.Replace(strings.Replace(minimal, "  url: env://DATABASE_URL\n", "  migrations: ./migrations\n", 1), "type: postgres", "type: none", 1), []string{
			`bad.yaml:15:1: database.url: is required by items db.migrations, db.rls, db.fk_indexes, db.pooling, perf.queries (set it, or mark them optional, or attest them)`,
			`bad.yaml:15:1: database.url: is required when database.migrations is set`,
			`bad.yaml:18:9: backup.type: is none, but items db.backup_schedule verify backups (set postgres or rds, or mark them optional, or attest them)`,
		}},
		{"secret in database url", strings.Replace(minimal, "env://DATABASE_URL", "postgres://app:hunter2@db/portal", 1), []string{
			`bad.yaml:16:8: database.url: holds a password; write a reference instead (env://NAME or secret://aws/NAME#KEY)`,
		}},
		{"several errors in line order", strings.Replace(minimal, "target: demo", "target: kubernetes", 1) + "approvals:\n  timeout: 1d\nfoo: 1\n", []string{
			`bad.yaml:14:11: deploy.target: unknown value "kubernetes" (want one of demo, command, ecs, s3-static)`,
			`bad.yaml:23:12: approvals.timeout: "1d" is not a duration (want e.g. 15m, 4h, 90s)`,
			`bad.yaml:24:1: foo: unknown key "foo"`,
		}},
		{"repeated key", minimal + "service: again\n", []string{
			`bad.yaml:22:1: service: key "service" repeated (first at line 1)`,
		}},
		{"syntax error", "service: [\n", []string{`bad.yaml:1: YAML syntax: did not find expected node content`}},
		{"empty file", "", []string{`bad.yaml: the file is empty`}},
		{"two documents", minimal + "---\nservice: b\n", []string{`bad.yaml:22:1: only one YAML document is allowed`}},
		{"not a mapping", "hello\n", []string{`bad.yaml:1:1: the spec must be a mapping of keys (service, environment, team...)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := spec.Parse("bad.yaml", []byte(tc.src))
			if err == nil {
				t.Fatalf("loaded, want errors; spec %+v", l.Spec.Service)
			}
			var errs spec.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not spec.Errors: %v", err, err)
			}
			if got, want := err.Error(), strings.Join(tc.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
			for i := 1; i < len(errs); i++ {
				if errs[i].Line < errs[i-1].Line {
					t.Errorf("errors not sorted by line: %v before %v", errs[i-1], errs[i])
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := spec.Load("testdata/does-not-exist.yaml")
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "read release spec") {
		t.Fatalf("err = %v, want a wrapped not-exist error", err)
	}
}

func TestValidateCodeBuiltSpec(t *testing.T) {
	l, err := spec.Parse("min.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	spec.ApplyDefaults(&s) // idempotent on a loaded spec
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if len(s.Readiness.Items) != len(spec.DefaultReadiness()) {
		t.Errorf("ApplyDefaults twice grew the items to %d", len(s.Readiness.Items))
	}
	s.Service = ""
	if err := s.Validate(); err == nil || err.Error() != "service: is required (the service being released)" {
		t.Errorf("Validate = %v", err)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	l, err := spec.Load("../../examples/healthcare-production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(l.Spec)
	if err != nil {
		t.Fatal(err)
	}
	var back spec.Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, l.Spec) {
		t.Errorf("spec changed through JSON (workflow payloads):\n%s", b)
	}
}
