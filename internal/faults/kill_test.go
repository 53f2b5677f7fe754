//go:build faults

// The kill harness is slow (minutes): it is built only with -tags faults (make test-faults).

package faults_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"gopkg.in/yaml.v3"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/devserver"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/notify"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// scenario is the release a kill case runs.
type scenario string

const (
	// happy releases 1.1.0 on a database at version 1 (the backup check wants
	// the patients table), applies migrations 002-004 and completes.
	happy scenario = "happy"
	// rollback releases 1.2.0-bad on a database at version 3 (migration 004
	// pending): the bad version fails its checks at once (RampUp 0), and the
	// saga reverts the app and migrates down to 3.
	rollback scenario = "rollback"
)

// killCase is one crash: a scenario and the fault armed in the first worker.
type killCase struct {
	Scenario scenario
	Fault    worker.Fault
	// WantEvent, when set, is the notification event the killed Notify must carry.
	WantEvent string
	// WantChild: the killed activity must belong to one of the watch's check children.
	WantChild bool
}

func (k killCase) name() string {
	when := "before"
	if k.Fault.After {
		when = "after"
	}
	return fmt.Sprintf("%s/%s-%s-%d", k.Scenario, when, k.Fault.Activity, k.Fault.N)
}

// Activity types of each path, as a release of the demo spec with a database runs them.
var (
	happyTypes    = []string{"CurrentVersion", "Check", "CheckDatabase", "Notify", "VerifyBackup", "RehearseRollback", "Sample", "Migrate", "Deploy", "VerifyVersion", "Smoke", "Health", "Append", "Evidence"}
	rollbackTypes = []string{"Revert", "MigrateDown", "Incident"}
)

// testMessageN is which Notify of the happy path is the T+1h test message,
// sent on every channel (email and SMS) to the whole team. The case that
// kills after it checks that it carried test_message.
const testMessageN = 9

// killCases: every activity type of the happy path in the happy release, and
// every type only the rollback path has in the rollback release, each killed
// once before and once after; plus the messages on every channel, the deploy
// of the bad version and a notification of the rollback, killed after.
func killCases() []killCase {
	var out []killCase
	add := func(s scenario, types ...string) {
		for _, a := range types {
			for _, after := range []bool{false, true} {
				out = append(out, killCase{Scenario: s, Fault: worker.Fault{Activity: a, N: 1, After: after}})
			}
		}
	}
	add(happy, happyTypes...)
	add(rollback, rollbackTypes...)
	// The migrations whose compensation the rollback must run.
	add(rollback, "Migrate")
	out = append(out,
		killCase{Scenario: happy, Fault: worker.Fault{Activity: "Notify", N: testMessageN, After: true}, WantEvent: notify.EventTestMessage},
		// Sample #1 is the baseline, #2 the error rate after deploy, #3 the
		// first check of the monitoring child workflow.
		killCase{Scenario: happy, Fault: worker.Fault{Activity: "Sample", N: 3}, WantChild: true},
		killCase{Scenario: happy, Fault: worker.Fault{Activity: "Sample", N: 3, After: true}, WantChild: true},
		killCase{Scenario: rollback, Fault: worker.Fault{Activity: "Deploy", N: 1, After: true}},
		killCase{Scenario: rollback, Fault: worker.Fault{Activity: "Notify", N: testMessageN, After: true}},
	)
	if only := os.Getenv("GOLIVE_FAULTS_ONLY"); only != "" {
		re := regexp.MustCompile(only)
		out = slices.DeleteFunc(out, func(k killCase) bool { return !re.MatchString(k.name()) })
	}
	return out
}

// harness is what every kill case shares: the worker binary, one server (one
// namespace per case, so each case has its own worker), the provider stand-ins.
type harness struct {
	bin  string
	srv  *devserver.Server
	prov *providers

	mu      sync.Mutex
	results []caseResult
	initMu  sync.Mutex
}

// caseResult is one line of the summary.
type caseResult struct {
	Name, Killed, Outcome                          string
	Deploys, DDL, Versions, Audit, Emails, Replays int
	SMS                                            int
	KilledAfter, Total                             time.Duration
	Problems                                       int
}

func TestKillHarness(t *testing.T) {
	cases := killCases()
	h := &harness{bin: buildWorker(t), srv: startServer(t), prov: startProviders(t)}
	admin := dial(t, h.srv.FrontendAddress(), h.srv.Namespace())
	names := make([]string, len(cases))
	for i := range cases {
		names[i] = fmt.Sprintf("faults-%02d", i)
	}
	begin := time.Now()
	createNamespaces(t, admin, h.srv.FrontendAddress(), names)
	t.Logf("%d namespaces ready in %s", len(names), fmtDur(time.Since(begin)))
	t.Cleanup(func() { h.summary(t, time.Since(begin)) })
	for i, kc := range cases {
		t.Run(kc.name(), func(t *testing.T) {
			t.Parallel()
			h.run(t, i, names[i], kc)
		})
	}
}

var faultLine = regexp.MustCompile(`at (\S+), activity (\S+) attempt (\d+) of workflow (\S+) run (\S+)`)

func (h *harness) run(t *testing.T, idx int, ns string, kc killCase) {
	res := caseResult{Name: kc.name()}
	var logPath string
	defer func() {
		if t.Failed() {
			res.Problems++
			if keep := os.Getenv("GOLIVE_FAULTS_KEEP"); keep != "" && logPath != "" {
				if b, err := os.ReadFile(logPath); err == nil {
					_ = os.MkdirAll(keep, 0o755)
					_ = os.WriteFile(filepath.Join(keep, strings.ReplaceAll(kc.name(), "/", "_")+".log"), b, 0o644)
				}
			}
		}
		h.mu.Lock()
		h.results = append(h.results, res)
		h.mu.Unlock()
	}()
	// Spread the starts: the readiness checks and backups of all cases at
	// once would take more connections than the local PostgreSQL has.
	time.Sleep(time.Duration(idx%casesAtOnce) * 750 * time.Millisecond)
	// Under full load a case takes up to 3.5 min (most of it the killed
	// activity's start-to-close timeout, 2 min at most).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	c := dial(t, h.srv.FrontendAddress(), ns)

	// The target: a database of its own, a demo app of its own.
	dbURL := pgtest.NewDatabase(t)
	premigrate(ctx, t, dbURL, startVersion(kc.Scenario))
	installDDLLog(ctx, t, dbURL)
	// The audit ledger only where an Append is killed, and in one rollback: a
	// ledger is one more database and connection pool per case, and the local
	// server allows 100 connections for everybody.
	auditURL := ""
	if kc.Fault.Activity == "Append" || kc.name() == "rollback/after-Revert-1" {
		auditURL = h.auditDatabase(ctx, t)
	}
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 10, Logger: quiet()})
	appSrv := httptest.NewServer(app.Handler())
	t.Cleanup(appSrv.Close)
	go app.RunTraffic(ctx)

	s := releaseSpec(t, appSrv.URL, filepath.Join(dir, "evidence"))
	s.Service = fmt.Sprintf("fault-%02d", idx)
	version := "1.1.0"
	if kc.Scenario == rollback {
		version = "1.2.0-bad"
	}
	apiKey, account := fmt.Sprintf("re_fault_%02d", idx), fmt.Sprintf("AC%032d", idx)
	env := []string{
		"GOLIVE_FAULT_DB_URL=" + dbURL,
		activities.EnvAuditURL + "=" + auditURL, // empty: no ledger, Append reports "not configured"
		"GOLIVE_FAULT_RESEND_KEY=" + apiKey,
		"GOLIVE_FAULT_TWILIO_SID=" + account,
		fmt.Sprintf("GOLIVE_FAULT_TWILIO_TOKEN=%032x", idx+1),
		"HTTPS_PROXY=" + h.prov.ProxyURL,
		"SSL_CERT_FILE=" + h.prov.CAFile,
	}
	logPath = filepath.Join(dir, "worker.log")
	addr := h.srv.FrontendAddress()

	// First worker: armed. Start the release and answer it like its people would.
	w1 := startWorker(t, h.bin, addr, ns, logPath, append(env, worker.FaultEnv+"="+kc.Fault.String())...)
	id := workflows.ReleaseID(s.Service, s.Environment)
	begin := time.Now()
	run, err := startRelease(ctx, c, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true},
		workflows.ReleaseInput{Spec: s, Version: version, Requester: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	stop := responder(ctx, c, id, s)
	defer stop()
	var out workflows.ReleaseResult
	ended := make(chan error, 1)
	go func() { ended <- workflows.EndedResult(run.Get(ctx, &out), &out) }()

	select {
	case <-w1.done:
	case err := <-ended:
		b, _ := os.ReadFile(logPath)
		t.Fatalf("the release ended (%s: %s, %v) but the fault %s never fired; worker log:\n%s", out.Outcome, out.Reason, err, kc.Fault, tail(string(b), 3000))
	case <-ctx.Done():
		t.Fatalf("the fault %s never fired; worker log %s", kc.Fault, logPath)
	}
	res.KilledAfter = time.Since(begin)
	if !w1.Killed() {
		t.Fatalf("the armed worker ended without SIGKILL: %v; log %s", w1.err, logPath)
	}
	line := w1.faultLine()
	m := faultLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("the armed worker died without saying where: %q", line)
	}
	killedType, killedActivity, killedWF := m[1], m[2], m[4]
	where := "release"
	if killedWF != id {
		where = strings.TrimPrefix(killedWF, id+":")
	}
	if kc.WantChild && !strings.HasPrefix(killedWF, workflows.MonitorID(id, workflows.WindowWatch)+":") {
		t.Errorf("killed %s in %s, want one of the watch's check children", killedType, killedWF)
	}
	res.Killed = fmt.Sprintf("%s #%s in %s", killedType, killedActivity, where)

	// Second worker: clean. The release must finish.
	w2 := startWorker(t, h.bin, addr, ns, logPath, env...)
	select {
	case err := <-ended:
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("release: %v", err)
		}
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		t.Fatalf("the release did not finish %s after its start: %s", time.Since(begin).Round(time.Second), stuck(c, id))
	}
	res.Total = time.Since(begin)
	stop()
	w2.Stop()
	res.Outcome = string(out.Outcome)
	t.Logf("killed %s after %s; release %s after %s", res.Killed, fmtDur(res.KilledAfter), out.Outcome, fmtDur(res.Total))

	hist := histories(ctx, t, c, id)
	runID := run.GetRunID()

	// The release completed (or rolled back) and the app runs what it should.
	wantOutcome, wantLive := record.OutcomeCompleted, "1.1.0"
	if kc.Scenario == rollback {
		wantOutcome, wantLive = record.OutcomeRolledBack, "1.0.0"
	}
	if out.Outcome != wantOutcome || app.Version() != wantLive {
		t.Errorf("outcome %s (%s), app at %s; want %s with %s live", out.Outcome, out.Reason, app.Version(), wantOutcome, wantLive)
	}

	// The killed attempt was noticed by its timeout and retried: its result
	// never reached the server.
	checkRetried(t, hist, killedWF, killedActivity, kc)

	// Deploy log: each key once, as many switches as the release asked for.
	log := app.DeployLog()
	res.Deploys = len(log)
	want := []demoapp.Deploy{{From: "1.0.0", To: "1.1.0", Key: id + ":" + runID + ":deploy:1.1.0"}}
	if kc.Scenario == rollback {
		want = []demoapp.Deploy{
			{From: "1.0.0", To: "1.2.0-bad", Key: id + ":" + runID + ":deploy:1.2.0-bad"},
			{From: "1.2.0-bad", To: "1.0.0", Key: id + ":" + runID + ":revert:1.0.0"},
		}
	}
	if len(log) != len(want) {
		t.Errorf("deploy log has %d switches, want %d: %+v", len(log), len(want), log)
	} else {
		for i := range want {
			if log[i].From != want[i].From || log[i].To != want[i].To || log[i].Key != want[i].Key {
				t.Errorf("deploy %d: %s -> %s key %s; want %s -> %s key %s", i, log[i].From, log[i].To, log[i].Key, want[i].From, want[i].To, want[i].Key)
			}
		}
	}

	// Database: every DDL statement once, the version table as expected.
	res.DDL, res.Versions = checkDatabase(ctx, t, dbURL, kc.Scenario)

	// Evidence and incident records: one file each, nothing half written.
	checkEvidence(t, filepath.Join(dir, "evidence"), id, runID, kc.Scenario)

	// Audit ledger: every event of every Append once.
	if auditURL != "" {
		res.Audit = checkAudit(ctx, t, hist, auditURL, id)
	}

	// Notifications: as the providers saw them.
	res.Emails, res.Replays, res.SMS = checkNotifications(t, hist, h.prov.emailsFor(apiKey), h.prov.smsFor(account))
}

// releaseSpec is examples/demo.yaml pointed at a database of the case's own
// (env://GOLIVE_FAULT_DB_URL, the demo migrations), with live notifications
// through the stand-ins and a schedule compressed to seconds. Everything else
// (readiness items, backup, thresholds) is the demo's.
func releaseSpec(t *testing.T, appURL, evidenceDir string) spec.Spec {
	t.Helper()
	raw, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	migrations, err := filepath.Abs("../../examples/migrations/demo")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil || len(doc.Content) != 1 {
		t.Fatalf("examples/demo.yaml: %v", err)
	}
	root := doc.Content[0]
	setKey(t, root, "notify", `
channel: live
from: golive <golive@example.org>
resend_api_key: env://GOLIVE_FAULT_RESEND_KEY
twilio_account_sid: env://GOLIVE_FAULT_TWILIO_SID
twilio_auth_token: env://GOLIVE_FAULT_TWILIO_TOKEN
twilio_from: "+15555550100"`)
	db := &yaml.Node{Kind: yaml.MappingNode}
	if n := mapValue(root, "database"); n != nil {
		db = n
	}
	setKey(t, db, "url", "env://GOLIVE_FAULT_DB_URL")
	setKey(t, db, "migrations", migrations)
	setKey(t, db, "statement_timeout", "15s")
	if mapValue(root, "database") == nil {
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "database"}, db)
	}
	text, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	l, err := spec.Parse("fault-harness.yaml", text)
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	s.App.URL, s.Deploy.URL, s.Metrics.URL = appURL, "", appURL+"/stats"
	s.Deploy.Timeout = spec.Duration(20 * time.Second)
	s.Window.PrepareLead = spec.Duration(time.Second)
	s.Watch.T1H = spec.Duration(time.Second)
	s.Watch.Phases = []spec.Phase{
		{Name: "critical", Until: spec.Duration(2 * time.Second), Every: spec.Duration(time.Second)},
		{Name: "later", Until: spec.Duration(4 * time.Second), Every: spec.Duration(2 * time.Second)},
	}
	s.Rollback.Watch = spec.Phase{Name: "Post-rollback", Every: spec.Duration(time.Second), Until: spec.Duration(2 * time.Second)}
	s.Review.After = spec.Duration(4 * time.Second)
	s.Evidence.Dir = evidenceDir
	return s
}

// mapValue returns the value of key in a YAML mapping, nil when absent.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setKey sets key of a YAML mapping to value (YAML text), adding it when absent.
func setKey(t *testing.T, m *yaml.Node, key, value string) {
	t.Helper()
	var v yaml.Node
	if err := yaml.Unmarshal([]byte(value), &v); err != nil || len(v.Content) != 1 {
		t.Fatalf("YAML for %s: %v", key, err)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v.Content[0]
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v.Content[0])
}

// startVersion is the schema version of the target database before the release.
func startVersion(sc scenario) int64 {
	if sc == rollback {
		return 3
	}
	return 1
}

// premigrate brings a fresh database to version `to` with the demo migrations.
func premigrate(ctx context.Context, t *testing.T, url string, to int64) {
	t.Helper()
	dir := t.TempDir()
	src := "../../examples/migrations/demo"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n, err := strconv.ParseInt(strings.SplitN(e.Name(), "_", 2)[0], 10, 64)
		if err != nil || n > to {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := migrate.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.Open(ctx, cfg, set, migrate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if rep, err := m.Up(ctx); err != nil || rep.After != to {
		t.Fatalf("premigrate to %d: %+v %v", to, rep, err)
	}
}

// installDDLLog makes the target database keep its own record of every DDL
// statement that took effect (event triggers; a rolled-back statement leaves
// no row), in a schema of its own.
func installDDLLog(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	conn := pgtest.Connect(t, url)
	_, err := conn.Exec(ctx, `
CREATE SCHEMA fault_audit;
CREATE TABLE fault_audit.ddl_log (
    id          bigserial PRIMARY KEY,
    tag         text NOT NULL,
    object_type text,
    identity    text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION fault_audit.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fault_audit.ddl_log (tag, object_type, identity)
    SELECT command_tag, object_type, object_identity FROM pg_event_trigger_ddl_commands();
END $$;
CREATE FUNCTION fault_audit.log_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fault_audit.ddl_log (tag, object_type, identity)
    SELECT tg_tag, object_type, object_identity FROM pg_event_trigger_dropped_objects() WHERE original;
END $$;
CREATE EVENT TRIGGER fault_ddl ON ddl_command_end EXECUTE FUNCTION fault_audit.log_ddl();
CREATE EVENT TRIGGER fault_drop ON sql_drop EXECUTE FUNCTION fault_audit.log_drop();
-- The readiness check db.rls wants row level security on every table.
ALTER TABLE fault_audit.ddl_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY ddl_log_owner ON fault_audit.ddl_log USING (true);`)
	if err != nil {
		t.Fatalf("install the DDL log: %v", err)
	}
}

// checkDatabase judges the migrations by the database's own record: every
// table or index created or dropped at most once (a migration may alter a
// table more than once), the tables the scenario
// creates and drops, and the migration version table. It returns the number
// of DDL log rows on tables and indexes, and of applied versions.
func checkDatabase(ctx context.Context, t *testing.T, url string, sc scenario) (int, int) {
	t.Helper()
	conn := pgtest.Connect(t, url)
	rows, err := conn.Query(ctx, `SELECT tag, object_type, identity, count(*) FROM fault_audit.ddl_log
		WHERE object_type IN ('table', 'index') AND identity NOT LIKE 'fault_audit.%' GROUP BY 1, 2, 3 ORDER BY 1, 3`)
	if err != nil {
		t.Fatal(err)
	}
	ddl := map[string]int{}
	total := 0
	for rows.Next() {
		var tag, typ, ident string
		var n int
		if err := rows.Scan(&tag, &typ, &ident, &n); err != nil {
			t.Fatal(err)
		}
		ddl[tag+" "+ident] += n
		total += n
		if n != 1 && (strings.HasPrefix(tag, "CREATE ") || strings.HasPrefix(tag, "DROP ")) {
			t.Errorf("database ran %s %s %s %d times", tag, typ, ident, n)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	tables := []string{"CREATE TABLE public.appointments", "CREATE TABLE public.clinical_notes", "CREATE INDEX public.appointments_status_starts_at"}
	wantVersions := []int64{1, 2, 3, 4}
	if sc == rollback {
		tables = []string{"CREATE TABLE public.clinical_notes", "DROP TABLE public.clinical_notes"}
		wantVersions = []int64{1, 2, 3}
	}
	for _, k := range tables {
		if ddl[k] != 1 {
			t.Errorf("database log: %q ran %d times, want once (log: %v)", k, ddl[k], ddl)
		}
	}
	var versions []int64
	rows, err = conn.Query(ctx, `SELECT version_id FROM goose_db_version WHERE version_id > 0 AND is_applied ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(versions, wantVersions) {
		t.Errorf("version table: %v, want %v (each applied version once)", versions, wantVersions)
	}
	return total, len(versions)
}

// auditDatabase creates golive's own database for one case, with the audit
// ledger initialised as `golive db init` does. Inits run one at a time: the
// writer role is global to the server.
func (h *harness) auditDatabase(ctx context.Context, t *testing.T) string {
	t.Helper()
	url := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, url)
	h.initMu.Lock()
	defer h.initMu.Unlock()
	if err := audit.Init(ctx, conn, audit.InitOptions{}); err != nil {
		t.Fatalf("init the audit ledger: %v", err)
	}
	return url
}

// checkAudit wants every event of every Append activity of the release in the
// ledger exactly once (the ledger's own record: rows with their idempotency keys).
func checkAudit(ctx context.Context, t *testing.T, hist []runHistory, url, releaseID string) int {
	t.Helper()
	want := 0
	for _, h := range hist {
		for _, e := range h.Events {
			a := e.GetActivityTaskScheduledEventAttributes()
			if a == nil || a.GetActivityType().GetName() != "Append" {
				continue
			}
			var in activities.AppendInput
			if err := worker.DataConverter().FromPayloads(a.GetInput(), &in); err != nil {
				t.Fatalf("decode Append input: %v", err)
			}
			want += len(in.Events)
		}
	}
	conn := pgtest.Connect(t, url)
	var rows, keys, noKey int
	err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT key), count(*) FILTER (WHERE key IS NULL) FROM `+audit.DefaultTable+
		` WHERE release_id LIKE $1`, releaseID+"/%").Scan(&rows, &keys, &noKey)
	if err != nil {
		t.Fatalf("read the audit ledger: %v", err)
	}
	if rows != want || keys != rows || noKey != 0 {
		t.Errorf("audit ledger: %d rows (%d distinct keys, %d without a key), want %d events once each", rows, keys, noKey, want)
	}
	if want == 0 {
		t.Error("the release appended nothing to the audit ledger")
	}
	return rows
}

// checkEvidence wants exactly the evidence pack (and the incident record of
// a rollback), nothing left half written.
func checkEvidence(t *testing.T, dir, releaseID, runID string, sc scenario) {
	t.Helper()
	base := strings.NewReplacer(":", "_", "/", "_").Replace(releaseID) + "-" + runID
	want := []string{base + ".html", base + ".md"}
	if sc == rollback {
		want = append(want, base+"-incident.md")
	}
	sort.Strings(want)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("evidence dir: %v", err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("evidence dir holds %v, want %v", got, want)
	}
}

// checkRetried finds the killed activity in the history: its surviving attempt
// must be a retry after the killed one timed out.
func checkRetried(t *testing.T, hist []runHistory, wf, activityID string, kc killCase) {
	t.Helper()
	for _, h := range hist {
		if h.WorkflowID != wf {
			continue
		}
		var sched int64
		for _, e := range h.Events {
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityId() == activityID {
				sched = e.GetEventId()
				if a.GetActivityType().GetName() != kc.Fault.Activity {
					t.Errorf("killed activity %s is a %s, want %s", activityID, a.GetActivityType().GetName(), kc.Fault.Activity)
				}
				if kc.WantEvent != "" {
					var in activities.NotifyInput
					if err := worker.DataConverter().FromPayloads(a.GetInput(), &in); err != nil || in.Event != kc.WantEvent {
						t.Errorf("killed Notify #%d sent %q (%v), want %s: update testMessageN", kc.Fault.N, in.Event, err, kc.WantEvent)
					}
				}
			}
			if a := e.GetActivityTaskCancelRequestedEventAttributes(); a != nil && sched != 0 && a.GetScheduledEventId() == sched {
				// The release no longer wanted it (a rollback trigger cancelled the
				// step it belonged to) before its timeout: nothing to retry. Its side
				// effect is still counted once per key below.
				t.Logf("activity %s was cancelled by the release before its retry", activityID)
				return
			}
			if a := e.GetActivityTaskStartedEventAttributes(); a != nil && sched != 0 && a.GetScheduledEventId() == sched {
				if a.GetAttempt() < 2 {
					t.Errorf("activity %s finished on attempt %d: the killed attempt was not retried", activityID, a.GetAttempt())
				}
				if f := a.GetLastFailure(); f.GetTimeoutFailureInfo() == nil {
					t.Errorf("activity %s retried after %v, want a start-to-close timeout", activityID, f)
				} else if tt := f.GetTimeoutFailureInfo().GetTimeoutType(); tt != enums.TIMEOUT_TYPE_START_TO_CLOSE && tt != enums.TIMEOUT_TYPE_HEARTBEAT {
					t.Errorf("activity %s retried after a %s timeout", activityID, tt)
				}
				return
			}
		}
		t.Errorf("activity %s of %s: no retried attempt in the history", activityID, wf)
		return
	}
	t.Errorf("no history of %s", wf)
}

// startRelease starts the case's release. On a loaded machine the embedded
// server may not know a new namespace on every service yet, or a start may time
// out after it was recorded: both are retried, and a release that did start is
// picked up, so each case still runs exactly one release.
func startRelease(ctx context.Context, c client.Client, o client.StartWorkflowOptions, in workflows.ReleaseInput) (client.WorkflowRun, error) {
	for {
		run, err := c.ExecuteWorkflow(ctx, o, workflows.ReleaseWorkflow, in)
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		var nsMissing *serviceerror.NamespaceNotFound
		var timedOut *serviceerror.DeadlineExceeded
		var unavailable *serviceerror.Unavailable
		switch {
		case err == nil:
			return run, nil
		case errors.As(err, &started):
			return c.GetWorkflow(ctx, o.ID, ""), nil
		case errors.As(err, &nsMissing), errors.As(err, &timedOut), errors.As(err, &unavailable), errors.Is(err, context.DeadlineExceeded),
			grpcstatus.Code(err) == codes.DeadlineExceeded, grpcstatus.Code(err) == codes.Unavailable:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("start release %s: %w", o.ID, err)
			}
			time.Sleep(time.Second)
		default:
			return nil, fmt.Errorf("start release %s: %w", o.ID, err)
		}
	}
}

// checkNotifications compares what the providers received with what the
// release asked for. Every Notify activity in the histories is one message per
// recipient and channel (email first, SMS first or both, by the catalogue's
// route); its idempotency key is release/event/person/run/activity, the same on
// every attempt.
//   - Email (Resend): the set of keys must be exactly the expected one; a key
//     sent again is a replay the provider answers without sending. A replay is
//     legitimate only when the history shows that key's Notify ran more than
//     one attempt (its worker died while it was in flight, whichever activity
//     the case killed); any other repeated key is a second send.
//   - SMS (Twilio takes no key): every request is a message, so the number of
//     requests per phone must be exactly the expected number.
func checkNotifications(t *testing.T, hist []runHistory, emails []emailRequest, sms []smsRequest) (int, int, int) {
	t.Helper()
	wantEmail := map[string]string{} // key -> address
	retried := map[string]bool{}     // email keys whose Notify ran more than one attempt
	wantSMS := map[string]int{}      // phone -> messages
	smsWhy := map[string][]string{}
	for _, h := range hist {
		attempts := map[int64]int32{} // scheduled event ID -> attempts the activity took
		for _, e := range h.Events {
			if st := e.GetActivityTaskStartedEventAttributes(); st != nil {
				attempts[st.GetScheduledEventId()] = st.GetAttempt()
			}
		}
		for _, e := range h.Events {
			a := e.GetActivityTaskScheduledEventAttributes()
			if a == nil || a.GetActivityType().GetName() != "Notify" {
				continue
			}
			var in activities.NotifyInput
			if err := worker.DataConverter().FromPayloads(a.GetInput(), &in); err != nil {
				t.Fatalf("decode Notify input: %v", err)
			}
			ev, ok := notify.Lookup(in.Event)
			if !ok {
				t.Errorf("Notify of unknown event %q", in.Event)
				continue
			}
			occ := h.RunID + "/" + a.GetActivityId()
			if in.Attempt > 0 {
				occ += "/" + strconv.Itoa(in.Attempt)
			}
			for _, r := range in.To {
				var plan []string
				order := []string{notify.ChannelEmail, notify.ChannelSMS}
				if ev.Route == notify.SMSFirst {
					order = []string{notify.ChannelSMS, notify.ChannelEmail}
				}
				for _, ch := range order {
					if ch == notify.ChannelEmail && r.Email != "" || ch == notify.ChannelSMS && r.Phone != "" {
						plan = append(plan, ch)
					}
				}
				if ev.Route != notify.EveryChannel && len(plan) > 1 {
					plan = plan[:1] // the stand-ins never fail: no fallback
				}
				for _, ch := range plan {
					if ch == notify.ChannelEmail {
						k := notify.Key(in.ReleaseID, in.Event, r.Person, occ)
						wantEmail[k] = r.Email
						if attempts[e.GetEventId()] > 1 {
							retried[k] = true
						}
					} else {
						wantSMS[r.Phone]++
						smsWhy[r.Phone] = append(smsWhy[r.Phone], in.Event+"#"+a.GetActivityId())
					}
				}
			}
		}
	}
	gotEmail := map[string]string{}
	replays := 0
	for _, e := range emails {
		if prev, ok := gotEmail[e.Key]; ok && prev != e.To {
			t.Errorf("email key %s used for %s and %s", e.Key, prev, e.To)
		}
		gotEmail[e.Key] = e.To
		if e.Replay {
			replays++
			if !retried[e.Key] {
				t.Errorf("email key %s sent again although its Notify ran one attempt: a second send, not a retry", e.Key)
			}
		}
	}
	for k, to := range wantEmail {
		if got, ok := gotEmail[k]; !ok {
			t.Errorf("email never sent: %s to %s", k, to)
		} else if got != to {
			t.Errorf("email %s went to %s, want %s", k, got, to)
		}
	}
	for k := range gotEmail {
		if _, ok := wantEmail[k]; !ok {
			t.Errorf("email sent under a key no Notify activity owns: %s (a retry minted a new key?)", k)
		}
	}
	gotSMS := map[string]int{}
	for _, s := range sms {
		gotSMS[s.To]++
	}
	for phone, n := range wantSMS {
		if gotSMS[phone] != n {
			t.Errorf("SMS to %s: %d sent, want %d (%v): Twilio takes no idempotency key, so a retried Notify that sends again is a duplicate message", phone, gotSMS[phone], n, smsWhy[phone])
		}
	}
	for phone, n := range gotSMS {
		if _, ok := wantSMS[phone]; !ok {
			t.Errorf("SMS to %s: %d sent, want none", phone, n)
		}
	}
	return len(gotEmail), replays, len(sms)
}

// summary prints one line per case and the totals.
func (h *harness) summary(t *testing.T, took time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.results) == 0 {
		return
	}
	sort.Slice(h.results, func(i, j int) bool { return h.results[i].Name < h.results[j].Name })
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-34s %-34s %-12s %7s %7s %4s %4s %5s %6s %7s %4s %5s\n", "case", "killed", "outcome", "killed", "total", "dep", "ddl", "vers", "audit", "emails", "rep", "sms")
	ok := 0
	for _, r := range h.results {
		mark := ""
		if r.Problems > 0 {
			mark = "  FAILED"
		} else {
			ok++
		}
		fmt.Fprintf(&b, "%-34s %-34s %-12s %7s %7s %4d %4d %5d %6d %7d %4d %5d%s\n", r.Name, r.Killed, r.Outcome, fmtDur(r.KilledAfter), fmtDur(r.Total),
			r.Deploys, r.DDL, r.Versions, r.Audit, r.Emails, r.Replays, r.SMS, mark)
	}
	fmt.Fprintf(&b, "%d of %d kill cases passed (releases completed, side effects once per key) in %s\n", ok, len(h.results), fmtDur(took))
	t.Log(b.String())
}

// tail is the end of a log, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// stuck describes where a release that did not finish stands.
func stuck(c client.Client, id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := status(ctx, c, id)
	if err != nil {
		return "status: " + err.Error()
	}
	var open []string
	for _, it := range st.Items {
		if it.State == record.ItemRunning || it.State == record.ItemWaiting {
			open = append(open, it.ID+" "+string(it.State))
		}
	}
	var checks []string
	for _, r := range st.Checks {
		checks = append(checks, fmt.Sprintf("%s#%d+%s targets=%v", r.Window, r.Index, r.Offset, r.Targets))
	}
	return fmt.Sprintf("stage %s, waiting %q, open items %v, checks reported %v", st.Stage, st.Waiting, open, checks)
}
