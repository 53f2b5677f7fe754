package spec

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// FieldError is one problem found in a spec file, placed at a line and column
// and named by its field path, e.g. "approvals.slots[1].role".
type FieldError struct {
	// File is the spec file as it was given to Load or Parse.
	File string
	// Line and Column are 1-based; 0 when the problem has no place in the file.
	Line, Column int
	// Path is the field path, e.g. "watch.phases[0].every"; empty for the whole file.
	Path string
	// Msg says what is wrong and, where it helps, what would be right.
	Msg string
}

// Error formats the problem as "file:line:col: path: msg".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" || e.Line > 0 {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(clip(e.Msg))
	return b.String()
}

// maxMsgBytes keeps one problem on one readable line when it quotes a hostile value.
const maxMsgBytes = 400

// clip shortens a message past maxMsgBytes, on a rune boundary, saying how long it was.
func clip(msg string) string {
	if len(msg) <= maxMsgBytes {
		return msg
	}
	cut := maxMsgBytes
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes in all)", msg[:cut], len(msg))
}

// Errors is every problem found in one spec, sorted by line.
type Errors []*FieldError

// Error prints one problem per line, sorted by line and column: the first
// MaxPrintedErrors of them, then how many more there are.
func (es Errors) Error() string {
	sorted := append(Errors(nil), es...)
	sorted.sort()
	lines := make([]string, 0, min(len(sorted), MaxPrintedErrors)+1)
	for i, e := range sorted {
		if i == MaxPrintedErrors {
			lines = append(lines, fmt.Sprintf("and %d more", len(sorted)-i))
			break
		}
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// sort orders the problems by place in the file, then by path and message.
func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
}

// dedupe drops repeated problems (the same message at the same place), keeping order.
func (es Errors) dedupe() Errors {
	seen := map[string]bool{}
	out := es[:0]
	for _, e := range es {
		k := e.Error()
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
