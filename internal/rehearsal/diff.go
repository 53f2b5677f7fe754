package rehearsal

import (
	"fmt"
	"strings"
)

// Diff bounds: a schema diff goes into a checklist item's detail, so it is
// cut after maxDiffLines lines or maxDiffBytes bytes with a count of the rest.
const (
	maxDiffLines = 60
	maxDiffBytes = 4000
	diffContext  = 2
	// maxDiffCells bounds the LCS table; past it the changed middle is shown
	// as all removed then all added (still every difference, less aligned).
	maxDiffCells = 4_000_000
)

type op struct {
	kind byte // ' ', '-', '+'
	line string
}

// Diff is a unified-style diff of two line lists (a: expected, b: found),
// "" when they are equal; changed returns how many lines differ.
func Diff(aName, bName string, a, b []string) (text string, changed int) {
	ops := lineOps(a, b)
	for _, o := range ops {
		if o.kind != ' ' {
			changed++
		}
	}
	if changed == 0 {
		return "", 0
	}
	var out []string
	out = append(out, "--- "+aName, "+++ "+bName)
	ai, bi := 1, 1
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			ai, bi, i = ai+1, bi+1, i+1
			continue
		}
		// A hunk: the changes from i on with up to diffContext lines around,
		// merging changes closer than twice the context.
		start := max(0, i-diffContext)
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*diffContext {
				end = min(end+diffContext, len(ops))
				break
			}
			end = run
		}
		a0, b0 := ai-(i-start), bi-(i-start)
		var na, nb int
		var body []string
		for _, o := range ops[start:end] {
			body = append(body, string(o.kind)+o.line)
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		out = append(out, fmt.Sprintf("@@ -%d,%d +%d,%d @@", a0, na, b0, nb))
		out = append(out, body...)
		for _, o := range ops[i:end] {
			if o.kind != '+' {
				ai++
			}
			if o.kind != '-' {
				bi++
			}
		}
		i = end
	}
	return bound(out), changed
}

// bound cuts a diff to maxDiffLines and maxDiffBytes.
func bound(lines []string) string {
	var sb strings.Builder
	for i, l := range lines {
		if i == maxDiffLines || sb.Len()+len(l)+1 > maxDiffBytes {
			fmt.Fprintf(&sb, "... %d more diff lines not shown", len(lines)-i)
			return sb.String()
		}
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	return strings.TrimSuffix(sb.String(), "\n")
}

// lineOps aligns a and b: common prefix and suffix first, then a longest
// common subsequence of the middle.
func lineOps(a, b []string) []op {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	var ops []op
	for _, l := range a[:p] {
		ops = append(ops, op{' ', l})
	}
	ops = append(ops, middle(a[p:len(a)-s], b[p:len(b)-s])...)
	for _, l := range a[len(a)-s:] {
		ops = append(ops, op{' ', l})
	}
	return ops
}

func middle(a, b []string) []op {
	var ops []op
	if len(a)*len(b) > maxDiffCells {
		for _, l := range a {
			ops = append(ops, op{'-', l})
		}
		for _, l := range b {
			ops = append(ops, op{'+', l})
		}
		return ops
	}
	// lcs[i][j]: length of the LCS of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	for ; i < len(a); i++ {
		ops = append(ops, op{'-', a[i]})
	}
	for ; j < len(b); j++ {
		ops = append(ops, op{'+', b[j]})
	}
	return ops
}
