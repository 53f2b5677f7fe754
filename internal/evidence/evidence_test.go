package evidence_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

const head = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var t0 = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

// rolledBack is a release that deployed, breached the error-rate rollback
// trigger on its third check and rolled back; one sign-off slot stayed empty.
func rolledBack() record.Status {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	reading := func(d time.Duration, metric string, v float64, unit string, verdict record.Verdict) record.Reading {
		return record.Reading{At: at(d), Metric: metric, Value: v, Unit: unit, Verdict: verdict}
	}
	check := func(i int, d time.Duration, worst record.Verdict, rs ...record.Reading) record.CheckReport {
		return record.CheckReport{Window: "watch", Index: i, Offset: d, Phase: "Hour 0-4 (Critical Period)", At: at(d), Readings: rs, Worst: worst}
	}
	return record.Status{
		ReleaseID: "release:patient-portal:production", Service: "patient-portal", Environment: "production",
		Version: "4.2.0", PreviousVersion: "4.1.3", LiveVersion: "4.1.3", Requester: "erin",
		SpecFile: "release.yaml", SpecDigest: "acc06ed61916d2b0c6b1e4c2b8c0a1f3",
		StartedAt: at(-5 * time.Hour), Window: t0, DeployAt: t0,
		Stage: record.StageDone, Outcome: record.OutcomeRolledBack, Reason: "error_rate 7.5% > rollback trigger 5%",
		AuditHead: head,
		Items: []record.Item{
			// Out of lifecycle order on purpose: the renderers group by stage.
			{ID: "deploy.app", Stage: record.StageDeploy, Title: "Deploy application code: Push to production", Mode: record.ModeStep,
				State: record.ItemPassed, Actor: "golive", At: at(30 * time.Second), Value: "4.2.0 live (previous 4.1.3)"},
			{ID: "env.database", Stage: record.StageReadiness, Section: "Environment Setup", Title: "Production database provisioned and accessible",
				Mode: record.ModeAuto, State: record.ItemPassed, Actor: "golive", At: at(-5 * time.Hour), Value: "select 1 in 3ms"},
			{ID: "env.variables", Stage: record.StageReadiness, Section: "Environment Setup", Title: "Environment variables configured (`.env.production`)",
				Mode: record.ModeAuto, State: record.ItemPassed, Actor: "golive", At: at(-5 * time.Hour), Value: "HTTP 200 in 2ms"},
			{ID: "env.domain", Stage: record.StageReadiness, Section: "Environment Setup", Title: "Custom domain configured with SSL/TLS",
				Mode: record.ModeAuto, State: record.ItemFailed, Optional: true, Actor: "golive", At: at(-5 * time.Hour), Value: "certificate expires in 3 days", Detail: "x509: expires 2026-11-23"},
			{ID: "db.rls", Stage: record.StageReadiness, Section: "Database", Title: "RLS policies reviewed and tested on all tables",
				Mode: record.ModeAuto, State: record.ItemUnavailable, Actor: "golive", At: at(-5 * time.Hour), Detail: "not configured: database.url is not set"},
			{ID: "sec.audit", Stage: record.StageReadiness, Section: "Security", Title: "Security audit completed with no critical vulnerabilities",
				Mode: record.ModeAttest, Role: "compliance_officer", State: record.ItemPassed, Actor: "carol", At: at(-4*time.Hour - 50*time.Minute), Value: "attested"},
			{ID: "rollback.revert", Stage: record.StageRollback, Section: "Rollback Steps", Title: "Revert application code: Deploy previous version",
				Mode: record.ModeStep, State: record.ItemPassed, Actor: "golive", At: at(7 * time.Minute), Value: "4.1.3 live again"},
			{ID: "rollback.root_cause", Stage: record.StageRollback, Section: "Post-Rollback Actions", Title: "Root cause analysis completed",
				Mode: record.ModeAttest, Role: "development_lead", State: record.ItemPending},
		},
		Slots: []record.SlotState{
			{Block: "approvals", ID: "development_lead", Title: "Development Lead", Role: "development_lead", MinPeople: 1, State: record.ItemPassed,
				By: []record.SignedBy{{Person: "alice", Name: "Alice Adams", At: at(-4 * time.Hour), Decision: "approve", Signed: true, Comment: "tests green"}}},
			{Block: "approvals", ID: "operations_lead", Title: "Operations Lead", Role: "operations_lead", MinPeople: 1, State: record.ItemPassed,
				By: []record.SignedBy{{Person: "bob", Name: "Bob Brown", At: at(-4 * time.Hour), Decision: "approve"}}},
			{Block: "completion", ID: "engineer", Title: "Engineer", Role: "engineer", MinPeople: 1, State: record.ItemSkipped},
		},
		Refused: []record.Refusal{{At: at(-4 * time.Hour), Input: "signoff", Person: "erin", Slot: "operations_lead", Reason: "the requester cannot approve"}},
		Baseline: []record.Reading{
			reading(-10*time.Second, "error_rate", 0.2, "%", record.VerdictOK),
			reading(-10*time.Second, "latency_p95", 180, "ms", record.VerdictOK),
			reading(-10*time.Second, "db_connections", 0, "%", record.VerdictUnavailable),
		},
		Checks: []record.CheckReport{
			check(1, 2*time.Minute, record.VerdictOK, reading(2*time.Minute, "error_rate", 0.3, "%", record.VerdictOK),
				reading(2*time.Minute, "latency_p95", 190, "ms", record.VerdictOK), reading(2*time.Minute, "db_connections", 0, "%", record.VerdictUnavailable)),
			check(2, 4*time.Minute, record.VerdictCritical, reading(4*time.Minute, "error_rate", 1.4, "%", record.VerdictCritical),
				reading(4*time.Minute, "latency_p95", 240, "ms", record.VerdictOK), reading(4*time.Minute, "db_connections", 41, "%", record.VerdictOK)),
			check(3, 6*time.Minute, record.VerdictRollback, reading(6*time.Minute, "error_rate", 7.5, "%", record.VerdictRollback),
				reading(6*time.Minute, "latency_p95", 310, "ms", record.VerdictTargetMissed), reading(6*time.Minute, "db_connections", 44, "%", record.VerdictOK)),
		},
		Alerts:   []record.Alert{{ID: "A1", Level: 3, Reason: "error_rate 7.5% > 5%", RaisedAt: at(6 * time.Minute), Sent: 2, AckedBy: "alice", AckedAt: at(7 * time.Minute)}},
		Compare:  []record.Comparison{{Metric: "error_rate", Unit: "%", Baseline: 0.2, After: 3.07, Regression: true}},
		Rollback: &record.RollbackState{Trigger: "error_rate 7.5% > rollback trigger 5%", By: "golive", At: at(6*time.Minute + 5*time.Second), Completed: true},
	}
}

// parse parses a rendered page; the HTML5 parser accepts anything, so the
// checks below look at the tree it builds.
func parse(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// find returns the elements below n for which ok holds, in document order.
func find(n *html.Node, ok func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && ok(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func tag(name string) func(*html.Node) bool { return func(n *html.Node) bool { return n.Data == name } }

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// text is the text content of n, whitespace collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func byID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	nodes := find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
	if len(nodes) != 1 {
		t.Fatalf("want one element #%s, got %d", id, len(nodes))
	}
	return nodes[0]
}

func TestHTMLIsSelfContainedAndPrints(t *testing.T) {
	page := evidence.HTML(rolledBack())
	doc := parse(t, page)
	for _, name := range []string{"script", "link", "iframe", "img", "object"} {
		if n := find(doc, tag(name)); len(n) > 0 {
			t.Errorf("page has a <%s>: not self-contained", name)
		}
	}
	for _, n := range find(doc, func(n *html.Node) bool { return attr(n, "src") != "" }) {
		t.Errorf("<%s src=%q>: not self-contained", n.Data, attr(n, "src"))
	}
	for _, a := range find(doc, tag("a")) {
		if href := attr(a, "href"); !strings.HasPrefix(href, "#") {
			t.Errorf("link to %q leaves the page", href)
		}
	}
	style := find(doc, tag("style"))
	if len(style) != 1 {
		t.Fatalf("want one inline <style>, got %d", len(style))
	}
	css := text(style[0])
	for _, want := range []string{"@page", "@media print", "break-inside:avoid", "thead{display:table-header-group}", "print-color-adjust:exact"} {
		if !strings.Contains(css, want) {
			t.Errorf("print CSS lacks %q", want)
		}
	}
	if strings.Contains(page, "@import") || strings.Contains(page, "url(") {
		t.Error("CSS loads something from elsewhere")
	}
	if strings.Contains(page, "NaN") || strings.Contains(page, "Inf") {
		t.Error("page contains NaN/Inf")
	}
}

func TestHTMLChecklistTablesOnePerSection(t *testing.T) {
	st := rolledBack()
	doc := parse(t, evidence.HTML(st))
	tables := find(doc, func(n *html.Node) bool { return n.Data == "table" && hasClass(n, "items") })
	// Sections: Environment Setup, Database, Security, deploy (no section), Rollback Steps, Post-Rollback Actions.
	if len(tables) != 6 {
		t.Fatalf("want 6 checklist tables (one per section), got %d", len(tables))
	}
	rows := find(doc, func(n *html.Node) bool { return n.Data == "tr" && strings.HasPrefix(attr(n, "id"), "item-") })
	if len(rows) != len(st.Items) {
		t.Fatalf("want one row per item (%d), got %d", len(st.Items), len(rows))
	}
	// Lifecycle order: readiness before deploy before rollback, whatever the record's order.
	var order []string
	for _, r := range rows {
		order = append(order, strings.TrimPrefix(attr(r, "id"), "item-"))
	}
	if got, want := strings.Join(order, " "), "env.database env.variables env.domain db.rls sec.audit deploy.app rollback.revert rollback.root_cause"; got != want {
		t.Errorf("item order\n got %s\nwant %s", got, want)
	}
	cases := []struct {
		id, class, box string
		cells          []string
	}{
		{"env.database", "s-passed", "✓", []string{"Production database provisioned and accessible", "select 1 in 3ms", "golive", "2026-11-20 17:00:00Z"}},
		{"sec.audit", "s-passed", "✓", []string{"Security audit completed", "attested", "carol", "2026-11-20 17:10:00Z"}},
		{"env.domain", "s-failed", "✗", []string{"Custom domain configured with SSL/TLS failed optional", "certificate expires in 3 days x509: expires 2026-11-23"}},
		{"db.rls", "s-unavailable", "?", []string{"not available", "not configured: database.url is not set"}},
		{"rollback.root_cause", "s-pending", "", []string{"Root cause analysis completed not done"}},
	}
	for _, c := range cases {
		row := byID(t, doc, "item-"+c.id)
		if !hasClass(row, c.class) {
			t.Errorf("%s: class %q, want %s", c.id, attr(row, "class"), c.class)
		}
		tds := find(row, tag("td"))
		if len(tds) != 5 {
			t.Fatalf("%s: %d cells, want box, item, value, by, when", c.id, len(tds))
		}
		if got := text(tds[0]); got != c.box {
			t.Errorf("%s: box %q, want %q", c.id, got, c.box)
		}
		all := text(row)
		for _, want := range c.cells {
			if !strings.Contains(all, want) {
				t.Errorf("%s: row %q lacks %q", c.id, all, want)
			}
		}
	}
	// Code spans in titles are rendered as code.
	if codes := find(byID(t, doc, "item-env.variables"), tag("code")); len(codes) != 1 || text(codes[0]) != ".env.production" {
		t.Errorf("title code span not rendered: %d <code>", len(codes))
	}
	summary := text(byID(t, doc, "summary"))
	for _, want := range []string{"Pre-Deployment Checklist 5 3 1 1 0 0", "Deployment (T-0) 1 1 0 0 0 0", "Rollback Procedures 2 1 0 0 0 1"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %q", summary, want)
		}
	}
}

func TestHTMLSignoffBlock(t *testing.T) {
	doc := parse(t, evidence.HTML(rolledBack()))
	sec := byID(t, doc, "signoffs")
	if got := text(sec); !strings.Contains(got, "Deployment Approved By:") || !strings.Contains(got, "Deployment Completed By:") {
		t.Fatalf("sign-off blocks missing: %q", got)
	}
	rows := find(sec, func(n *html.Node) bool {
		return n.Data == "tr" && (hasClass(n, "s-passed") || hasClass(n, "s-skipped") || hasClass(n, "s-failed"))
	})
	want := []string{
		"✓ Development Lead Alice Adams (alice) 2026-11-20 18:00:00Z approved verified “tests green”",
		"✓ Operations Lead Bob Brown (bob) 2026-11-20 18:00:00Z approved unsigned",
		"Engineer _________________ __________ skipped",
	}
	if len(rows) != len(want) {
		t.Fatalf("want %d sign-off rows, got %d", len(want), len(rows))
	}
	for i, r := range rows {
		if got := text(r); got != want[i] {
			t.Errorf("sign-off row %d\n got %q\nwant %q", i, got, want[i])
		}
	}
	if got := text(sec); !strings.Contains(got, "Refused inputs") || !strings.Contains(got, "the requester cannot approve") {
		t.Errorf("refused input missing: %q", got)
	}
}

func TestHTMLChartsAndReadings(t *testing.T) {
	st := rolledBack()
	doc := parse(t, evidence.HTML(st))
	metrics := byID(t, doc, "metrics")
	figs := find(metrics, tag("figure"))
	if len(figs) != 3 {
		t.Fatalf("want a chart per metric (3), got %d", len(figs))
	}
	chart := byID(t, doc, "chart-error_rate")
	svg := find(chart, tag("svg"))
	if len(svg) != 1 || attr(svg[0], "viewBox") == "" {
		t.Fatal("error_rate chart is not an inline SVG with a viewBox")
	}
	circles := find(svg[0], tag("circle"))
	if len(circles) != len(st.Checks) {
		t.Errorf("want one marker per check (%d), got %d", len(st.Checks), len(circles))
	}
	// The last point is the rollback trigger: red; the second critical.
	if fill := attr(circles[2], "fill"); fill != "#b00020" {
		t.Errorf("rollback reading drawn %s", fill)
	}
	if fill := attr(circles[1], "fill"); fill != "#d4380d" {
		t.Errorf("critical reading drawn %s", fill)
	}
	labels := text(svg[0])
	// A six-minute watch (rollback at +6m05s) reads in minutes.
	for _, want := range []string{"deploy", "rollback", "baseline 0.2%", "0m", "6m", "7m", "minutes since deploy"} {
		if !strings.Contains(labels, want) {
			t.Errorf("error_rate chart lacks %q: %q", want, labels)
		}
	}
	if len(find(svg[0], tag("polyline"))) != 1 {
		t.Error("error_rate chart has no line")
	}
	// db_connections was not measured at first: a × marker, no circle.
	dbc := find(byID(t, doc, "chart-db_connections"), func(n *html.Node) bool { return n.Data == "text" && hasClass(n, "unavailable") })
	if len(dbc) != 1 {
		t.Errorf("want one not-measured marker on db_connections, got %d", len(dbc))
	}
	// The readings table has a column per metric.
	table := find(metrics, func(n *html.Node) bool { return n.Data == "table" && hasClass(n, "readings") })
	if len(table) != 1 {
		t.Fatal("no readings table")
	}
	head := text(find(table[0], tag("thead"))[0])
	if head != "Window Check Offset Phase error_rate latency_p95 db_connections Verdict" {
		t.Errorf("readings header %q", head)
	}
	rows := find(table[0], tag("tr"))
	if got := text(rows[len(rows)-1]); got != "watch 3 +6m0s Hour 0-4 (Critical Period) 7.5% 310ms 44% rollback" {
		t.Errorf("last check row %q", got)
	}
	if got := text(rows[1]); got != "baseline – – before deploy 0.2% 180ms n/a –" {
		t.Errorf("baseline row %q", got)
	}
}

func TestHTMLRollbackRecordAndAuditHead(t *testing.T) {
	st := rolledBack()
	doc := parse(t, evidence.HTML(st))
	rb := text(byID(t, doc, "rollback"))
	for _, want := range []string{"Rollback record", "Trigger error_rate 7.5% > rollback trigger 5%", "Decided by golive",
		"Decided at (UTC) 2026-11-20 22:06:05Z", "Reverted to 4.1.3", "Completed yes"} {
		if !strings.Contains(rb, want) {
			t.Errorf("rollback record %q lacks %q", rb, want)
		}
	}
	audit := find(doc, func(n *html.Node) bool { return n.Data == "p" && hasClass(n, "audit") })
	if len(audit) != 2 {
		t.Fatalf("want the audit chain head at the top and in the footer, got %d", len(audit))
	}
	if code := find(audit[0], tag("code")); len(code) == 0 || text(code[0]) != head {
		t.Errorf("audit chain head line %q", text(audit[0]))
	}

	st.AuditHead = ""
	if got := text(find(parse(t, evidence.HTML(st)), func(n *html.Node) bool { return hasClass(n, "audit") })[0]); got != "Audit chain head: not recorded (no audit ledger configured for this release)" {
		t.Errorf("no audit head: %q", got)
	}
	st.AuditHead = "not configured: no audit ledger URL on this worker"
	if got := text(find(parse(t, evidence.HTML(st)), func(n *html.Node) bool { return hasClass(n, "audit") })[0]); got != "Audit chain head: not configured: no audit ledger URL on this worker" {
		t.Errorf("audit head note: %q", got)
	}

	st.Rollback = nil
	if strings.Contains(evidence.HTML(st), "Rollback record") {
		t.Error("a release without rollback shows a rollback record")
	}
}

func TestHTMLEscapesEverything(t *testing.T) {
	st := rolledBack()
	evil := `<script>alert("x")</script>&<img src=x onerror=alert(1)>`
	st.Service = evil
	st.Items[1].Title = evil
	st.Items[1].Value = evil
	st.Items[1].Actor = evil
	st.Slots[0].By[0].Comment = evil
	st.Checks[0].Readings[0].Metric = evil
	st.Rollback.Trigger = evil
	page := evidence.HTML(st)
	doc := parse(t, page)
	if n := find(doc, tag("script")); len(n) > 0 {
		t.Fatal("a <script> got through")
	}
	if n := find(doc, tag("img")); len(n) > 0 {
		t.Fatal("an <img> got through")
	}
	if !strings.Contains(text(doc), `<script>alert("x")</script>`) {
		t.Error("escaped text not shown as typed")
	}
}

func TestMarkdown(t *testing.T) {
	md := evidence.Markdown(rolledBack())
	for _, want := range []string{
		"# Release patient-portal production → 4.2.0\n",
		"| Outcome | rolled back |\n",
		"Audit chain head: `" + head + "`\n",
		"## Pre-Deployment Checklist\n\n_3 of 5 passed · 1 failed · 1 not available_\n",
		"### Environment Setup\n",
		"- [x] Production database provisioned and accessible — select 1 in 3ms, by golive, 2026-11-20 17:00:00Z\n",
		"- [!] Custom domain configured with SSL/TLS — certificate expires in 3 days, by golive, 2026-11-20 17:00:00Z, failed, optional\n  - x509: expires 2026-11-23\n",
		"- [?] RLS policies reviewed and tested on all tables — by golive, 2026-11-20 17:00:00Z, unavailable\n",
		"- [ ] Root cause analysis completed — pending\n",
		"**Deployment Approved By:**\n\n- [x] Development Lead: Alice Adams (alice) Date: 2026-11-20 18:00:00Z, approved, signature verified — \"tests green\"\n",
		"- [ ] Engineer: _________________ Date: _______ (skipped)\n",
		"| window | check | offset | phase | error_rate | latency_p95 | db_connections | verdict |\n",
		"| watch | 3 | +6m0s | Hour 0-4 (Critical Period) | 7.5% | 310ms | 44% | rollback |\n",
		"| error_rate | 0.2% | 3.07% | yes |\n",
		"## Rollback record\n\n- Trigger: error_rate 7.5% > rollback trigger 5%\n- Decided by: golive at 2026-11-20 22:06:05Z\n- Reverted to: 4.1.3\n- Completed: yes\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks\n%s", want)
		}
	}
	// Stages come in lifecycle order whatever the record's order.
	if a, b := strings.Index(md, "## Pre-Deployment Checklist"), strings.Index(md, "## Deployment (T-0)"); a < 0 || b < a {
		t.Errorf("stage order: readiness at %d, deploy at %d", a, b)
	}
}

func TestChartsSurviveOddRecords(t *testing.T) {
	cases := map[string]func(*record.Status){
		"one check, no deploy time": func(st *record.Status) {
			st.Checks = st.Checks[:1]
			st.DeployAt, st.Rollback = time.Time{}, nil
		},
		"every reading unavailable": func(st *record.Status) {
			for i := range st.Checks {
				for j := range st.Checks[i].Readings {
					st.Checks[i].Readings[j].Verdict = record.VerdictUnavailable
				}
			}
			st.Baseline = nil
		},
		"readings at one instant": func(st *record.Status) {
			for i := range st.Checks {
				st.Checks[i].At = t0
				for j := range st.Checks[i].Readings {
					st.Checks[i].Readings[j].At = t0
				}
			}
			st.DeployAt, st.Rollback, st.Baseline = time.Time{}, nil, nil
		},
		"negative and huge values": func(st *record.Status) {
			st.Checks[0].Readings[0].Value = -3
			st.Checks[1].Readings[0].Value = 123456789
		},
		"a 30-hour watch": func(st *record.Status) {
			st.Checks[2].At = t0.Add(30 * time.Hour)
			for j := range st.Checks[2].Readings {
				st.Checks[2].Readings[j].At = t0.Add(30 * time.Hour)
			}
		},
		"no readings at all": func(st *record.Status) { st.Checks, st.Baseline, st.Compare = nil, nil, nil },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			st := rolledBack()
			mutate(&st)
			th := spec.Defaults().Thresholds
			withLines := evidence.HTMLWith(st, evidence.Options{Thresholds: &th})
			page := evidence.HTML(st)
			for _, bad := range []string{"NaN", "Inf", "%!"} {
				if strings.Contains(withLines, bad) {
					i := strings.Index(withLines, bad)
					t.Errorf("page with thresholds contains %q: …%s…", bad, withLines[max(0, i-80):min(len(withLines), i+40)])
				}
				if strings.Contains(page, bad) {
					i := strings.Index(page, bad)
					t.Errorf("page contains %q: …%s…", bad, page[max(0, i-80):min(len(page), i+40)])
				}
			}
			doc := parse(t, page)
			if len(st.Checks) == 0 {
				if n := find(doc, func(n *html.Node) bool { return attr(n, "id") == "metrics" }); len(n) != 0 {
					t.Error("metrics section without readings")
				}
				return
			}
			if n := len(find(doc, tag("svg"))); n != 3 {
				t.Errorf("%d charts, want 3", n)
			}
		})
	}
}

func TestNumbersReadWell(t *testing.T) {
	st := rolledBack()
	st.Checks = st.Checks[:1]
	for v, want := range map[float64]string{0: "0", 0.5: "0.5", 4.36: "4.36", 12.345: "12.35", 187.25: "187.2", 1234.5: "1234", 0.0042: "0.0042"} {
		st.Checks[0].Readings[0].Value = v
		if md := evidence.Markdown(st); !strings.Contains(md, fmt.Sprintf("| %s%% |", want)) {
			t.Errorf("%v rendered, want %s%%", v, want)
		}
	}
}

func TestHTMLWithThresholds(t *testing.T) {
	th := spec.Defaults().Thresholds
	st := rolledBack()
	doc := parse(t, evidence.HTMLWith(st, evidence.Options{Thresholds: &th}))
	// A six-minute watch, now with the checklist's lines.
	svg := find(byID(t, doc, "chart-error_rate"), tag("svg"))[0]
	if !hasClass(svg, "chart") {
		t.Fatalf("short watch drawn with class %q, want chart", attr(svg, "class"))
	}
	var kinds []string
	for _, l := range find(svg, func(n *html.Node) bool { return n.Data == "line" && hasClass(n, "threshold") }) {
		kinds = append(kinds, strings.Fields(attr(l, "class"))[1])
	}
	if got := strings.Join(kinds, " "); got != "target critical rollback baseline" {
		t.Errorf("error_rate threshold lines %q", got)
	}
	labels := text(svg)
	for _, want := range []string{"target " + num(float64(th.Targets.ErrorRate)) + "%", "critical " + num(float64(th.Critical.ErrorRate)) + "%",
		"rollback " + num(float64(th.Rollback.ErrorRate)) + "%", "baseline 0.2%"} {
		if !strings.Contains(labels, want) {
			t.Errorf("error_rate chart lacks label %q: %q", want, labels)
		}
	}
	// Labels never overlap: at least 12 units apart.
	var ys []float64
	for _, n := range find(svg, func(n *html.Node) bool {
		return n.Data == "text" && hasClass(n, "threshold-label")
	}) {
		var y float64
		fmt.Sscan(attr(n, "y"), &y)
		ys = append(ys, y)
	}
	if len(ys) != 4 {
		t.Errorf("%d threshold labels on error_rate, want target, critical, rollback, baseline", len(ys))
	}
	for i := range ys {
		for j := i + 1; j < len(ys); j++ {
			if d := ys[i] - ys[j]; d > -11.9 && d < 11.9 {
				t.Errorf("labels at y=%v and y=%v overlap", ys[i], ys[j])
			}
		}
	}

	// p95 readings of 190-310ms: the axis reaches the 500ms target; the 2s
	// critical limit would flatten them, so it is named as off the scale.
	lat := find(byID(t, doc, "chart-latency_p95"), tag("svg"))[0]
	var latKinds []string
	for _, l := range find(lat, func(n *html.Node) bool { return n.Data == "line" && hasClass(n, "threshold") }) {
		latKinds = append(latKinds, strings.Fields(attr(l, "class"))[1])
	}
	if got := strings.Join(latKinds, " "); got != "target rollback baseline" {
		t.Errorf("latency_p95 threshold lines on the scale: %q, want target rollback baseline", got)
	}
	if got := text(lat); !strings.Contains(got, "↑ critical 2000ms") {
		t.Errorf("latency_p95 chart does not name the off-scale critical line: %q", got)
	}

	// A real watch (hours): the same renderer, its time axis in hours.
	for i := range st.Checks {
		d := time.Duration(i+1) * 4 * time.Hour
		st.Checks[i].At = t0.Add(d)
		for j := range st.Checks[i].Readings {
			st.Checks[i].Readings[j].At = t0.Add(d)
		}
	}
	st.Rollback.At = t0.Add(12*time.Hour + time.Minute)
	doc = parse(t, evidence.HTMLWith(st, evidence.Options{Thresholds: &th}))
	figs := find(byID(t, doc, "metrics"), tag("figure"))
	if len(figs) != 3 {
		t.Fatalf("%d charts, want 3", len(figs))
	}
	for _, f := range figs {
		svg := find(f, tag("svg"))
		if len(svg) != 1 || !hasClass(svg[0], "chart") {
			t.Errorf("%s: long watch not drawn as a chart", attr(f, "id"))
		}
	}
	if !strings.Contains(text(byID(t, doc, "chart-error_rate")), "hours since deploy") {
		t.Error("long-watch chart has no hour axis")
	}
}

// num mirrors how the charts print a threshold (no trailing zeros).
func num(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
