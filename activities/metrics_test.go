package activities_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/spec"
)

var demoQueries = map[string]string{
	"error_rate":     "$.error_rate",
	"latency_p95":    "$.latency_p95_ms",
	"failed_logins":  "$.failed_login_rate",
	"db_connections": "$.db.connections",
	"slow_queries":   "$.slow_queries",
	"active_users":   "$.active_users",
}

func TestSampleFromDemoApp(t *testing.T) {
	_, sa := demo(t, "1.0.0")
	for _, path := range []string{demoapp.PathPatients, demoapp.PathLogin} {
		method := http.MethodGet
		if path == demoapp.PathLogin {
			method = http.MethodPost
		}
		req, _ := http.NewRequest(method, sa.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	before := time.Now()
	s, err := (&activities.Metrics{}).Sample(context.Background(), activities.SampleInput{
		ReleaseID: "r", Metrics: spec.Metrics{Provider: "http", URL: sa.URL + "/stats", Queries: demoQueries},
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.At.Before(before) {
		t.Errorf("At = %v", s.At)
	}
	type want struct {
		value float64
		unit  string
		err   bool
	}
	wants := []struct {
		name string
		want
	}{
		{"active_users", want{0, "", false}},
		{"db_connections", want{0, "%", true}}, // the demo app has no DB: an error, never 0
		{"error_rate", want{0, "%", false}},
		{"failed_logins", want{0, "%", false}},
		{"latency_p95", want{-1, "ms", false}},
		{"slow_queries", want{0, "/h", true}},
	}
	if len(s.Values) != len(wants) {
		t.Fatalf("values = %+v", s.Values)
	}
	for i, w := range wants {
		v := s.Values[i]
		if v.Name != w.name || v.Unit != w.unit || (v.Error != "") != w.err || v.Query != demoQueries[w.name] {
			t.Errorf("value %d = %+v, want %s %+v", i, v, w.name, w.want)
		}
		if w.value >= 0 && v.Value != w.value {
			t.Errorf("%s = %v, want %v", v.Name, v.Value, w.value)
		}
	}
	if lat := s.Values[4]; lat.Value <= 0 || lat.Value > 100 {
		t.Errorf("latency = %v", lat.Value)
	}
}

func TestSampleProviderDownOrNotConfigured(t *testing.T) {
	m := &activities.Metrics{}
	s, err := m.Sample(context.Background(), activities.SampleInput{Metrics: spec.Metrics{Provider: "http", URL: closedURL() + "/stats", Queries: demoQueries}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s.Values {
		if v.Error == "" || v.Value != 0 {
			t.Errorf("provider down: %+v", v)
		}
	}
	s, err = m.Sample(context.Background(), activities.SampleInput{Metrics: spec.Metrics{Provider: "prometheus", URL: closedURL(), Queries: demoQueries}})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s.Values {
		if v.Error == "" || v.Value != 0 || v.Condition != "" {
			t.Errorf("prometheus down: %+v", v)
		}
	}
	s, err = m.Sample(context.Background(), activities.SampleInput{Metrics: spec.Metrics{Provider: "cloudwatch", Queries: demoQueries}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Values) != len(demoQueries) {
		t.Fatalf("values = %+v", s.Values)
	}
	for _, v := range s.Values {
		if !strings.HasPrefix(v.Error, "not configured: ") || !strings.Contains(v.Error, "cloudwatch") {
			t.Errorf("not configured: %+v", v)
		}
	}
}

// One check reads each metric from its own source: the application's numbers
// from its JSON endpoint, the database's from the real local PostgreSQL. A
// source that is down leaves its metrics unavailable and the others read.
func TestSampleReadsEachMetricFromItsSource(t *testing.T) {
	_, sa := demo(t, "1.0.0")
	resp, err := http.Get(sa.URL + demoapp.PathPatients)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	db := pgtest.NewDatabase(t)
	conn := pgtest.Connect(t, db) // one client connection the reading must count
	defer conn.Close(context.Background())
	ms := spec.Metrics{
		Provider: "http", URL: sa.URL + "/stats",
		Queries: map[string]string{"error_rate": "$.error_rate", "latency_p95": "$.latency_p95_ms"},
		Sources: []spec.MetricSource{
			{Provider: "postgres", URL: db, Queries: map[string]string{"db_connections": "connections", "answer": "SELECT 42"}},
			{Provider: "http", URL: "http://127.0.0.1:1/stats", Queries: map[string]string{"queue_depth": "$.depth"}},
		},
	}
	s, err := (&activities.Metrics{}).Sample(context.Background(), activities.SampleInput{ReleaseID: "r", Metrics: ms})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]activities.MetricValue{}
	var names []string
	for _, v := range s.Values {
		got[v.Name] = v
		names = append(names, v.Name)
	}
	if strings.Join(names, ",") != "answer,db_connections,error_rate,latency_p95,queue_depth" {
		t.Fatalf("metrics %v, want every source's, by name", names)
	}
	if v := got["answer"]; v.Error != "" || v.Value != 42 || v.Query != "SELECT 42" {
		t.Errorf("answer from PostgreSQL: %+v", v)
	}
	if v := got["db_connections"]; v.Error != "" || v.Value <= 0 || v.Value > 100 || v.Unit != "%" {
		t.Errorf("db_connections from PostgreSQL (this reading's connection excluded, the test's own counted): %+v", v)
	}
	if v := got["error_rate"]; v.Error != "" || v.Query != "$.error_rate" {
		t.Errorf("error_rate from the app: %+v", v)
	}
	if v := got["queue_depth"]; v.Error == "" || v.Value != 0 {
		t.Errorf("a source that is down must leave its metric unavailable, not 0: %+v", v)
	}
}
