package evidence

import (
	"html"
	"strings"

	"github.com/golive/golive/internal/record"
)

// HTML renders the filled checklist as a self-contained page (inline CSS, no
// external assets) that prints to PDF.
func HTML(st record.Status) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>`)
	b.WriteString(html.EscapeString("Release " + st.Service + " " + st.Version))
	b.WriteString(`</title><style>
body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.6rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
li{margin:.15rem 0}.x{color:#107010}.f{color:#b00020;font-weight:600}.u{color:#a06000}
@media print{body{margin:0}h2{break-after:avoid}}
</style></head><body>`)
	for _, line := range strings.Split(Markdown(st), "\n") {
		b.WriteString(lineHTML(line))
		b.WriteString("\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

// lineHTML converts one line of our own Markdown (headings, list items, table rows) to HTML.
func lineHTML(line string) string {
	esc := html.EscapeString
	switch {
	case strings.HasPrefix(line, "### "):
		return "<h3>" + esc(line[4:]) + "</h3>"
	case strings.HasPrefix(line, "## "):
		return "<h2>" + esc(line[3:]) + "</h2>"
	case strings.HasPrefix(line, "# "):
		return "<h1>" + esc(line[2:]) + "</h1>"
	case strings.HasPrefix(line, "|---"):
		return ""
	case strings.HasPrefix(line, "|"):
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		var b strings.Builder
		b.WriteString("<table><tr>")
		for _, c := range cells {
			b.WriteString("<td>" + esc(strings.TrimSpace(c)) + "</td>")
		}
		b.WriteString("</tr></table>")
		return b.String()
	case strings.HasPrefix(line, "- "), strings.HasPrefix(line, "  - "):
		text := strings.TrimPrefix(strings.TrimSpace(line), "- ")
		class := ""
		switch {
		case strings.HasPrefix(text, "[x]"):
			class = "x"
		case strings.HasPrefix(text, "[!]"):
			class = "f"
		case strings.HasPrefix(text, "[?]"):
			class = "u"
		}
		return `<ul><li class="` + class + `">` + esc(text) + "</li></ul>"
	case strings.HasPrefix(line, "**") && strings.HasSuffix(line, "**"):
		return "<p><strong>" + esc(strings.Trim(line, "*")) + "</strong></p>"
	case strings.TrimSpace(line) == "":
		return ""
	}
	return "<p>" + esc(line) + "</p>"
}
