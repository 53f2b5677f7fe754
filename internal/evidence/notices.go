package evidence

import (
	"fmt"
	"html"
	"strings"

	"github.com/golive/golive/internal/record"
)

// NoticeResult is one delivery's outcome in words: delivered, already
// delivered (a retry that sent nothing), or failed with the reason.
func NoticeResult(n record.Notice) string {
	switch {
	case n.Duplicate:
		return "already delivered"
	case n.OK && n.Fallback:
		return "delivered (fallback)"
	case n.OK:
		return "delivered"
	case n.Permanent:
		return "failed (permanent): " + oneLine(n.Error)
	}
	return "failed: " + oneLine(n.Error)
}

// NoticeCounts counts deliveries and failures.
func NoticeCounts(ns []record.Notice) (delivered, failed int) {
	for _, n := range ns {
		if n.OK {
			delivered++
		} else {
			failed++
		}
	}
	return delivered, failed
}

func writeNotices(b *strings.Builder, st record.Status) {
	if len(st.Notices) == 0 {
		return
	}
	ok, bad := NoticeCounts(st.Notices)
	fmt.Fprintf(b, "\n## Notifications\n\n_%d delivered, %d failed_\n\n| time (UTC) | event | level | person | channel | result | message ID |\n|---|---|---|---|---|---|---|\n", ok, bad)
	for _, n := range st.Notices {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", stamp(n.At), cell(n.Event), level(n.Level), cell(n.Person),
			cell(dashed(n.Channel)), cell(NoticeResult(n)), cell(dashed(n.ID)))
	}
}

func writeNoticesHTML(w *page, st record.Status) {
	if len(st.Notices) == 0 {
		return
	}
	esc := html.EscapeString
	ok, bad := NoticeCounts(st.Notices)
	w.raw(fmt.Sprintf(`<section id="notifications"><h2>Notifications</h2><p>%d delivered, %d failed</p>`, ok, bad) +
		`<table><thead><tr><th>Time (UTC)</th><th>Event</th><th class="n">Level</th><th>Person</th><th>Channel</th><th>Result</th><th>Message ID</th></tr></thead><tbody>`)
	for _, n := range st.Notices {
		res := esc(NoticeResult(n))
		if !n.OK {
			res = `<span class="v-rollback">` + res + `</span>`
		}
		w.raw(fmt.Sprintf(`<tr><td class="when">%s</td><td>%s</td><td class="n">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`,
			esc(stamp(n.At)), esc(n.Event), level(n.Level), esc(n.Person), esc(dashed(n.Channel)), res, esc(dashed(n.ID))))
	}
	w.raw("</tbody></table></section>\n")
}

func level(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func dashed(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
