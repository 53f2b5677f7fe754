//go:build cluster

package worker_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/pgutil"
)

// clusterEffects is golive's own database the cluster's workers share: the
// audit ledger, the notification dedupe ledger and the evidence store, as a
// production deployment of several workers has it.
type clusterEffects struct{ url string }

func goliveDatabase(t *testing.T) clusterEffects {
	url := pgtest.NewDatabase(t)
	initLedger(t, url) // golive db init: the audit ledger; the other two tables the workers create
	return clusterEffects{url: url}
}

// name is the database's name, for the connection figures.
func (e clusterEffects) name(t *testing.T) string {
	cfg, err := pgx.ParseConfig(e.url)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

func (e clusterEffects) env() []string {
	return []string{activities.EnvAuditURL + "=" + e.url, evidencestore.EnvStore + "=" + string(evidencestore.BackendPostgres)}
}

// checkOncePerKey checks, for every release of a round (app k = first + i),
// each side effect once at its target, as the kill harness does
// (internal/faults): one deploy switch under the release's key at its app, no
// audit batch appended twice (each row's key is run/activity/index, and no two
// rows of a release hold the same event), and exactly the evidence pack's two
// documents for the run, each matching its digest and seal.
func (e clusterEffects) checkOncePerKey(ctx context.Context, t *testing.T, round string, apps *appFarm, first int, runs []client.WorkflowRun) {
	t.Helper()
	conn := pgtest.Connect(t, e.url)
	cfg := conn.Config()
	st, err := evidencestore.OpenPostgres(ctx, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deploys, rows := 0, 0
	for i, run := range runs {
		if run == nil {
			continue
		}
		id, runID := run.GetID(), run.GetRunID()
		log := apps.apps[first+i].DeployLog()
		want := id + ":" + runID + ":deploy:1.1.0"
		if len(log) != 1 || log[0].Key != want || log[0].To != "1.1.0" {
			t.Errorf("%s: %s: deploy log %+v; want one switch to 1.1.0 under %s", round, id, log, want)
		}
		deploys += len(log)
		var n, distinct, keys int
		if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT (kind, actor, action, reason, data, at)), count(DISTINCT key)
			FROM golive_audit WHERE release_id = $1 OR starts_with(release_id, $1 || '/')`, id).Scan(&n, &distinct, &keys); err != nil {
			t.Fatal(pgutil.Redact(err, cfg))
		}
		if n == 0 || distinct != n || keys != n {
			t.Errorf("%s: %s: %d audit rows, %d distinct events, %d distinct keys; want all equal and > 0", round, id, n, distinct, keys)
		}
		rows += n
		e.checkEvidence(ctx, t, st, round, id, runID)
	}
	t.Logf("%s: side effects once per key: %d deploy switches, %d audit rows, %d evidence documents for %d releases", round, deploys, rows, 2*len(runs), len(runs))
}

func (e clusterEffects) checkEvidence(ctx context.Context, t *testing.T, st *evidencestore.Postgres, round, id, runID string) {
	t.Helper()
	rs, err := st.List(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := map[evidence.Kind]int{}
	for _, r := range rs {
		if r.RunID != runID {
			continue
		}
		got[r.Kind]++
		if err := evidencestore.Verify(r); err != nil {
			t.Errorf("%s: %v", round, err)
		}
	}
	if len(got) != 2 || got[evidence.KindMarkdown] != 1 || got[evidence.KindHTML] != 1 {
		t.Errorf("%s: %s run %s: evidence %v; want one Markdown and one HTML document", round, id, runID, got)
	}
}
