package spec

import "strings"

// Place turns problems found outside the loader (the team directory's
// CheckSpec, say), each "path: message", into Errors placed at the file, line
// and column of the path in the spec, or of its nearest written ancestor.
func (l *Loaded) Place(problems []string) Errors {
	var errs Errors
	for _, p := range problems {
		path, msg, ok := strings.Cut(p, ": ")
		if !ok {
			path, msg = "", p
		}
		e := &FieldError{File: l.File, Path: path, Msg: msg}
		if l.locate != nil {
			e.Line, e.Column = l.locate(path)
		}
		errs = append(errs, e)
	}
	return errs
}
