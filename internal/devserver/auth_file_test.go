package devserver_test

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golive/golive/internal/devserver"
)

func TestClientAccessFileMapsCommonNames(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]devserver.Access
	}{
		{"one worker", "# who may reach the dev server\nworker: golive-worker\npeople:\n  rosa: writer\n  ops: reader\n",
			map[string]devserver.Access{"golive-worker": devserver.AccessWorker, "rosa": devserver.AccessWriter, "ops": devserver.AccessReader}},
		{"worker list", "worker: [w1, w2]\n",
			map[string]devserver.Access{"w1": devserver.AccessWorker, "w2": devserver.AccessWorker}},
		{"people only", "people: {carol: reader}\n", map[string]devserver.Access{"carol": devserver.AccessReader}},
	} {
		got, err := devserver.ParseClientAccess("access.yaml", []byte(tc.text))
		if err != nil || !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

// TestClientAccessFileStrict: every mistake is reported, each at its line
// and column.
func TestClientAccessFileStrict(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{"access.yaml:1:1: empty"}},
		{"grants nothing", "people: {}\n", []string{"access.yaml:1:1: grants no access"}},
		{"not a mapping", "- rosa\n", []string{"access.yaml:1:1: want a mapping"}},
		{"unknown key", "worker: w\nadmins:\n  rosa: writer\n", []string{`access.yaml:2:1: unknown key "admins"`}},
		{"key twice", "worker: w1\nworker: w2\n", []string{"access.yaml:2:1: worker given twice"}},
		{"bad access", "people:\n  rosa: writer\n  ops: admin\n", []string{`access.yaml:3:8: people: ops: access "admin", want writer or reader`}},
		{"worker under people", "people:\n  w: worker\n", []string{"access.yaml:2:6:", "under the worker key"}},
		{"duplicate name", "worker: rosa\npeople:\n  rosa: writer\n", []string{`access.yaml:3:3: certificate Common Name "rosa" given twice (first at line 1)`}},
		{"empty name", "worker: \"\"\n", []string{"access.yaml:1:9: empty certificate Common Name"}},
		{"null name", "people:\n  ~: reader\n", []string{"access.yaml:2:3: empty certificate Common Name"}},
		{"spaces", "worker: \" w \"\n", []string{"access.yaml:1:9:", "surrounding spaces"}},
		{"worker mapping", "worker: {a: b}\n", []string{"access.yaml:1:9: worker: want a certificate Common Name or a list"}},
		{"people list", "people: [rosa]\n", []string{"access.yaml:1:9: people: want a mapping"}},
		{"several at once", "worker: []\npeople:\n  a: admin\nextra: 1\n",
			[]string{"access.yaml:1:9: worker: empty list", "access.yaml:3:6:", `access.yaml:4:1: unknown key "extra"`}},
		{"not YAML", "people: [\n", []string{"access.yaml: yaml:"}},
	} {
		got, err := devserver.ParseClientAccess("access.yaml", []byte(tc.text))
		if err == nil {
			t.Errorf("%s: no error, access %v", tc.name, got)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q, want it to contain %q", tc.name, err, w)
			}
		}
	}
}

func TestLoadClientAccessNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "access.yaml")
	if _, err := devserver.LoadClientAccess(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("worker: golive-worker\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := devserver.LoadClientAccess(path); err != nil || got["golive-worker"] != devserver.AccessWorker {
		t.Fatalf("LoadClientAccess: %v, %v", got, err)
	}
}
