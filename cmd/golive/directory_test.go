package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// golive runs the whole CLI with args and returns what it printed.
func golive(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestDirectorySignVerifyShow has the two demo admins sign a copy of the demo
// directory with the CLI, one signature at a time, and verifies and shows it.
func TestDirectorySignVerifyShow(t *testing.T) {
	t.Setenv("GOLIVE_USER", "")
	t.Setenv("GOLIVE_SIGNING_KEY", "")
	ex := filepath.Join("..", "..", "examples", "directory")
	data, err := os.ReadFile(filepath.Join(ex, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "directory.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	admins := filepath.Join(ex, "admins")

	out, err := golive(t, "directory", "sign", file, "--key", filepath.Join(ex, "keys", "olivia"), "--as", "olivia")
	if err != nil || !strings.Contains(out, "signed by olivia with SHA256:") {
		t.Fatalf("sign as olivia: %v\n%s", err, out)
	}
	if _, err := golive(t, "directory", "sign", file, "--key", filepath.Join(ex, "keys", "alice")); err == nil || !strings.Contains(err.Error(), "no admin's key") {
		t.Errorf("alice is no admin: %v", err)
	}
	if _, err := golive(t, "directory", "verify", file, "--admins", admins); err == nil || !strings.Contains(err.Error(), "has 1 of the 2") || !strings.Contains(err.Error(), "not signed by henry") {
		t.Fatalf("verify with one signature: %v", err)
	}
	if out, err := golive(t, "directory", "sign", file, "--key", filepath.Join(ex, "keys", "henry")); err != nil || !strings.Contains(out, "signed by henry") {
		t.Fatalf("sign as henry: %v\n%s", err, out)
	}
	out, err = golive(t, "directory", "verify", file, "--admins", admins)
	if err != nil || !strings.Contains(out, "ok, signed by henry, olivia") || !strings.Contains(out, "7 people, 9 roles, 3 environments (demo, production, staging)") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	out, err = golive(t, "directory", "verify", file, "--admins", admins, "-o", "json")
	var v struct {
		Signed  bool     `json:"signed"`
		Signers []string `json:"signers"`
	}
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || !v.Signed || len(v.Signers) != 2 {
		t.Fatalf("verify -o json: %v\n%s", err, out)
	}
	out, err = golive(t, "directory", "show", file)
	if err != nil || !strings.Contains(out, "environment production") || !strings.Contains(out, "release_manager (erin)") {
		t.Fatalf("show: %v\n%s", err, out)
	}
	out, err = golive(t, "directory", "show", file, "-o", "json")
	var o struct {
		Roles map[string][]string `json:"roles"`
	}
	if err != nil || json.Unmarshal([]byte(out), &o) != nil || strings.Join(o.Roles["operations_lead"], ",") != "bob" {
		t.Fatalf("show -o json: %v\n%s", err, out)
	}
}

func TestDirectoryShippedDemoVerifies(t *testing.T) {
	ex := filepath.Join("..", "..", "examples", "directory")
	if out, err := golive(t, "directory", "verify", filepath.Join(ex, "demo.yaml"), "--admins", filepath.Join(ex, "admins")); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
