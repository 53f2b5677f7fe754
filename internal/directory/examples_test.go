package directory_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/spec"
)

const examples = "../../examples"

// TestShippedDirectoriesLoadVerifyAndBackTheirSpecs loads every directory in
// examples/directory, verifies those that ship a signature file against the
// shipped anchor, and checks the example specs against them.
func TestShippedDirectoriesLoadVerifyAndBackTheirSpecs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examples, "directory", "*.yaml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("shipped directories: %v %v", files, err)
	}
	anchor, err := os.ReadFile(filepath.Join(examples, "directory", "admins"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		d, err := directory.Load(f)
		if err != nil {
			t.Fatalf("load %s: %v", f, err)
		}
		if _, err := os.Stat(f + directory.SigSuffix); err == nil {
			v, err := directory.LoadVerified(f, directory.VerifyOptions{Admins: string(anchor)})
			if err != nil {
				t.Fatalf("verify %s: %v", f, err)
			}
			if !v.Signed || strings.Join(v.Signers, ",") != "henry,olivia" {
				t.Errorf("%s: signed %v by %v, want henry and olivia", f, v.Signed, v.Signers)
			}
		}
		if len(d.Environments) == 0 {
			t.Errorf("%s: no environments", f)
		}
	}
	for _, c := range []struct{ dir, spec string }{
		{"directory/demo.yaml", "demo.yaml"},
		{"directory/healthcare.yaml", "healthcare-production.yaml"},
	} {
		d, err := directory.Load(filepath.Join(examples, c.dir))
		if err != nil {
			t.Fatal(err)
		}
		l, err := spec.Load(filepath.Join(examples, c.spec))
		if err != nil {
			t.Fatal(err)
		}
		snap, err := d.Resolve(l.Spec.Service, l.Spec.Environment)
		if err != nil {
			t.Fatal(err)
		}
		if problems := snap.CheckSpec(l.Spec); len(problems) > 0 {
			t.Errorf("%s against %s:\n%s", c.spec, c.dir, strings.Join(problems, "\n"))
		}
	}
}

// TestTheFormatReferenceExampleParses keeps docs/directory.md's example true.
func TestTheFormatReferenceExampleParses(t *testing.T) {
	doc, err := os.ReadFile("../../docs/directory.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## Format\n\n```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml example under ## Format")
	}
	d, err := directory.Parse("docs/directory.md", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Resolve("patient-portal", "production"); err != nil {
		t.Fatal(err)
	}
}
