package directory

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MaxErrors is how many problems Parse reports at most; the last line says how many more there were.
const MaxErrors = 50

var (
	// ErrUnknownEnvironment: Resolve was asked for an environment the directory does not define.
	ErrUnknownEnvironment = errors.New("environment not in the team directory")
	// ErrNoAnchor: LoadVerified was given no admin keys to trust.
	ErrNoAnchor = errors.New("no trusted admin keys")
	// ErrQuorum: fewer distinct trusted admins signed the directory than the quorum.
	ErrQuorum = errors.New("directory signatures do not meet the quorum")
)

// FieldError is one problem in a directory file, placed at a line and column
// and named by its path, e.g. "people[2].keys[0]".
type FieldError struct {
	// File is the directory file as given to Load or Parse.
	File string
	// Line and Column are 1-based; 0 when the problem has no place in the file.
	Line, Column int
	// Path is the field path; empty for the whole file.
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
			fmt.Fprintf(&b, ":%d:%d", e.Line, max(e.Column, 1))
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one directory file, in file order.
type Errors []*FieldError

// Error prints one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// capped sorts the problems by place and keeps the first MaxErrors, saying how many were left out.
func (es Errors) capped() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	if len(es) <= MaxErrors {
		return es
	}
	out := append(Errors(nil), es[:MaxErrors]...)
	return append(out, &FieldError{File: es[0].File, Msg: fmt.Sprintf("%d more problems not shown", len(es)-MaxErrors)})
}
