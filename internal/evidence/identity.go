package evidence

import (
	"fmt"
	"html"
	"strings"

	"github.com/golive/golive/internal/record"
)

// RequesterText names the requester as proven: the key that signed the start,
// or "unsigned"; releases started before the team directory show the name only.
func RequesterText(st record.Status) string {
	switch {
	case st.Directory == nil:
		return st.Requester
	case st.RequesterFingerprint != "":
		return st.Requester + " (start signed with " + st.RequesterFingerprint + ")"
	}
	return st.Requester + " (unsigned start)"
}

// DirectoryText is the team directory the release pinned, in one line.
func DirectoryText(st record.Status) string {
	d := st.Directory
	if d == nil {
		return ""
	}
	signed := "not signed by its admins"
	if len(d.Signers) > 0 {
		signed = "signed by " + strings.Join(d.Signers, ", ")
	}
	policy := "unsigned inputs accepted (recorded as unsigned)"
	if d.RequireSigned {
		policy = "every input must be signed"
	}
	return fmt.Sprintf("%s sha256 %s, %s; environment %s: %s", d.File, short(d.Digest), signed, d.Environment, policy)
}

// proofText says how an accepted input was proven.
func proofText(p record.Proof) string {
	if p.Signed() {
		return "signed " + p.Fingerprint
	}
	return "unsigned"
}

// RefusalTimes is "×N" for a refusal that came N > 1 times.
func RefusalTimes(r record.Refusal) string {
	if r.Count > 1 {
		return fmt.Sprintf("×%d", r.Count)
	}
	return ""
}

// writeIdentity is the Markdown record of who did what, proven how.
func writeIdentity(b *strings.Builder, st record.Status) {
	if st.Directory == nil && len(st.Proofs) == 0 {
		return
	}
	b.WriteString("\n## Who did it\n\n")
	if d := DirectoryText(st); d != "" {
		fmt.Fprintf(b, "Team directory: %s\n\n", d)
		for _, p := range st.Directory.People {
			fmt.Fprintf(b, "- %s\n", p)
		}
		b.WriteString("\n")
	}
	if len(st.Proofs) > 0 {
		b.WriteString("| When (UTC) | Input | Person | Proof | What |\n|---|---|---|---|---|\n")
		for _, p := range st.Proofs {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", stamp(p.At), p.Input, p.Person, proofText(p), mdCell(p.Detail))
		}
	}
	if st.RefusedTotal > 0 {
		fmt.Fprintf(b, "\n%d input(s) refused in all (%d kept one by one below).\n", st.RefusedTotal, len(st.Refused))
	}
}

// writeIdentityHTML is writeIdentity for the HTML report.
func writeIdentityHTML(w *page, st record.Status) {
	if st.Directory == nil && len(st.Proofs) == 0 {
		return
	}
	esc := html.EscapeString
	w.raw(`<section><h2>Who did it</h2>`)
	if d := DirectoryText(st); d != "" {
		w.raw(`<p>Team directory: ` + esc(d) + `</p><ul>`)
		for _, p := range st.Directory.People {
			w.raw(`<li>` + esc(p) + `</li>`)
		}
		w.raw(`</ul>`)
	}
	if len(st.Proofs) > 0 {
		w.raw(`<table><thead><tr><th>When (UTC)</th><th>Input</th><th>Person</th><th>Proof</th><th>What</th></tr></thead><tbody>`)
		for _, p := range st.Proofs {
			w.raw(`<tr><td class="when">` + esc(stamp(p.At)) + `</td><td>` + esc(p.Input) + `</td><td>` + esc(p.Person) + `</td><td>` +
				esc(proofText(p)) + `</td><td>` + esc(oneLine(p.Detail)) + `</td></tr>`)
		}
		w.raw(`</tbody></table>`)
	}
	if st.RefusedTotal > 0 {
		w.raw(fmt.Sprintf(`<p>%d input(s) refused in all (%d kept one by one).</p>`, st.RefusedTotal, len(st.Refused)))
	}
	w.raw("</section>\n")
}

func mdCell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }
