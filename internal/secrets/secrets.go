// Package secrets resolves secret references from the release spec inside
// activities. Workflow payloads, errors and logs only ever carry the reference
// (env://NAME, secret://aws/NAME#KEY), never the value.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNotFound means the reference names nothing that exists.
var ErrNotFound = errors.New("secret not found")

// Backend resolves one scheme's references.
type Backend interface {
	// Resolve returns the value of ref (the part after "scheme://").
	Resolve(ctx context.Context, ref string) (string, error)
}

// Resolver resolves references by scheme. The zero value resolves env:// only.
type Resolver struct {
	// Backends maps a scheme ("aws") to its backend; "env" is built in.
	Backends map[string]Backend
	// LookupEnv defaults to os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// IsRef reports whether s is a secret reference rather than a literal value.
func IsRef(s string) bool {
	return strings.HasPrefix(s, "env://") || strings.HasPrefix(s, "secret://")
}

// Resolve returns the value of a reference, or s itself when it is a literal.
// Errors name the reference, never a value.
func (r *Resolver) Resolve(ctx context.Context, s string) (string, error) {
	switch {
	case strings.HasPrefix(s, "env://"):
		name := strings.TrimPrefix(s, "env://")
		lookup := r.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(name)
		if !ok || v == "" {
			return "", fmt.Errorf("%s: environment variable %s is not set: %w", s, name, ErrNotFound)
		}
		return v, nil
	case strings.HasPrefix(s, "secret://"):
		rest := strings.TrimPrefix(s, "secret://")
		scheme, ref, ok := strings.Cut(rest, "/")
		if !ok || ref == "" {
			return "", fmt.Errorf("%s: want secret://BACKEND/NAME[#KEY]", s)
		}
		b := r.Backends[scheme]
		if b == nil {
			return "", fmt.Errorf("%s: no secret backend %q configured on this worker", s, scheme)
		}
		v, err := b.Resolve(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("%s: %w", s, err)
		}
		return v, nil
	}
	return s, nil
}
