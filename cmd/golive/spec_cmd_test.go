package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/golive/golive/internal/spec"
)

func TestSpecSchemaPrintsTheDraft2020Schema(t *testing.T) {
	out := runRoot(t, "spec", "schema")
	var s struct {
		Schema     string         `json:"$schema"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if s.Schema != spec.SchemaDialect || s.Properties["approvals"] == nil {
		t.Errorf("$schema %q, %d properties", s.Schema, len(s.Properties))
	}
}

func TestSpecDocsPrintsTheReference(t *testing.T) {
	want, err := spec.Reference()
	if err != nil {
		t.Fatal(err)
	}
	if got := runRoot(t, "spec", "docs"); string(got) != want {
		t.Errorf("golive spec docs differs from spec.Reference (%d bytes, want %d)", len(got), len(want))
	}
}

// runRoot runs the golive command line in process and returns what it printed.
func runRoot(t *testing.T, args ...string) []byte {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
