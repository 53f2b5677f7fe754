package directory

import (
	"errors"
	"fmt"
	"sort"

	"github.com/golive/golive/internal/spec"
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
// and named by its path (e.g. "people[2].keys[0]"). It is the release spec's
// type, so every golive file problem prints the same way: file:line:col: path: message.
type FieldError = spec.FieldError

// Errors is every problem found in one directory file; Error prints them sorted by place.
type Errors = spec.Errors

// capped sorts the problems by place and keeps the first MaxErrors, saying how many were left out.
func capped(es Errors) Errors {
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
