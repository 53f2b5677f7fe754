package workflows_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// rulesAPI is a Prometheus rules API whose alerting rule PortalHighErrorRate
// is inactive for the first quietFor answers and firing after them.
func rulesAPI(t *testing.T, quietFor int32) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := "inactive"
		if calls.Add(1) > quietFor {
			state = "firing"
		}
		fmt.Fprintf(w, `{"status":"success","data":{"groups":[{"name":"portal","rules":[{"name":"PortalHighErrorRate","type":"alerting","state":%q}]}]}}`, state)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// withAlertsCheck makes mon.alerts an alerts check on the rules API.
func withAlertsCheck(h *harness, url string) {
	for i, it := range h.spec.Readiness.Items {
		if it.ID == "mon.alerts" {
			h.spec.Readiness.Items[i].Attest = ""
			h.spec.Readiness.Items[i].Auto = &spec.Check{Kind: string(spec.KindAlerts), Timeout: spec.Duration(10e9),
				Alerts: map[string]string{"error_rate": "PortalHighErrorRate"}, Metrics: &spec.Metrics{Provider: "prometheus", URL: url}}
		}
	}
}

func TestAlarmFiringSinceReadinessStopsTheReleaseBeforeDeploy(t *testing.T) {
	h := newHarness(t)
	rules, calls := rulesAPI(t, 1) // quiet at the readiness gate, firing from then on
	withAlertsCheck(h, rules.URL)
	res := h.run(h.input("1.1.0"))
	if res.Outcome != record.OutcomeNotReady || !strings.Contains(res.Reason, "T-0: stopped before deploy") ||
		!strings.Contains(res.Reason, "already firing (a release started now would take it as normal): error_rate (PortalHighErrorRate)") {
		t.Fatalf("outcome %s, reason %q", res.Outcome, res.Reason)
	}
	if n := len(h.app.DeployLog()); n != 0 || h.app.Version() != "1.0.0" {
		t.Fatalf("%d deploys, app at %s: the release went on with an alarm firing", n, h.app.Version())
	}
	if calls.Load() != 2 {
		t.Fatalf("rules read %d times, want at readiness and at T-0", calls.Load())
	}
	st := h.status()
	var items []string
	for _, it := range st.Items {
		switch it.ID {
		case "mon.alerts":
			if it.State != record.ItemPassed {
				t.Errorf("readiness alerts item %s: %s", it.State, it.Detail)
			}
		case "deploy.alarms":
			if it.State != record.ItemFailed || it.Value != "prometheus: error_rate firing" {
				t.Errorf("T-0 alarms item %+v", it)
			}
		}
		if it.Stage == record.StageDeploy {
			items = append(items, it.ID+" "+string(it.State))
		}
	}
	if !strings.HasPrefix(strings.Join(items, ","), "deploy.alarms failed,deploy.freeze pending") {
		t.Errorf("deploy items %v: want the alarm check first and nothing after it run", items)
	}
}

func TestQuietAlarmsAtT0LetTheReleaseDeploy(t *testing.T) {
	h := newHarness(t)
	rules, calls := rulesAPI(t, 1<<30)
	withAlertsCheck(h, rules.URL)
	res := h.run(h.input("1.1.0"))
	if res.Outcome != record.OutcomeCompleted || h.app.Version() != "1.1.0" || calls.Load() != 2 {
		t.Fatalf("outcome %s (%s), app %s, rules read %d times", res.Outcome, res.Reason, h.app.Version(), calls.Load())
	}
}
