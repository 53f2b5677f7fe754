package spec_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/golive/golive/internal/spec"
)

var update = flag.Bool("update", false, "rewrite docs/spec.md and docs/spec.schema.json (go generate ./internal/spec)")

// compiled is the spec's schema, compiled by a JSON Schema validator against the 2020-12 metaschema.
func compiled(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := spec.Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource("spec.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("spec.schema.json")
	if err != nil {
		t.Fatalf("the spec schema does not compile: %v", err)
	}
	return s
}

// asJSON reads YAML (anchors and merge keys resolved) as the JSON value a validator checks.
func asJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEveryExampleValidatesAgainstTheSchema(t *testing.T) {
	s := compiled(t)
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(asJSON(t, data)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if _, err := spec.Parse(f, data); err != nil {
			t.Errorf("%s does not load: %v", f, err)
		}
	}
}

func TestTheSchemaRefusesWhatTheLoaderRefuses(t *testing.T) {
	s := compiled(t)
	for name, edit := range map[string][2]string{
		"misspelt key":        {"service: portal", "servce: portal"},
		"unknown deploy":      {"target: demo", "target: kubernetes"},
		"bare number":         {"backup:\n", "readiness: {timeout: 15}\nbackup:\n"},
		"percent without %":   {"backup:\n", "thresholds: {critical: {error_rate: 0.05}}\nbackup:\n"},
		"capital environment": {"environment: staging", "environment: Staging"},
		"person without name": {"[{id: eve, name: Eve}]", "[{id: eve}]"},
	} {
		t.Run(name, func(t *testing.T) {
			bad := strings.Replace(minimal, edit[0], edit[1], 1)
			if bad == minimal {
				t.Fatalf("edit %q not applied", edit[0])
			}
			if err := s.Validate(asJSON(t, []byte(minimal))); err != nil {
				t.Fatalf("minimal spec: %v", err)
			}
			if s.Validate(asJSON(t, []byte(bad))) == nil {
				t.Error("the schema accepts it")
			}
			if _, err := spec.Parse("bad.yaml", []byte(bad)); err == nil {
				t.Error("the loader accepts it")
			}
		})
	}
}

func TestEveryFieldOfTheSchemaIsDescribed(t *testing.T) {
	raw, err := spec.Schema()
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		Defs map[string]struct {
			Description string `json:"description"`
			Properties  map[string]struct {
				Description string `json:"description"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	if len(root.Defs) < 20 {
		t.Fatalf("only %d definitions", len(root.Defs))
	}
	for name, def := range root.Defs {
		if def.Description == "" {
			t.Errorf("%s has no description (a doc comment on the type in internal/spec)", name)
		}
		for key, p := range def.Properties {
			if p.Description == "" {
				t.Errorf("%s.%s has no description (a doc comment on the field in internal/spec)", name, key)
			}
		}
	}
}

// TestCommittedReferenceIsUpToDate fails when docs/spec.md or docs/spec.schema.json
// differ from what the types generate; `go generate ./internal/spec` rewrites them.
func TestCommittedReferenceIsUpToDate(t *testing.T) {
	ref, err := spec.Reference()
	if err != nil {
		t.Fatal(err)
	}
	schema, err := spec.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]byte{"../../docs/spec.md": []byte(ref), "../../docs/spec.schema.json": schema} {
		if *update {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run go generate ./internal/spec", file)
		}
	}
}
