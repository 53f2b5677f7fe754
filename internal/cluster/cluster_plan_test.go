package cluster_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/cluster"
)

func plan(t *testing.T, o cluster.Options) *cluster.Plan {
	t.Helper()
	// The compose defaults, whatever the developer's shell holds (empty = unset for ${VAR:-default}).
	for _, k := range []string{"TEMPORAL_HISTORY_SHARDS", "TEMPORAL_NAMESPACE"} {
		t.Setenv(k, "")
	}
	o.Root, o.StateDir = "../..", t.TempDir()
	pl, err := cluster.NewPlan(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func TestThePlanIsTheComposeTemporalServiceOnLoopback(t *testing.T) {
	pl := plan(t, cluster.Options{})
	want := map[string]string{
		"DB":                 "postgres12", // from the compose file
		"NUM_HISTORY_SHARDS": "4",          // ${TEMPORAL_HISTORY_SHARDS:-4}
		"POSTGRES_USER":      "postgres",   // the local server's user, interpolated into ${POSTGRES_USER:-temporal}
		"POSTGRES_SEEDS":     "127.0.0.1",
		"DB_PORT":            "5432",
		"BIND_ON_IP":         "127.0.0.1",
	}
	for k, v := range want {
		if pl.Server[k] != v {
			t.Errorf("%s = %q, want %q", k, pl.Server[k], v)
		}
	}
	if _, ok := pl.Changed["BIND_ON_IP"]; !ok {
		t.Error("the change of BIND_ON_IP is not listed")
	}
	if pl.Namespace != "default" || pl.Retention != 30*24*time.Hour {
		t.Errorf("namespace %q retention %s, want default and 30 days (temporal-setup)", pl.Namespace, pl.Retention)
	}
	if pl.Schema["SQL_PLUGIN"] != "postgres12" || pl.Schema["SQL_HOST"] != "127.0.0.1" {
		t.Errorf("schema job environment %v", pl.Schema)
	}
	if !slices.Equal(pl.Databases, []string{"temporal", "temporal_visibility"}) {
		t.Errorf("databases %v", pl.Databases)
	}
}

func TestEachServiceGetsItsOwnPortsAndMetricsEndpoint(t *testing.T) {
	pl := plan(t, cluster.Options{})
	env := map[string]string{}
	for _, kv := range pl.ServiceEnv(cluster.History) {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range map[string]string{
		"HISTORY_GRPC_PORT": "7234", "FRONTEND_GRPC_PORT": "7233", "MATCHING_MEMBERSHIP_PORT": "6935",
		"PROMETHEUS_ENDPOINT": "127.0.0.1:8001",
	} {
		if env[k] != v {
			t.Errorf("history: %s = %q, want %q", k, env[k], v)
		}
	}
	if pl.Frontend != "127.0.0.1:7233" {
		t.Errorf("frontend %s", pl.Frontend)
	}
}

func TestFreePortsStayBelowTheMembershipColumnsRange(t *testing.T) {
	pl := plan(t, cluster.Options{FreePorts: true, DatabasePrefix: "x_"})
	for _, m := range []map[string]int{pl.Ports.GRPC, pl.Ports.Membership, pl.Ports.Metrics} {
		for svc, p := range m {
			if p <= 0 || p >= 32768 {
				t.Errorf("%s: port %d", svc, p)
			}
		}
	}
	if pl.Databases[0] != "x_temporal" || pl.Server["VISIBILITY_DBNAME"] != "x_temporal_visibility" {
		t.Errorf("databases %v, visibility %q", pl.Databases, pl.Server["VISIBILITY_DBNAME"])
	}
}

func TestNoPasswordIsKeptInThePlan(t *testing.T) {
	pl := plan(t, cluster.Options{PGPassword: "s3cret"})
	b, err := json.Marshal(pl)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "s3cret") {
		t.Error("the plan holds the password")
	}
	if !slices.Contains(pl.ServiceEnv(cluster.Frontend), "POSTGRES_PWD=s3cret") {
		t.Error("the frontend does not get the password")
	}
}

func TestExtraDynamicConfigIsAddedToTheComposeOnes(t *testing.T) {
	extra := "history.transferProcessorMaxPollRPS:\n  - value: 10000\n"
	pl := plan(t, cluster.Options{DynamicConfig: extra})
	if !strings.Contains(pl.DynamicConfig(), "limit.maxIDLength:") || !strings.HasSuffix(pl.DynamicConfig(), "\n"+extra) {
		t.Errorf("dynamic config %q: want the compose file's, then %q", pl.DynamicConfig(), extra)
	}
	if _, ok := pl.Changed["dynamic config"]; !ok {
		t.Error("the added dynamic config is not listed in the changes")
	}
	if d := plan(t, cluster.Options{}).DynamicConfig(); strings.Contains(d, "transferProcessor") {
		t.Errorf("dynamic config without additions: %q", d)
	}
}
