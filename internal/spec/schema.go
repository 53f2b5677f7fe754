package spec

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// SchemaDialect is the JSON Schema draft the spec's schema is written in.
const SchemaDialect = "https://json-schema.org/draft/2020-12/schema"

// Patterns of the spec's scalar types, as the loader parses them (see ParseDuration, ParsePercent).
const (
	durationPattern = `^\s*(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+\s*$`
	percentPattern  = `^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*%\s*$`
)

var percentType = reflect.TypeFor[Percent]()

// Schema returns the JSON Schema (draft 2020-12) of a release spec file, built by
// reflection from the Go types Load decodes into: keys from their yaml tags,
// descriptions from their doc comments, allowed values from the validation lists.
// Editors use it to complete and check specs (`golive spec schema`); Load stays
// the judge of what a spec means (cross-field rules, the team, the limits).
func Schema() ([]byte, error) {
	if _, err := fieldDocs(); err != nil {
		return nil, err
	}
	g := &schemaGen{defs: map[string]any{
		"duration": map[string]any{"type": "string", "pattern": durationPattern,
			"description": "A Go duration such as 90s, 15m, 4h or 1h30m; a bare number is refused because its unit would be a guess."},
		"percent": map[string]any{"type": "string", "pattern": percentPattern,
			"description": "A share in percent, 0-100, written with a % sign (0.1%, 80%) so 0.05 is never mistaken for 5 %."},
	}}
	root := g.object(reflect.TypeFor[Spec]())
	root["$schema"] = SchemaDialect
	root["title"] = "golive release spec"
	root["$defs"] = g.defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode the spec schema: %w", err)
	}
	return append(b, '\n'), nil
}

// schemaGen collects one $defs entry per struct type.
type schemaGen struct {
	defs map[string]any
}

// of is the schema of a Go type: a $ref for structs and the spec's scalars.
func (g *schemaGen) of(t reflect.Type) map[string]any {
	switch {
	case t == durationType:
		return map[string]any{"$ref": "#/$defs/duration"}
	case t == percentType:
		return map[string]any{"$ref": "#/$defs/percent"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.Struct:
		name := t.Name()
		if _, done := g.defs[name]; !done {
			g.defs[name] = nil // placeholder: a type that refers to itself ends here
			g.defs[name] = g.object(t)
		}
		return map[string]any{"$ref": "#/$defs/" + name}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem()), "maxItems": MaxItems}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.of(t.Elem()), "maxProperties": MaxItems,
			"propertyNames": map[string]any{"minLength": 1, "maxLength": MaxKeyBytes}}
	case reflect.String:
		return map[string]any{"type": "string", "maxLength": MaxStringBytes}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	}
	panic("spec schema: no JSON Schema for Go type " + t.String())
}

// object is the schema of a struct: its yaml keys, closed to others.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	for _, f := range specFields(t) {
		s := g.of(f.Type)
		if enum, ok := fieldEnums[t][f.Name]; ok {
			if f.Type.Kind() == reflect.Slice {
				s["items"] = map[string]any{"enum": enum}
			} else {
				s = map[string]any{"enum": enum}
			}
		}
		if p, ok := fieldPatterns[t][f.Name]; ok {
			s["pattern"] = p
		}
		if d := docOf(t, f.StructField); d != "" {
			s["description"] = d
		}
		props[f.key] = s
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if d, _ := fieldDocs(); d[t.Name()] != "" {
		out["description"] = d[t.Name()]
	}
	if req := fieldRequired[t]; len(req) > 0 {
		out["required"] = req
	}
	return out
}

// specField is an exported struct field with the yaml key it is written under.
type specField struct {
	reflect.StructField
	key string
}

// specFields lists a struct's fields in declaration order, as the decoder reads them (yamlFields).
func specFields(t reflect.Type) []specField {
	var out []specField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, specField{f, name})
	}
	return out
}
