package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golive/golive/internal/spec"
)

// golive worker (and golive dev) check the directory once at start: a file
// changed after its admins signed it, or one with no anchor, never runs.
func TestWorkerRefusesADirectoryWithoutItsQuorum(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	demo := filepath.Join("..", "..", "examples", "directory")
	b, err := os.ReadFile(filepath.Join(demo, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := os.ReadFile(filepath.Join(demo, "demo.yaml.sig"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "team.yaml")
	if err := os.WriteFile(tampered, []byte(strings.Replace(string(b), "roles: [release_manager]", "roles: [release_manager, compliance_officer]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tampered+".sig", sig, 0o644); err != nil {
		t.Fatal(err)
	}
	admins := filepath.Join(demo, "admins")
	for _, tc := range []struct {
		name string
		f    directoryFlags
		want string
	}{
		{"changed after signing", directoryFlags{file: tampered, admins: admins}, "refused"},
		{"no admin anchor", directoryFlags{file: filepath.Join(demo, "demo.yaml")}, "needs --directory-admins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.f.open(log); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("open: %v, want an error with %q", err, tc.want)
			}
		})
	}
	d, err := (&directoryFlags{file: filepath.Join(demo, "demo.yaml"), admins: admins}).open(log)
	if err != nil || d == nil {
		t.Fatalf("the signed demo directory was refused: %v", err)
	}
}

// golive validate|start --directory refuse a spec that names a person the
// team directory lacks before anything is sent, at file:line:col with the person.
func TestSpecCheckedAgainstTheDirectoryNamesFileLineAndPerson(t *testing.T) {
	demo := filepath.Join("..", "..", "examples")
	b, err := os.ReadFile(filepath.Join(demo, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "release.yaml")
	body := strings.Replace(string(b), "{id: carol, name: Carol Chen, email: carol@example.org, phone: \"+15555550103\"}", "{id: mallory, name: Mallory}", 1)
	if body == string(b) {
		t.Fatal("examples/demo.yaml no longer lists carol as written here")
	}
	if err := os.WriteFile(bad, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(demo, "directory", "demo.yaml")
	l, err := spec.Load(bad)
	if err != nil {
		t.Fatal(err)
	}
	err = checkDirectory(l, dir)
	if err == nil || !strings.Contains(err.Error(), bad+":") || !strings.Contains(err.Error(), "team.compliance_officer[0]") || !strings.Contains(err.Error(), `"mallory"`) {
		t.Fatalf("checkDirectory: %v, want %s:LINE:COL: team.compliance_officer[0]: ... \"mallory\"", err, bad)
	}
	good, err := spec.Load(filepath.Join(demo, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDirectory(good, dir); err != nil {
		t.Fatalf("the demo spec against the demo directory: %v", err)
	}
}
