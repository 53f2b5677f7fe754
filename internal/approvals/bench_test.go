package approvals_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/record"
)

// statusClient answers DescribeWorkflowExecution and the status query with a
// fixed status: enough for the reading pages, without a Temporal server.
type statusClient struct {
	client.Client
	st record.Status
}

func (c statusClient) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: c.st.ReleaseID, RunId: "run-1"}, Status: enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}}, nil
}

func (c statusClient) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	b, err := json.Marshal(c.st)
	return jsonValue(b), err
}

type jsonValue []byte

func (v jsonValue) HasValue() bool    { return len(v) > 0 }
func (v jsonValue) Get(ptr any) error { return json.Unmarshal(v, ptr) }

// bigStatus is a release in its approvals with 67 checklist items, some failed.
func bigStatus() record.Status {
	st := waitingStatus()
	st.Items = nil
	for i := range 67 {
		state := []record.ItemState{record.ItemPassed, record.ItemPassed, record.ItemWaiting, record.ItemFailed, record.ItemPending}[i%5]
		stage := record.StageReadiness
		if i >= 45 {
			stage = record.StagePrepare
		}
		st.Items = append(st.Items, record.Item{ID: fmt.Sprintf("item.%02d", i), Stage: stage, Title: fmt.Sprintf("Checklist line %d: confirm the thing", i),
			State: state, Mode: record.ModeAttest, Role: "compliance_officer", Value: "HTTP 200 in 12ms", Detail: strings.Repeat("detail ", 8)})
	}
	return st
}

func pageServer(t testing.TB, st record.Status) (*approvals.Server, http.Handler) {
	d, err := directory.Load(filepath.Join(root, "examples", "directory", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := approvals.New(approvals.Options{Client: statusClient{st: st}, Directory: d, LinkKey: linkKey, EnrollDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Handler()
}

func TestThePlanPageReadsWithoutJavaScriptAndSaysSigningNeedsAPasskey(t *testing.T) {
	s, h := pageServer(t, bigStatus())
	rec := httptest.NewRecorder()
	link := strings.TrimPrefix(s.ReleaseLink("release:demo-portal:demo", "carol", time.Hour), s.BaseURL())
	h.ServeHTTP(rec, httptest.NewRequest("GET", link, nil))
	body := rec.Body.String()
	for _, want := range []string{"1.0.0 → 1.1.0", "<noscript>", "Signing needs a passkey", `action="/nojs"`, "Readiness (failures first)", `<label for="comment-compliance_officer">`, "You have no passkey"} {
		if !strings.Contains(body, want) {
			t.Errorf("plan page lacks %q", want)
		}
	}
	readiness := body[strings.Index(body, "Readiness (failures first)"):]
	if i, j := strings.Index(readiness, "failed</span>"), strings.Index(readiness, "passed</span>"); i < 0 || j < i {
		t.Errorf("failures are not listed before passes")
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/nojs", nil))
	if !strings.Contains(rec.Body.String(), "Nothing was sent") {
		t.Errorf("a form sent without JavaScript: %s", rec.Body.String())
	}
	// An altered link reads, but names nobody and offers no form.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", strings.Replace(link, "p=carol", "p=dave", 1), nil))
	if b := rec.Body.String(); !strings.Contains(b, "This link cannot sign anything") || strings.Contains(b, "with passkey</button>") {
		t.Errorf("altered link page offers forms")
	}
}

// BenchmarkPlanPage67Items renders the plan page of a release with 67 items
// (status query answered in memory) and reports p50 and p95 per request.
func BenchmarkPlanPage67Items(b *testing.B) {
	s, h := pageServer(b, bigStatus())
	link := strings.TrimPrefix(s.ReleaseLink("release:demo-portal:demo", "carol", time.Hour), s.BaseURL())
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", link, nil))
		ds = append(ds, time.Since(start))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds()), "p95-µs")
}
