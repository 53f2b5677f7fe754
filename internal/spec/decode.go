package spec

import (
	"fmt"
	"reflect"
	"sort"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree against Go types by reflection, filling the
// value it can and collecting every problem it finds instead of stopping at the first.
type decoder struct {
	file string
	errs Errors
	// nodes maps a field path to the node that placed it: the key node for
	// mappings and lists written under a key, the value node for scalars.
	nodes map[string]*yaml.Node
	depth int
	// visited counts the nodes decoded, alias expansions included (see MaxNodes);
	// stopped is set once that count or the number of problems passed its limit.
	visited int
	stopped bool
	// fields caches yamlFields by struct type: merge keys decode one type many times.
	fields map[reflect.Type]map[string]int
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

func newDecoder(file string) *decoder {
	return &decoder{file: file, nodes: map[string]*yaml.Node{}, fields: map[reflect.Type]map[string]int{}}
}

// errAt records a problem at node n; past maxDecodeErrors it stops the decoding.
func (d *decoder) errAt(n *yaml.Node, path, format string, args ...any) {
	if d.stopped {
		return
	}
	if len(d.errs) == maxDecodeErrors {
		d.stopped = true
		format, args = "more than %d problems: fix these first", []any{maxDecodeErrors}
	}
	d.errs = append(d.errs, &FieldError{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// decode fills v from n; key is the mapping key node n was found under, or nil.
func (d *decoder) decode(n, key *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if !d.count(n, path) {
		return
	}
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > 64 {
		d.errAt(n, path, "nesting is too deep (recursive alias?)")
		return
	}
	if key != nil && n.Kind != yaml.ScalarNode {
		d.nodes[path] = key
	} else {
		d.nodes[path] = n
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the field unset; required fields are checked later
	}
	if d.longString(n, path) {
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.errAt(n, path, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errAt(n, path, "want a list, got %s", describe(n))
			return
		}
		if d.tooMany(n, path) {
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, nil, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, key, p.Elem(), path)
		v.Set(p)
	default:
		d.decodeScalar(n, v, path)
	}
}

// decodeScalar fills a string, number or bool.
func (d *decoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	want := map[reflect.Kind]string{
		reflect.String: "a string", reflect.Bool: "true or false",
		reflect.Int: "an integer", reflect.Int64: "an integer", reflect.Float64: "a number",
	}[v.Kind()]
	if want == "" {
		d.errAt(n, path, "internal: cannot decode into %s", v.Type())
		return
	}
	if n.Kind != yaml.ScalarNode {
		d.errAt(n, path, "want %s, got %s", want, describe(n))
		return
	}
	if v.Kind() == reflect.String {
		v.SetString(n.Value)
		return
	}
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		d.errAt(n, path, "want %s, got %q", want, n.Value)
		return
	}
	if d.finite(n, p.Elem(), path) {
		v.Set(p.Elem())
	}
}

// decodeMap fills a map with string keys.
func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errAt(n, path, "want a mapping, got %s", describe(n))
		return
	}
	if d.tooMany(n, path) {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			d.errAt(k, path, "keys must be non-empty names")
			continue
		}
		if d.longKey(k, path) {
			continue
		}
		p := JoinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errAt(k, p, "key %q repeated (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, k, e, p)
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
	v.Set(m)
}

// decodeStruct fills a struct from a mapping by yaml tags, reporting unknown and repeated keys.
func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errAt(n, path, "want a mapping, got %s", describe(n))
		return
	}
	if d.tooMany(n, path) {
		return
	}
	fields, ok := d.fields[v.Type()]
	if !ok {
		fields = yamlFields(v.Type())
		d.fields[v.Type()] = fields
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.count(k, path) {
			return
		}
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			d.decodeMerge(val, v, path)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errAt(k, path, "keys must be plain names, got %s", describe(k))
			continue
		}
		if d.longKey(k, path) {
			continue
		}
		p := JoinPath(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			d.errAt(k, p, "unknown key %q%s", k.Value, suggest(k.Value, fields))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errAt(k, p, "key %q repeated (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		before := len(d.errs)
		d.decode(val, k, v.Field(idx), p)
		if len(d.errs) == before {
			d.checkZero(val, v.Type(), v.Type().Field(idx), v.Field(idx), p)
		}
	}
}

// decodeMerge applies a YAML merge key ("<<: *anchor") to a struct.
func (d *decoder) decodeMerge(val *yaml.Node, v reflect.Value, path string) {
	for val.Kind == yaml.AliasNode && val.Alias != nil {
		val = val.Alias
	}
	if !d.count(val, path) {
		return
	}
	if val.Kind == yaml.SequenceNode {
		for i := len(val.Content) - 1; i >= 0; i-- {
			d.decodeMerge(val.Content[i], v, path)
		}
		return
	}
	d.decodeStruct(val, v, path)
}

// yamlFields maps each yaml key of a struct type to its field index.
func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for _, f := range specFields(t) {
		out[f.key] = f.Index[0]
	}
	return out
}

// describe names what a node holds, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// suggest proposes the closest known key for a misspelt one.
func suggest(key string, fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, name := range names {
		if dist := EditDistance(key, name); dist < bestD {
			best, bestD = name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}
