package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits of what a spec file may hold. A spec is written by people and read by
// golive validate, golive start and the worker; these bounds keep a hostile or
// broken file (YAML built to expand, a value of any size, a watch that checks
// every nanosecond) from costing more than a fraction of a second and a few MiB.
// The README's configuration section lists them.
const (
	// MaxFileBytes is the largest spec file read (the full checklist written out,
	// examples/healthcare-production.yaml, is about 19 KiB).
	MaxFileBytes = 256 << 10
	// MaxStringBytes is the longest single value (a public key, a SQL query, a title).
	MaxStringBytes = 16 << 10
	// MaxKeyBytes is the longest mapping key (a field, role or metric name).
	MaxKeyBytes = 256
	// MaxItems is the most entries one list or mapping may hold.
	MaxItems = 1000
	// MaxNodes is the most values the decoder visits, every expansion of a YAML
	// alias or merge key included; a small legitimate use of anchors
	// (a person defined once, used under several roles) stays far below it.
	MaxNodes = 20_000
	// MaxInputBytes bounds the loaded spec as JSON, which is the bulk of the
	// release workflow's input: Temporal warns at 512 KiB and refuses a payload
	// over 2 MiB, and the record carries more than the spec.
	MaxInputBytes = 512 << 10
	// MaxWatchChecks is the most scheduled watch checks (watch.phases, plus
	// rollback.watch); the checklist's plan has 30.
	MaxWatchChecks = 500
	// MaxReminders is the most reminders one sign-off block may send within its
	// timeout (timeout / remind_every); the defaults send 6.
	MaxReminders = 100
	// MaxPrintedErrors is how many problems Errors prints before "and N more".
	MaxPrintedErrors = 50
	// maxDecodeErrors is how many problems the decoder collects before it stops.
	maxDecodeErrors = 1000
)

var durationType = reflect.TypeFor[Duration]()

// zeroMeaningful lists the Duration fields where an explicit 0s means something:
// level 3 responds immediately, and any p95 growth counts as degradation. In
// every other Duration field 0s names no wait at all, so the loader refuses it
// instead of silently putting the default in its place.
var zeroMeaningful = map[reflect.Type]map[string]bool{
	reflect.TypeFor[Level]():            {"Response": true},
	reflect.TypeFor[RollbackTriggers](): {"DegradationMin": true},
}

// count visits one more node; past MaxNodes it records one error and reports false.
func (d *decoder) count(n *yaml.Node, path string) bool {
	d.visited++
	if d.stopped {
		return false
	}
	if d.visited <= MaxNodes {
		return true
	}
	d.errAt(n, path, "the spec expands to more than %d values (YAML aliases or merge keys repeated beyond reason): write it out, or use fewer aliases", MaxNodes)
	d.stopped = true
	return false
}

// tooMany reports a list or mapping with more than MaxItems entries.
func (d *decoder) tooMany(n *yaml.Node, path string) bool {
	entries := len(n.Content)
	if n.Kind == yaml.MappingNode {
		entries /= 2
	}
	if entries <= MaxItems {
		return false
	}
	d.errAt(n, path, "has %d entries, more than the limit of %d", entries, MaxItems)
	return true
}

// longKey reports a mapping key longer than MaxKeyBytes.
func (d *decoder) longKey(k *yaml.Node, path string) bool {
	if len(k.Value) <= MaxKeyBytes {
		return false
	}
	d.errAt(k, path, "a key of %d bytes is longer than the limit of %d", len(k.Value), MaxKeyBytes)
	return true
}

// longString reports a scalar longer than MaxStringBytes.
func (d *decoder) longString(n *yaml.Node, path string) bool {
	if n.Kind != yaml.ScalarNode || len(n.Value) <= MaxStringBytes {
		return false
	}
	d.errAt(n, path, "a value of %d bytes is longer than the limit of %d", len(n.Value), MaxStringBytes)
	return true
}

// finite reports a float field written as .nan or .inf.
func (d *decoder) finite(n *yaml.Node, v reflect.Value, path string) bool {
	if v.Kind() != reflect.Float64 || !(math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)) {
		return true
	}
	d.errAt(n, path, "%q is not a finite number", n.Value)
	return false
}

// checkZero refuses an explicit 0s in a Duration field where zero means no wait at all.
func (d *decoder) checkZero(n *yaml.Node, parent reflect.Type, f reflect.StructField, v reflect.Value, path string) {
	if f.Type != durationType || v.Int() != 0 || zeroMeaningful[parent][f.Name] {
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return
	}
	hint := ""
	if def, ok := defaultAt(path); ok {
		hint = ", or leave it out for the default " + def
	}
	d.errAt(n, path, "%s is no wait at all: write a positive duration%s", n.Value, hint)
}

// defaultAt is the default value at a field path outside lists and maps, as written in a spec.
func defaultAt(path string) (string, bool) {
	v := reflect.ValueOf(Defaults())
	for _, key := range strings.Split(path, ".") {
		if v.Kind() != reflect.Struct {
			return "", false
		}
		i, ok := yamlFields(v.Type())[key]
		if !ok {
			return "", false
		}
		v = v.Field(i)
	}
	d, ok := v.Interface().(Duration)
	if !ok || d == 0 {
		return "", false
	}
	return short(d), true
}

// checkInputSize refuses a spec whose JSON, the release workflow's input, is over MaxInputBytes.
func checkInputSize(s *Spec, file string) *FieldError {
	b, err := json.Marshal(s)
	if err != nil {
		return &FieldError{File: file, Line: 1, Column: 1, Msg: fmt.Sprintf("the spec cannot be sent as a workflow input: %v", err)}
	}
	if len(b) <= MaxInputBytes {
		return nil
	}
	return &FieldError{File: file, Line: 1, Column: 1, Msg: fmt.Sprintf(
		"the spec with its defaults is %d KiB as JSON, over the limit of %d KiB for a workflow input (Temporal refuses payloads over 2 MiB)",
		len(b)>>10, MaxInputBytes>>10)}
}
