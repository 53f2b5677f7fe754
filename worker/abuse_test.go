package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

// rawSignal sends a signal whose payload is exactly data as JSON (or null),
// the way the Temporal UI's Send Signal or `temporal workflow signal` can.
func rawSignal(t testing.TB, r *liveRelease, name string, data []byte) {
	t.Helper()
	p := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)}, Data: data}
	if data == nil {
		p = &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingNil)}}
	}
	if err := r.c.SignalWorkflow(r.ctx, r.id, r.run.GetRunID(), name, converter.NewRawValue(p)); err != nil {
		t.Fatalf("signal %s: %v", name, err)
	}
}

// initLedger creates the audit ledger table in url's database (golive db init).
func initLedger(t testing.TB, url string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := audit.Init(context.Background(), conn, audit.InitOptions{}); err != nil {
		t.Fatal(err)
	}
}

// auditRows returns action/reason/data of every ledger row of the release.
func auditRows(t testing.TB, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT action || ' | ' || reason || ' | ' || data FROM golive_audit ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A signal whose payload is a bare string, a number, null or a list (a typo in
// the Temporal UI), and an Update the workflow refuses, are each kept in
// status.refused (channel, claimed person, reason, payload size and digest)
// and written to the audit ledger; the payload itself is never kept.
func TestMalformedAndRefusedInputsLeaveARecord(t *testing.T) {
	c, ledger := startServerWithLedger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, _ := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	r.waitFor("readiness", func(st record.Status) bool { return st.Stage == record.StageReadiness })

	payloads := map[string][]byte{"a string": []byte(`"approve"`), "a number": []byte(`42`), "null": nil, "a list": []byte(`["alice"]`)}
	for _, data := range payloads {
		rawSignal(t, r, workflows.SignoffName, data)
	}
	rawSignal(t, r, workflows.AttestName, []byte(`{"person":"carol","itemz":["x"]}`))
	rawSignal(t, r, "signof", []byte(`{"person":"alice","decision":"approve"}`)) // a typo in the Temporal UI
	_, err := r.update(workflows.AbortName, map[string]any{"reason": "no person"})
	mustRefuse(t, "an abort without a person", err, "person is required")

	st := r.waitFor("the refusals", func(st record.Status) bool { return st.RefusedTotal >= len(payloads)+3 })
	if rf := refusedFor(st, "signof", "alice"); len(rf) != 1 || !strings.Contains(rf[0].Reason, `no input is named "signof"`) {
		t.Errorf("the signal under an unknown name: %+v", st.Refused)
	}
	for kind := range payloads {
		found := false
		for _, rf := range refusedForInput(st, workflows.SignoffName) {
			if strings.Contains(rf.Reason, "is "+kind+", not a JSON object") && rf.Channel == record.ChannelSignal && (kind == "null" || rf.PayloadDigest != "") {
				found = true
			}
		}
		if !found {
			t.Errorf("no signal refusal for a payload that is %s: %+v", kind, st.Refused)
		}
	}
	if rf := refusedFor(st, workflows.AttestName, "carol"); len(rf) != 1 || !strings.Contains(rf[0].Reason, "itemz") {
		t.Errorf("the attestation with an unknown field: %+v", rf)
	}
	if rf := refusedForInput(st, workflows.AbortName); len(rf) != 1 || rf[0].Channel != record.ChannelUpdate {
		t.Errorf("the refused Update: %+v", rf)
	}
	for _, rf := range st.Refused {
		if strings.Contains(rf.Reason, `"approve"`) || strings.Contains(rf.Reason, `["alice"]`) {
			t.Errorf("a refusal keeps the payload: %+v", rf)
		}
	}
	_, _ = r.update(workflows.AbortName, r.abort("erin", "erin", "test over"))
	r.waitFor("the end", func(st record.Status) bool { return st.Stage == record.StageDone && st.AuditHead != "" })
	refusedRows := 0
	for _, row := range auditRows(t, ledger) {
		if strings.Contains(row, " refused | ") && strings.Contains(row, `"payload_digest"`) {
			refusedRows++
		}
	}
	if refusedRows < len(payloads)+3 {
		t.Errorf("%d refusal rows in the audit ledger, want at least %d", refusedRows, len(payloads)+3)
	}
}

// A check-report signal sent by an outside client to a release waiting for
// its approvals is refused, recorded and alerted: no check, no item changes,
// no rollback. The alert is acknowledged with a signed ack (an unsigned one is
// refused).
func TestForgedCheckReportIsRefusedAndAlerted(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, _ := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	r.answerUntil(func(st record.Status) bool { return st.Stage == record.StageApprovals })
	forged := record.CheckReport{Window: workflows.WindowWatch, Index: 1, Offset: time.Hour, Phase: "T+1h", Targets: true, Worst: record.VerdictRollback,
		Readings: []record.Reading{{Metric: "error_rate", Value: 0.01, Verdict: record.VerdictOK}}}
	if err := c.SignalWorkflow(ctx, r.id, "", workflows.CheckReportName, forged); err != nil {
		t.Fatal(err)
	}
	st := r.waitFor("the refusal", func(st record.Status) bool { return len(refusedForInput(st, workflows.CheckReportName)) > 0 })
	if len(st.Checks) != 0 || st.Stage != record.StageApprovals || st.Rollback != nil || st.Outcome != record.OutcomeRunning {
		t.Fatalf("forged report changed the release: %d checks, stage %s", len(st.Checks), st.Stage)
	}
	if it := r.item(st, "post.metrics"); it.State != record.ItemPending {
		t.Errorf("T+1h key metrics item %s after a forged report, want pending", it.State)
	}
	var alert string
	for _, a := range st.Alerts {
		if strings.Contains(a.Reason, "forged check-report") {
			alert = a.ID
		}
	}
	if alert == "" {
		t.Fatalf("no alert on the forged report: %+v", st.Alerts)
	}
	_, err := r.update(workflows.AckName, workflows.Ack{Person: "alice", AlertID: alert})
	mustRefuse(t, "an unsigned ack", err, "must be signed")
	if _, err := r.update(workflows.AckName, r.ack("alice", "alice", alert)); err != nil {
		t.Fatalf("signed ack: %v", err)
	}
	_, _ = r.update(workflows.AbortName, r.abort("erin", "erin", "test over"))
}

// historyOf counts a run's events and their bytes.
func historySize(t testing.TB, r *liveRelease) (events, bytes int, signals int) {
	t.Helper()
	iter := r.c.GetWorkflowHistory(r.ctx, r.id, r.run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		e, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		events++
		b, _ := json.Marshal(e)
		bytes += len(b)
		if e.GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
			signals++
		}
	}
	return events, bytes, signals
}

// statusBytes is the size of the status as the query returns it.
func statusBytes(t testing.TB, st record.Status) int {
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return len(b)
}

// forge sends n forged inputs of every kind, by Update and by Signal, claimed
// by the approvers with no or wrong signatures.
func forge(t testing.TB, r *liveRelease, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		who := []string{"alice", "bob", "carol", "dave"}[i%4]
		var name string
		var arg any
		switch i % 5 {
		case 0:
			name, arg = workflows.SignoffName, r.signoff(who, "", "approvals", "erin")
		case 1:
			name, arg = workflows.AbortName, workflows.Abort{Person: who, Reason: fmt.Sprintf("forged %d", i)}
		case 2:
			name, arg = workflows.AttestName, workflows.Attest{Person: who}
		case 3:
			name, arg = workflows.CheckReportName, record.CheckReport{Window: workflows.WindowWatch, Worst: record.VerdictRollback}
		default:
			name, arg = workflows.HoldName, workflows.Hold{Person: who}
		}
		if i%2 == 0 && name != workflows.CheckReportName {
			_, _ = r.update(name, arg)
			continue
		}
		if err := r.c.SignalWorkflow(r.ctx, r.id, r.run.GetRunID(), name, arg); err != nil {
			t.Fatalf("forged signal %d: %v", i, err)
		}
	}
}

// 1,000 forged inputs against one release (sign-offs signed with the wrong
// key, unsigned aborts, attestations and holds, check reports; half by Update,
// half by Signal) are all refused and counted; the release still completes,
// its status stays small, and the history's size is reported.
func TestThousandForgedInputsAreCountedAndTheReleaseCompletes(t *testing.T) {
	c := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, app := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	r.waitFor("readiness", func(st record.Status) bool { return st.Stage == record.StageReadiness })
	const n = 1000
	forge(t, r, n)
	st := r.answer()
	if st.Outcome != record.OutcomeCompleted || app.Version() != "1.1.0" {
		t.Fatalf("outcome %s (%s), app at %s", st.Outcome, st.Reason, app.Version())
	}
	if st.RefusedTotal < n {
		t.Errorf("%d refusals counted, want at least %d", st.RefusedTotal, n)
	}
	counted := 0
	for _, rf := range st.Refused {
		counted += max(rf.Count, 1)
	}
	if counted != st.RefusedTotal || len(st.Refused) > 100 {
		t.Errorf("%d distinct refusals kept counting %d, total %d: want at most 100 kept and every one counted", len(st.Refused), counted, st.RefusedTotal)
	}
	for _, slot := range st.Slots {
		for _, by := range slot.By {
			if by.Fingerprint != keyFingerprint(t, by.Person) {
				t.Errorf("slot %s signed by %s with %q, not their key", slot.ID, by.Person, by.Fingerprint)
			}
		}
	}
	events, bytes, signals := historySize(t, r)
	sb := statusBytes(t, st)
	t.Logf("history under %d forged inputs: %d events (%d signals), %d KB; status %d KB with %d refusals kept for %d counted",
		n, events, signals, bytes/1024, sb/1024, len(st.Refused), st.RefusedTotal)
	if sb > 512<<10 {
		t.Errorf("status is %d KB under the flood, want well under 512 KB", sb/1024)
	}
	// The budget: under Temporal's warning mark (limit.historyCount.warn,
	// 10,240 events) and far from golive's own history budget.
	if over, why := workflows.HistoryOverBudget(events, bytes); over || events > 10_000 {
		t.Errorf("history of %d events, %d KB under %d forged inputs: over its budget (%s)", events, bytes/1024, n, why)
	}
}

// A flood of refused signals beyond the server's per-execution signal limit
// (lowered to 200 here; 10,000 by default) cannot wedge a release: the
// monitor's checks still arrive (they are child results, not signals), the
// people's inputs go by Update, and the release completes with a small status.
func TestSignalFloodBeyondTheServerLimitDoesNotWedgeTheRelease(t *testing.T) {
	const limit = 200
	c := startServerTB(t, temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
		dynamicconfig.MaximumSignalsPerExecution.Key():              []dynamicconfig.ConstrainedValue{{Value: limit}},
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, app := productionSpec(t)
	r := startSigned(ctx, t, c, s, "erin", "erin")
	r.waitFor("readiness", func(st record.Status) bool { return st.Stage == record.StageReadiness })
	refusedByServer := 0
	for i := 0; i < limit+50; i++ {
		arg := workflows.Abort{Person: "alice", Reason: "flood"}
		if err := r.c.SignalWorkflow(ctx, r.id, r.run.GetRunID(), workflows.AbortName, arg); err != nil {
			refusedByServer++
		}
	}
	if refusedByServer == 0 {
		t.Fatalf("the server took all %d signals: the limit of %d was not reached", limit+50, limit)
	}
	st := r.answer()
	if st.Outcome != record.OutcomeCompleted || app.Version() != "1.1.0" {
		t.Fatalf("outcome %s (%s), app at %s", st.Outcome, st.Reason, app.Version())
	}
	want := len(s.Watch.Checkpoints())
	if got := countChecks(st, workflows.WindowWatch); got != want {
		t.Errorf("%d watch checks arrived after the flood, want %d", got, want)
	}
	if rf := refusedFor(st, workflows.AbortName, "alice"); len(rf) != 1 || rf[0].Count < limit-10 {
		t.Errorf("flooded aborts: %+v, want one refusal counted about %d times", rf, limit)
	}
	events, bytes, signals := historySize(t, r)
	t.Logf("signal flood: %d refused by the server, %d in history; %d events, %d KB; status %d KB", refusedByServer, signals, events, bytes/1024, statusBytes(t, st)/1024)
}

func countChecks(st record.Status, window string) int {
	n := 0
	for _, ck := range st.Checks {
		if ck.Window == window {
			n++
		}
	}
	return n
}
