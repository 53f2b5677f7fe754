package evidence

import (
	"fmt"
	"html"
	"strings"

	"github.com/golive/golive/internal/charts"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// css is the page's only style sheet: inline, no web fonts, print rules for A4.
const css = `
:root{--ok:#1a7f37;--bad:#b00020;--warn:#9a6700;--muted:#57606a;--line:#d0d7de;--head:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 "DejaVu Sans",system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;max-width:64rem;margin:1.5rem auto;padding:0 1.25rem}
h1{font-size:1.7rem;margin:.1rem 0 .6rem}
h2{font-size:1.25rem;border-bottom:2px solid var(--line);padding-bottom:.2rem;margin:2rem 0 .4rem}
h3{font-size:1.02rem;margin:1.1rem 0 .35rem}
.kicker{text-transform:uppercase;letter-spacing:.08em;font-size:.75rem;color:var(--muted);margin:0}
.tally{color:var(--muted);margin:.1rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 .6rem}
th,td{border:1px solid var(--line);padding:.28rem .5rem;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600}
td{overflow-wrap:anywhere}
table.facts{width:auto;min-width:60%}
table.items,table.signoffs{table-layout:fixed}
table.items th.item{width:36%}
table.signoffs th.slot{width:11rem}table.signoffs th.name{width:12rem}
table.facts th{width:13rem}
td.c,th.c{text-align:center;width:2.2rem}
td.n,th.n{text-align:right;white-space:nowrap}
td.when,th.when{white-space:nowrap;width:11.5rem}
td.by,th.by{width:7rem}
.box{display:inline-block;width:1.05rem;height:1.05rem;line-height:1rem;border:1.5px solid #6e7781;border-radius:2px;font-weight:700;font-size:.85rem;text-align:center}
.s-passed .box{border-color:var(--ok);color:var(--ok)}
.s-failed .box{border-color:var(--bad);color:var(--bad)}
.s-unavailable .box{border-color:var(--warn);color:var(--warn)}
.s-skipped .box{color:var(--muted)}
tr.s-failed td{background:#ffebe9}
tr.s-unavailable td{background:#fff8c5}
tr.s-skipped td{color:var(--muted)}
.tag{display:inline-block;font-size:.72rem;border:1px solid currentColor;border-radius:3px;padding:0 .3rem;margin-left:.35rem;color:var(--muted);white-space:nowrap}
.tag.failed,.tag.rejected{color:var(--bad)}.tag.unavailable{color:var(--warn)}
.detail{display:block;color:var(--muted);font-size:.85em;margin-top:.15rem}
.blank{color:#8c959f;letter-spacing:.05em}
.outcome{display:inline-block;font-weight:700;padding:.15rem .6rem;border-radius:4px;border:1.5px solid currentColor;margin:.1rem 0 .8rem}
.o-completed{color:var(--ok)}.o-rolled_back,.o-failed,.o-rejected{color:var(--bad)}
.o-running,.o-aborted,.o-not_ready,.o-timed_out{color:var(--warn)}
.audit{font-size:.95rem;margin:.6rem 0}
.audit code,code{font-family:"DejaVu Sans Mono",ui-monospace,monospace;font-size:.88em;background:var(--head);padding:.05rem .3rem;border-radius:3px;overflow-wrap:anywhere}
figure{margin:.4rem 0 1rem;break-inside:avoid}
figcaption{font-weight:600;margin-bottom:.15rem}
svg.chart{display:block;max-width:46rem;width:100%;height:auto}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.7rem;height:.7rem;border-radius:50%;margin-right:.3rem;vertical-align:-.05rem}
.v-ok{color:var(--ok)}.v-target_missed{color:#b26b00}.v-critical{color:#d4380d}.v-rollback{color:var(--bad);font-weight:700}
.v-unavailable,.v-inconclusive{color:var(--muted)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
footer{margin-top:2.5rem;border-top:1px solid var(--line);padding-top:.5rem;color:var(--muted);font-size:.85rem}
@page{size:A4;margin:14mm 12mm}
@media print{
 body{font-size:9.5pt;max-width:none;margin:0;padding:0}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 h2,h3{break-after:avoid}
 thead{display:table-header-group}
 tr,figure,svg{break-inside:avoid}
 table.facts{min-width:0}
}
`

// Options add to the page what the release record does not hold.
type Options struct {
	// Thresholds are the spec's checklist thresholds. With them the metric
	// charts (internal/charts) draw the T+1h target, critical limit and
	// rollback trigger lines.
	Thresholds *spec.Thresholds
}

// HTML renders the filled checklist as a self-contained page: inline CSS and
// SVG, no scripts, no external assets. It prints to PDF (A4) cleanly. Its
// charts have no threshold lines: see HTMLWith.
func HTML(st record.Status) string { return HTMLWith(st, Options{}) }

// HTMLWith is HTML with the spec's thresholds on the charts.
func HTMLWith(st record.Status, o Options) string {
	w := &page{}
	esc := html.EscapeString
	w.raw(`<!doctype html>` + "\n" + `<html lang="en"><head><meta charset="utf-8">`)
	w.raw(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	w.raw(`<title>` + esc(fmt.Sprintf("Release evidence: %s %s %s", st.Service, st.Environment, st.Version)) + `</title>`)
	w.raw(`<style>` + css + `</style></head><body>` + "\n")

	w.raw(`<header>`)
	w.raw(`<p class="kicker">Production release evidence · filled checklist</p>`)
	w.raw(`<h1>` + esc(fmt.Sprintf("Release %s %s → %s", st.Service, st.Environment, st.Version)) + `</h1>`)
	w.raw(fmt.Sprintf(`<p class="outcome o-%s">Outcome: %s</p>`, esc(string(st.Outcome)), esc(outcomeText(st.Outcome))))
	w.raw(`<table class="facts"><tbody>`)
	for _, f := range facts(st) {
		if f.value != "" {
			w.raw(`<tr><th scope="row">` + esc(f.key) + `</th><td>` + esc(f.value) + `</td></tr>`)
		}
	}
	w.raw(`</tbody></table>`)
	writeAuditHead(w, st)
	w.raw("</header>\n")

	groups := groupItems(st.Items)
	writeSummaryHTML(w, groups)
	for _, g := range groups {
		writeStageHTML(w, g)
	}
	writeDecisionsHTML(w, st)
	writeSignoffsHTML(w, st)
	writeIdentityHTML(w, st)
	writeMetricsHTML(w, st, o)
	writeAlertsHTML(w, st)
	writeNoticesHTML(w, st)
	writeRollbackHTML(w, st)

	w.raw(`<footer>`)
	writeAuditHead(w, st)
	w.raw(`<p>Rendered by golive from the release record of ` + esc(st.ReleaseID) + `. Times are UTC. ` +
		`Boxes: ✓ passed, ✗ failed, ? could not be checked (never a pass), – skipped, empty: not done.</p>`)
	w.raw("</footer>\n</body></html>\n")
	return w.String()
}

// page accumulates HTML.
type page struct{ strings.Builder }

func (p *page) raw(s string) { p.WriteString(s) }

func writeAuditHead(w *page, st record.Status) {
	head := auditHead(st)
	if isHash(head) {
		w.raw(`<p class="audit"><strong>Audit chain head:</strong> <code>` + head + `</code> (SHA-256 of the release's last audit ledger row; ` +
			`check it with <code>golive audit verify --expect-head</code>)</p>`)
		return
	}
	w.raw(`<p class="audit"><strong>Audit chain head:</strong> <span class="v-target_missed">` + html.EscapeString(head) + `</span></p>`)
}

// inline escapes s and renders its `code spans` (checklist titles use them).
func inline(s string) string {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // unbalanced: leave the backticks as typed
		return html.EscapeString(s)
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + html.EscapeString(p) + "</code>")
			continue
		}
		b.WriteString(html.EscapeString(p))
	}
	return b.String()
}

// boxHTML is an item's tick box.
func boxHTML(s record.ItemState) string {
	mark := map[record.ItemState]string{
		record.ItemPassed: "✓", record.ItemFailed: "✗", record.ItemUnavailable: "?", record.ItemSkipped: "–",
	}[s]
	return `<span class="box" title="` + html.EscapeString(string(s)) + `">` + mark + `</span>`
}

// stateTag names a state that is not a pass.
func stateTag(s record.ItemState) string {
	text := map[record.ItemState]string{
		record.ItemFailed: "failed", record.ItemUnavailable: "not available", record.ItemSkipped: "skipped",
		record.ItemPending: "not done", record.ItemRunning: "running", record.ItemWaiting: "waiting",
	}[s]
	if text == "" {
		return ""
	}
	return `<span class="tag ` + html.EscapeString(string(s)) + `">` + text + `</span>`
}

func writeSummaryHTML(w *page, groups []stageGroup) {
	if len(groups) == 0 {
		return
	}
	w.raw(`<section id="summary"><h2>Checklist summary</h2><table><thead><tr><th>Section</th>` +
		`<th class="n">Items</th><th class="n">Passed</th><th class="n">Failed</th><th class="n">Not available</th>` +
		`<th class="n">Skipped</th><th class="n">Open</th></tr></thead><tbody>`)
	for _, g := range groups {
		c := g.counts()
		w.raw(fmt.Sprintf(`<tr><td><a href="#stage-%s">%s</a></td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td></tr>`,
			html.EscapeString(string(g.stage)), html.EscapeString(StageTitle(g.stage)), c.total, c.passed, c.failed, c.unavailable, c.skipped, c.open))
	}
	w.raw("</tbody></table></section>\n")
}

func writeStageHTML(w *page, g stageGroup) {
	esc := html.EscapeString
	w.raw(`<section id="stage-` + esc(string(g.stage)) + `"><h2>` + esc(StageTitle(g.stage)) + `</h2>`)
	w.raw(`<p class="tally">` + esc(g.counts().String()) + `</p>`)
	for _, sec := range g.sections {
		if sec.title != "" && sec.title != StageTitle(g.stage) {
			w.raw(`<h3>` + inline(sec.title) + `</h3>`)
		}
		w.raw(`<table class="items"><thead><tr><th class="c" scope="col"><span class="sr">Done</span></th><th scope="col" class="item">Item</th>` +
			`<th scope="col">Value / result</th><th scope="col" class="by">By</th><th scope="col" class="when">When (UTC)</th></tr></thead><tbody>`)
		for _, it := range sec.items {
			tags := stateTag(it.State)
			if it.Optional {
				tags += `<span class="tag">optional</span>`
			}
			value := esc(oneLine(it.Value))
			if it.Detail != "" && it.State != record.ItemPassed {
				value += `<span class="detail">` + esc(oneLine(it.Detail)) + `</span>`
			}
			for _, a := range AttemptLines(it) {
				value += `<span class="detail">` + esc(a) + `</span>`
			}
			w.raw(fmt.Sprintf(`<tr class="s-%s" id="item-%s"><td class="c">%s</td><td>%s%s</td><td>%s</td><td class="by">%s</td><td class="when">%s</td></tr>`,
				esc(string(it.State)), esc(it.ID), boxHTML(it.State), inline(it.Title), tags, value, esc(it.Actor), esc(stamp(it.At))))
		}
		w.raw(`</tbody></table>`)
	}
	w.raw("</section>\n")
}

func writeSignoffsHTML(w *page, st record.Status) {
	esc := html.EscapeString
	w.raw(`<section id="signoffs"><h2>Sign-offs</h2>`)
	names, by := blocks(st.Slots)
	if len(names) == 0 {
		w.raw(`<p class="tally">No sign-off was requested.</p>`)
	}
	for _, block := range names {
		w.raw(`<h3>` + esc(BlockTitle(block)) + `:</h3>`)
		w.raw(`<table class="signoffs"><thead><tr><th class="c" scope="col"><span class="sr">Signed</span></th><th scope="col" class="slot">Sign-off</th><th scope="col" class="name">Name</th>` +
			`<th scope="col" class="when">Date (UTC)</th><th scope="col">Decision</th><th scope="col">Signature</th><th scope="col">Comment</th></tr></thead><tbody>`)
		for _, sl := range by[block] {
			if len(sl.By) == 0 {
				w.raw(fmt.Sprintf(`<tr class="s-%s"><td class="c">%s</td><td>%s</td><td class="blank">_________________</td><td class="blank">__________</td><td>%s</td><td></td><td></td></tr>`,
					esc(string(sl.State)), boxHTML(record.ItemPending), esc(sl.Title), stateTag(sl.State)))
				continue
			}
			for _, s := range sl.By {
				state := record.ItemPassed
				if s.Decision != "approve" {
					state = record.ItemFailed
				}
				sig := "unsigned"
				if s.Signed {
					sig = "verified"
				}
				comment := ""
				if s.Comment != "" {
					comment = "“" + esc(oneLine(s.Comment)) + "”"
				}
				w.raw(fmt.Sprintf(`<tr class="s-%s"><td class="c">%s</td><td>%s</td><td>%s</td><td class="when">%s</td><td><span class="%s">%s</span></td><td>%s</td><td>%s</td></tr>`,
					state, boxHTML(state), esc(sl.Title), esc(personName(s)), esc(stamp(s.At)), decisionClass(s.Decision), esc(decisionText(s.Decision)), sig, comment))
			}
		}
		w.raw(`</tbody></table>`)
	}
	if len(st.Refused) > 0 {
		w.raw(`<h3>Refused inputs</h3><table><thead><tr><th>When (UTC)</th><th>Input</th><th>Channel</th><th>Times</th><th>Person claimed</th><th>Slot</th><th>Reason</th></tr></thead><tbody>`)
		for _, r := range st.Refused {
			w.raw(`<tr><td class="when">` + esc(stamp(r.At)) + `</td><td>` + esc(r.Input) + `</td><td>` + esc(string(r.Channel)) + `</td><td>` + esc(RefusalTimes(r)) + `</td><td>` + esc(r.Person) + `</td><td>` +
				esc(r.Slot) + `</td><td>` + esc(oneLine(r.Reason)) + `</td></tr>`)
		}
		w.raw(`</tbody></table>`)
	}
	w.raw("</section>\n")
}

// checkTally reads as "14 check(s) after the deploy (watch 14); the baseline was measured before it".
func checkTally(st record.Status) string {
	var windows []string
	n := map[string]int{}
	for _, c := range st.Checks {
		if n[c.Window] == 0 {
			windows = append(windows, c.Window)
		}
		n[c.Window]++
	}
	parts := make([]string, 0, len(windows))
	for _, w := range windows {
		parts = append(parts, fmt.Sprintf("%s %d", w, n[w]))
	}
	s := fmt.Sprintf("%d check(s) after the deploy", len(st.Checks))
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	if len(st.Baseline) > 0 {
		s += "; the baseline was measured before it"
	}
	return s + "."
}

func decisionClass(d string) string {
	if d == "approve" {
		return "v-ok"
	}
	return "v-rollback"
}

func writeMetricsHTML(w *page, st record.Status, o Options) {
	metrics := metricNames(st)
	if len(metrics) == 0 {
		return
	}
	esc := html.EscapeString
	w.raw(`<section id="metrics"><h2>Metric readings</h2>`)
	w.raw(`<p class="tally">` + esc(checkTally(st)) + `</p>`)
	w.raw(`<p class="legend">`)
	for _, v := range []record.Verdict{record.VerdictOK, record.VerdictTargetMissed, record.VerdictCritical, record.VerdictRollback, record.VerdictInconclusive} {
		w.raw(fmt.Sprintf(`<span><i style="background:%s"></i>%s</span>`, render.VerdictColor(v), esc(strings.ReplaceAll(string(v), "_", " "))))
	}
	w.raw(`<span>× not measured</span><span>··· baseline</span></p>`)
	for _, c := range charts.Release(st, o.Thresholds) {
		w.raw(`<figure id="chart-` + esc(c.Metric) + `"><figcaption>` + esc(c.Metric) + `</figcaption>` + string(c.SVG) + `</figure>`)
	}
	w.raw(`<h3>Every check</h3><table class="readings"><thead><tr><th>Window</th><th class="n">Check</th><th class="n">Offset</th><th>Phase</th>`)
	for _, m := range metrics {
		w.raw(`<th class="n">` + esc(m) + `</th>`)
	}
	w.raw(`<th>Verdict</th></tr></thead><tbody>`)
	row := func(window, index, offset, phase string, rs []record.Reading, worst record.Verdict) {
		w.raw(`<tr><td>` + esc(window) + `</td><td class="n">` + esc(index) + `</td><td class="n">` + esc(offset) + `</td><td>` + esc(phase) + `</td>`)
		for _, m := range metrics {
			r, ok := readingOf(rs, m)
			if !ok {
				w.raw(`<td class="n">–</td>`)
				continue
			}
			title := string(r.Verdict)
			if r.Detail != "" {
				title += ": " + oneLine(r.Detail)
			}
			w.raw(`<td class="n v-` + esc(string(r.Verdict)) + `" title="` + esc(title) + `">` + esc(readingText(r)) + `</td>`)
		}
		if worst == "" {
			w.raw(`<td>–</td></tr>`)
			return
		}
		w.raw(`<td class="v-` + esc(string(worst)) + `">` + esc(strings.ReplaceAll(string(worst), "_", " ")) + `</td></tr>`)
	}
	if len(st.Baseline) > 0 {
		row("baseline", "–", "–", "before deploy", st.Baseline, "")
	}
	for _, c := range st.Checks {
		row(c.Window, fmt.Sprint(c.Index), "+"+c.Offset.String(), c.Phase, c.Readings, c.Worst)
	}
	w.raw(`</tbody></table>`)
	if len(st.Compare) > 0 {
		w.raw(`<h3>Pre/post comparison</h3><table class="compare"><thead><tr><th>Metric</th><th class="n">Baseline</th><th class="n">After (mean)</th><th>Regression</th></tr></thead><tbody>`)
		for _, c := range st.Compare {
			cls := "v-ok"
			if c.Regression {
				cls = "v-critical"
			}
			w.raw(`<tr><td>` + esc(c.Metric) + `</td><td class="n">` + esc(num(c.Baseline)+c.Unit) + `</td><td class="n">` + esc(num(c.After)+c.Unit) +
				`</td><td class="` + cls + `">` + yesNo(c.Regression) + `</td></tr>`)
		}
		w.raw(`</tbody></table>`)
	}
	w.raw("</section>\n")
}

func writeDecisionsHTML(w *page, st record.Status) {
	lines := DecisionLines(st)
	if len(lines) == 0 {
		return
	}
	w.raw(`<section id="decisions"><h2>Decisions on failed steps and freezes</h2><ul>`)
	for _, l := range lines {
		w.raw(`<li>` + html.EscapeString(l) + `</li>`)
	}
	w.raw("</ul></section>\n")
}

func writeAlertsHTML(w *page, st record.Status) {
	if len(st.Alerts) == 0 {
		return
	}
	esc := html.EscapeString
	w.raw(`<section id="alerts"><h2>Alerts and escalation</h2><table><thead><tr><th>Alert</th><th class="n">Level</th><th>Raised (UTC)</th>` +
		`<th class="n">Sent</th><th>Acknowledged</th><th>Reason</th></tr></thead><tbody>`)
	for _, a := range st.Alerts {
		ack := `<span class="v-rollback">not acknowledged</span>`
		if a.AckedBy != "" {
			ack = esc(a.AckedBy + " " + stamp(a.AckedAt))
		}
		w.raw(fmt.Sprintf(`<tr><td>%s</td><td class="n">%d</td><td class="when">%s</td><td class="n">%d</td><td>%s</td><td>%s</td></tr>`,
			esc(a.ID), a.Level, esc(stamp(a.RaisedAt)), a.Sent, ack, esc(oneLine(a.Reason))))
	}
	w.raw("</tbody></table></section>\n")
}

func writeRollbackHTML(w *page, st record.Status) {
	rb := st.Rollback
	if rb == nil {
		return
	}
	esc := html.EscapeString
	w.raw(`<section id="rollback"><h2>Rollback record</h2><table class="facts"><tbody>`)
	row := func(k, v string) {
		w.raw(`<tr><th scope="row">` + esc(k) + `</th><td>` + v + `</td></tr>`)
	}
	row("Trigger", esc(oneLine(rb.Trigger)))
	row("Decided by", esc(rb.By))
	row("Decided at (UTC)", esc(stamp(rb.At)))
	row("Reverted to", esc(st.PreviousVersion))
	row("Live version now", esc(st.LiveVersion))
	done := `<span class="v-ok">yes</span>`
	if !rb.Completed {
		done = `<span class="v-rollback">no</span>`
	}
	row("Completed", done)
	if rb.Frozen {
		row("Database", `<span class="v-rollback">rollback blocked: schema frozen, escalated</span>`)
	}
	if rb.Error != "" {
		row("Errors", esc(oneLine(rb.Error)))
	}
	w.raw("</tbody></table></section>\n")
}
