package spec_test

import (
	"os"
	"testing"

	"github.com/golive/golive/internal/spec"
)

// FuzzParse feeds arbitrary YAML to the strict loader: it may refuse, never panic.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"../../examples/demo.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("service: x\nenvironment: y\nteam: {a: [{id: p, name: P}]}\n"))
	f.Add([]byte("thresholds: {critical: {error_rate: 150%}}\n"))
	for _, h := range hostileSpecs() { // also in testdata/fuzz/FuzzParse as hostile_*
		f.Add([]byte(h.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := spec.Parse("fuzz.yaml", data)
		if err == nil && l == nil {
			t.Fatal("nil spec without an error")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}
