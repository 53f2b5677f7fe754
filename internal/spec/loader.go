package spec

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Loaded is a spec read from a file, checked and completed with defaults.
type Loaded struct {
	// Spec is the spec with every default applied and the item lists merged.
	Spec Spec
	// Digest is the SHA-256 (hex) of the file's bytes, recorded with the release.
	Digest string
	// File is the path the spec was read from, as given.
	File string
	// locate places a field path in the file (see Place).
	locate func(path string) (int, int)
}

// Load reads, checks and completes the spec at path. A spec with problems
// returns Errors listing all of them, one per line, each placed at file:line:col.
func Load(path string) (*Loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read release spec: %w", err)
	}
	defer f.Close()
	// One byte past the limit is enough to refuse the file without reading it whole.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read release spec: %w", err)
	}
	return Parse(path, data)
}

// LoadContext is Load that returns ctx's error as soon as ctx is done (a
// SIGTERM or Ctrl-C in the CLI), even while the file cannot be read (a pipe
// nobody writes, a hung network mount); the load goes on unobserved, so it is
// for commands that end once it returns.
func LoadContext(ctx context.Context, path string) (*Loaded, error) {
	type result struct {
		l   *Loaded
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := Load(path)
		done <- result{l, err}
	}()
	select {
	case r := <-done:
		return r.l, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("load release spec %s: %w", path, context.Cause(ctx))
	}
}

// Parse checks and completes a spec given as bytes; file names it in errors.
// It decodes strictly: unknown keys, wrong types, missing required fields and
// impossible values are all reported together as Errors.
func Parse(file string, data []byte) (*Loaded, error) {
	if len(data) > MaxFileBytes {
		return nil, Errors{{File: file, Line: 1, Column: 1, Msg: fmt.Sprintf("the file is larger than the limit of %d KiB for a spec", MaxFileBytes>>10)}}
	}
	sum := sha256.Sum256(data)
	root, err := parseNode(file, data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(file)
	var raw Spec
	d.decode(root, nil, reflect.ValueOf(&raw).Elem(), "")
	d.nodes[""] = root
	if d.stopped {
		d.errs.sort()
		return nil, d.errs.dedupe()
	}
	written := map[string][]Item{
		"readiness.items":       raw.Readiness.Items,
		"prepare.items":         raw.Prepare.Items,
		"rollback.action_items": raw.Rollback.ActionItems,
		"review.items":          raw.Review.Items,
	}
	s := raw
	present := func(path string) bool { _, ok := d.nodes[path]; return ok }
	applyDefaults(&s, present)
	errs := d.errs
	for _, e := range validate(&s, file, d.locate, written) {
		if !underAny(e.Path, d.errs) {
			errs = append(errs, e)
		}
	}
	if len(errs) == 0 {
		if e := checkInputSize(&s, file); e != nil {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		errs.sort()
		return nil, errs.dedupe()
	}
	return &Loaded{Spec: s, Digest: hex.EncodeToString(sum[:]), File: file, locate: d.locate}, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseNode parses one YAML document whose root is a mapping.
func parseNode(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "the file is empty"}}
		}
		return nil, Errors{syntaxError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: file, Line: extra.Line, Column: extra.Column, Msg: "only one YAML document is allowed"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{syntaxError(file, err)}
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Msg: "the file is empty"}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, Errors{{File: file, Line: root.Line, Column: root.Column, Msg: "the spec must be a mapping of keys (service, environment, team...)"}}
	}
	return root, nil
}

// syntaxError places a YAML syntax error at its line.
func syntaxError(file string, err error) *FieldError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: file, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &FieldError{File: file, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// locate places a field path at its node, or at its nearest written ancestor.
func (d *decoder) locate(path string) (int, int) {
	for p := path; ; p = ParentPath(p) {
		if n, ok := d.nodes[p]; ok {
			return n.Line, n.Column
		}
		if p == "" {
			return 0, 0
		}
	}
}

// underAny reports whether path is, or lies under, the path of a decode error:
// the value there could not be read, so checks of it would only repeat the problem.
func underAny(path string, errs Errors) bool {
	for _, e := range errs {
		if e.Path != "" && (path == e.Path || strings.HasPrefix(path, e.Path+".") || strings.HasPrefix(path, e.Path+"[")) {
			return true
		}
	}
	return false
}
