package directory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/golive/golive/internal/spec"
)

// maxDepth bounds nesting; the format itself needs six levels.
const maxDepth = 16

// decoder reads the directory's yaml.Node tree by hand, strictly: unknown keys,
// repeated keys and wrong types are problems, all collected. nodes remembers
// where each path was written, so validation can place its problems too.
type decoder struct {
	file  string
	errs  Errors
	nodes map[string]*yaml.Node
}

// fieldFunc decodes the value of one known key.
type fieldFunc func(v *yaml.Node, path string)

func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// decodeFile parses data into a Directory, collecting every problem in d.errs.
func (d *decoder) decodeFile(data []byte) *Directory {
	root, err := d.parse(data)
	if err != nil {
		d.errs = append(d.errs, err)
		return nil
	}
	d.refuseAliases(root, "", 0)
	if len(d.errs) > 0 {
		return nil // nothing below an alias or a too-deep tree is worth reading
	}
	dir := &Directory{Quorum: DefaultQuorum}
	d.nodes[""] = root
	d.mapping(root, "", map[string]fieldFunc{
		"version":      func(v *yaml.Node, p string) { dir.Version = d.integer(v, p) },
		"admins":       func(v *yaml.Node, p string) { dir.Admins = d.strings(v, p) },
		"quorum":       func(v *yaml.Node, p string) { dir.Quorum = d.integer(v, p) },
		"people":       func(v *yaml.Node, p string) { dir.People = d.people(v, p) },
		"environments": func(v *yaml.Node, p string) { dir.Environments = d.policies(v, p, true) },
		"webauthn":     func(v *yaml.Node, p string) { dir.WebAuthn = d.webauthn(v, p) },
	})
	return dir
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads exactly one YAML document whose root is a mapping.
func (d *decoder) parse(data []byte) (*yaml.Node, *FieldError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{File: d.file, Msg: "the file is empty"}
		}
		return nil, d.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &FieldError{File: d.file, Line: extra.Line, Column: extra.Column, Msg: "only one YAML document is allowed"}
	} else if !errors.Is(err, io.EOF) {
		return nil, d.syntaxError(err)
	}
	if len(doc.Content) == 0 {
		return nil, &FieldError{File: d.file, Msg: "the file is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &FieldError{File: d.file, Line: root.Line, Column: root.Column, Msg: "the directory must be a mapping (version, admins, quorum, people, environments, webauthn)"}
	}
	return root, nil
}

func (d *decoder) syntaxError(err error) *FieldError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: d.file, Line: line, Column: 1, Msg: "YAML syntax: " + m[2]}
	}
	return &FieldError{File: d.file, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// refuseAliases reports every anchor, alias and merge key, and nesting deeper
// than maxDepth: a reviewed trust file says each thing where it applies, and
// refusing aliases rules out expansion bombs.
func (d *decoder) refuseAliases(n *yaml.Node, path string, depth int) {
	if depth > maxDepth {
		d.errAt(n, path, "nesting is deeper than %d levels", maxDepth)
		return
	}
	switch {
	case n.Kind == yaml.AliasNode:
		d.errAt(n, path, "YAML aliases (*%s) are not allowed in the team directory: write each entry out", n.Value)
		return
	case n.Anchor != "":
		d.errAt(n, path, "YAML anchors (&%s) are not allowed in the team directory: write each entry out", n.Anchor)
	case n.Kind == yaml.ScalarNode && n.Tag == "!!merge":
		d.errAt(n, path, "YAML merge keys (<<) are not allowed in the team directory")
	}
	for _, c := range n.Content {
		d.refuseAliases(c, path, depth+1)
	}
}

// mapping decodes a mapping with a fixed set of keys.
func (d *decoder) mapping(n *yaml.Node, path string, fields map[string]fieldFunc) {
	d.eachKey(n, path, func(k, v *yaml.Node, p string) {
		f, ok := fields[k.Value]
		if !ok {
			d.errAt(k, p, "unknown key %q%s", k.Value, suggest(k.Value, fields))
			return
		}
		f(v, p)
	})
}

// eachKey walks a mapping's entries, refusing non-scalar and repeated keys;
// it records where each entry's path was written.
func (d *decoder) eachKey(n *yaml.Node, path string, fn func(k, v *yaml.Node, p string)) bool {
	if n.Kind != yaml.MappingNode {
		d.errAt(n, path, "want a mapping, got %s", describe(n))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.errAt(k, path, "keys must be non-empty names, got %s", describe(k))
			continue
		}
		p := spec.JoinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.errAt(k, p, "key %q repeated (first at line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.ScalarNode {
			d.nodes[p] = v
		} else {
			d.nodes[p] = k
		}
		fn(k, v, p)
	}
	return true
}

// people decodes the people list.
func (d *decoder) people(n *yaml.Node, path string) []Person {
	if !d.isList(n, path) {
		return nil
	}
	out := make([]Person, len(n.Content))
	for i, c := range n.Content {
		p, at := &out[i], fmt.Sprintf("%s[%d]", path, i)
		d.nodes[at] = c
		d.mapping(c, at, map[string]fieldFunc{
			"id":       func(v *yaml.Node, q string) { p.ID = d.str(v, q) },
			"name":     func(v *yaml.Node, q string) { p.Name = d.str(v, q) },
			"email":    func(v *yaml.Node, q string) { p.Email = d.str(v, q) },
			"phone":    func(v *yaml.Node, q string) { p.Phone = d.str(v, q) },
			"roles":    func(v *yaml.Node, q string) { p.Roles = d.strings(v, q) },
			"keys":     func(v *yaml.Node, q string) { p.Keys = d.strings(v, q) },
			"passkeys": func(v *yaml.Node, q string) { p.Passkeys = d.passkeys(v, q) },
		})
	}
	return out
}

// policies decodes environments (top, with services allowed) or one environment's services.
func (d *decoder) policies(n *yaml.Node, path string, top bool) map[string]Policy {
	out := map[string]Policy{}
	d.eachKey(n, path, func(k, v *yaml.Node, p string) {
		out[k.Value] = d.policy(v, p, top)
	})
	return out
}

func (d *decoder) policy(n *yaml.Node, path string, withServices bool) Policy {
	var pol Policy
	fields := map[string]fieldFunc{
		"signatures": func(v *yaml.Node, p string) { pol.Signatures = Signatures(d.str(v, p)) },
		"start":      func(v *yaml.Node, p string) { pol.Start = d.strings(v, p) },
		"steer":      func(v *yaml.Node, p string) { pol.Steer = d.strings(v, p) },
		"rollback":   func(v *yaml.Node, p string) { pol.Rollback = d.strings(v, p) },
		"signoffs":   func(v *yaml.Node, p string) { pol.Signoffs = d.signoffs(v, p) },
	}
	if withServices {
		fields["services"] = func(v *yaml.Node, p string) { pol.Services = d.policies(v, p, false) }
	}
	d.mapping(n, path, fields)
	return pol
}

// signoffs decodes block -> slot -> role.
func (d *decoder) signoffs(n *yaml.Node, path string) map[string]map[string]string {
	out := map[string]map[string]string{}
	d.eachKey(n, path, func(k, v *yaml.Node, p string) {
		slots := map[string]string{}
		d.eachKey(v, p, func(sk, sv *yaml.Node, sp string) { slots[sk.Value] = d.str(sv, sp) })
		out[k.Value] = slots
	})
	return out
}

func (d *decoder) isList(n *yaml.Node, path string) bool {
	if n.Kind != yaml.SequenceNode {
		d.errAt(n, path, "want a list, got %s", describe(n))
		return false
	}
	return true
}

// strings decodes a list of strings.
func (d *decoder) strings(n *yaml.Node, path string) []string {
	if !d.isList(n, path) {
		return nil
	}
	out := make([]string, len(n.Content))
	for i, c := range n.Content {
		at := fmt.Sprintf("%s[%d]", path, i)
		d.nodes[at] = c
		out[i] = d.str(c, at)
	}
	return out
}

// str decodes a string; a number, boolean or null is refused (quote it).
func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode {
		d.errAt(n, path, "want a string, got %s", describe(n))
		return ""
	}
	if n.ShortTag() != "!!str" {
		d.errAt(n, path, "want a string, got %s %q (quote it if it is meant as text)", tagName(n), n.Value)
		return ""
	}
	return n.Value
}

// integer decodes an integer.
func (d *decoder) integer(n *yaml.Node, path string) int {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.errAt(n, path, "want an integer, got %s", describe(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		d.errAt(n, path, "want an integer, got %q", n.Value)
	}
	return v
}

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%s %q", tagName(n), n.Value)
	}
	return "nothing"
}

func tagName(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number"
	case "!!bool":
		return "the boolean"
	case "!!null":
		return "null"
	case "!!str":
		return "the string"
	}
	return "the value"
}

// suggest proposes the closest known key for a misspelt one.
func suggest(key string, fields map[string]fieldFunc) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	if best := closest(key, names, 3); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Sprintf(" (known: %s)", strings.Join(names, ", "))
}

// closest returns the name nearest to s (case-insensitive edit distance below
// limit), preferring the first of equals; "" when none is near.
func closest(s string, names []string, limit int) string {
	best, bestD := "", limit
	for _, name := range names {
		if dist := spec.EditDistance(strings.ToLower(s), strings.ToLower(name)); dist < bestD {
			best, bestD = name, dist
		}
	}
	return best
}

// locate places a path at the node that wrote it, or its nearest written ancestor.
func (d *decoder) locate(path string) *yaml.Node {
	for p := path; ; p = spec.ParentPath(p) {
		if n, ok := d.nodes[p]; ok {
			return n
		}
		if p == "" {
			return &yaml.Node{}
		}
	}
}
