package directory_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golive/golive/internal/directory"
)

// at returns "team.yaml:LINE:COL" of the first occurrence of marker in body.
func at(t *testing.T, body, marker string) string {
	t.Helper()
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("marker %q not in body", marker)
	}
	line := strings.Count(body[:i], "\n") + 1
	col := i - strings.LastIndex(body[:i], "\n")
	return fmt.Sprintf("team.yaml:%d:%d", line, col)
}

func TestTheBaseDirectoryParses(t *testing.T) {
	d := newTeam(t).parse(t, base)
	if d.Version != 1 || d.Quorum != 2 || len(d.People) != 5 || len(d.Environments) != 2 || len(d.Digest) != 64 {
		t.Fatalf("parsed %+v", d)
	}
	if got := d.Environments["production"].Services["patient-portal"].Start; strings.Join(got, ",") != "release_manager,development_lead" {
		t.Errorf("service override start = %v", got)
	}
}

// TestProblemsArePlacedAtFileLineColumn edits the base directory one way at a
// time and expects the problem at the place of the edit (marker), with its path.
func TestProblemsArePlacedAtFileLineColumn(t *testing.T) {
	cases := []struct {
		name, old, new, marker, want string
	}{
		{"unknown key", "    name: Priya Raman\n", "    name: Priya Raman\n    nickname: P\n", "nickname",
			`people[0].nickname: unknown key "nickname"`},
		{"misspelt key is suggested", "    roles: [compliance_officer]", "    role: [compliance_officer]", "role:",
			`people[3].role: unknown key "role" (did you mean "roles"?)`},
		{"duplicate person id", "  - id: grace", "  - id: priya", "priya\n    name: Grace",
			`people[3].id: person "priya" is defined twice (first at people[0], line 5)`},
		{"role in a policy held by nobody", "steer: [release_manager, operations_lead]", "steer: [release_manager, auditor]", "auditor",
			`environments.production.steer[1]: role "auditor" is held by nobody in people`},
		{"slot role held by nobody", "project_manager: project_manager}", "project_manager: product_owner}", "product_owner",
			`environments.production.signoffs.approvals.project_manager: role "product_owner" is held by nobody`},
		{"bad key line", "      - KEY(grace)", "      - ssh-ed25519 AAAAnotbase64 grace@test", "ssh-ed25519 AAAAnot",
			`people[3].keys[0]: malformed: key line 1: ssh-ed25519 key is not valid base64`},
		{"allowed_signers entry as a person key", "      - KEY(grace)", "      - grace KEY(grace)", "grace KEY",
			`people[3].keys[0]: want an OpenSSH public key line`},
		{"the same key for two people", "      - KEY(grace)", "      - KEY(priya)", "KEY(priya)\n  - id: rosa",
			`people[3].keys[0]: key SHA256:`},
		{"anchor", "    roles: [compliance_officer]", "    roles: &r [compliance_officer]", "&r",
			`YAML anchors (&r) are not allowed`},
		{"alias", "  - id: rosa\n    name: Rosa Martinez\n    roles: [release_manager]", "  - id: rosa\n    name: Rosa Martinez\n    roles: *r", "*r",
			`YAML aliases (*r) are not allowed`},
		{"wrong type", "quorum: 2", "quorum: two", "two", `quorum: want an integer, got the string "two"`},
		{"unquoted phone", `phone: "+15555550111"`, `phone: +15555550111`, "+1555", `people[0].phone: want a string, got the number`},
		{"version", "version: 1", "version: 2", "2\n", `version: is 2; this golive reads version 1`},
		{"unknown block", "      approvals: {", "      approval: {", "approval:", `environments.production.signoffs.approval: unknown sign-off block "approval" (known: approvals, completion, review)`},
		{"repeated key", "    name: Henry Adams\n", "    name: Henry Adams\n    name: Henry A.\n", "name: Henry A.", `people[2].name: key "name" repeated`},
		{"admin who is no person", "admins: [olivia, henry]", "admins: [olivia, hank]", "hank", `admins[1]: admin "hank" is not a person of this directory`},
		{"bad signatures mode", "signatures: optional", "signatures: maybe", "maybe", `environments.demo.signatures: "maybe" is not one of required or optional`},
		{"environment name", "  demo:\n", "  Demo:\n", "Demo", `environments.Demo: environment name "Demo" may hold only`},
		{"quorum above the admins", "quorum: 2", "quorum: 3", "3\n", `quorum: is 3, but only 2 admins are listed`},
		{"services inside a service", "{start: [release_manager, development_lead]}", "{services: {x: {}}}", "services: {x", `environments.production.services.patient-portal.services: unknown key "services"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTeam(t)
			if !strings.Contains(base, c.old) {
				t.Fatalf("%q not in base", c.old)
			}
			tmpl := strings.Replace(base, c.old, c.new, 1)
			if c.name == "alias" { // the alias needs its anchor
				tmpl = strings.Replace(tmpl, "    roles: [compliance_officer]", "    roles: &r [compliance_officer]", 1)
			}
			_, err := directory.Parse("team.yaml", []byte(tm.yaml(tmpl)))
			var errs directory.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want directory.Errors, got %v", err)
			}
			// Placeholders fill whole lines' ends, so places in tmpl are places in the file.
			want := at(t, tmpl, c.marker) + ": " + c.want
			if !strings.Contains(err.Error(), want) {
				t.Errorf("errors:\n%v\nwant a line containing:\n%s", err, want)
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnceUpToFifty(t *testing.T) {
	tm := newTeam(t)
	two := tm.yaml(strings.Replace(strings.Replace(base, "quorum: 2", "quorum: two", 1), "  - id: grace", "  - id: Grace", 1))
	_, err := directory.Parse("team.yaml", []byte(two))
	if err == nil || !strings.Contains(err.Error(), "quorum: want an integer") {
		t.Fatalf("want the quorum problem, got %v", err)
	}
	var extra strings.Builder
	for i := range 60 {
		fmt.Fprintf(&extra, "    x%d: y\n", i)
	}
	many := tm.yaml(strings.Replace(base, "    name: Priya Raman\n", "    name: Priya Raman\n"+extra.String(), 1))
	_, err = directory.Parse("team.yaml", []byte(many))
	var errs directory.Errors
	if !errors.As(err, &errs) || len(errs) != directory.MaxErrors+1 || !strings.Contains(errs[directory.MaxErrors].Error(), "10 more problems not shown") {
		t.Fatalf("want %d problems and a count of the rest, got %d:\n%v", directory.MaxErrors, len(errs), err)
	}
}

func TestAFileOverOneMebibyteIsRefusedUnread(t *testing.T) {
	big := []byte(newTeam(t).yaml(base) + "# " + strings.Repeat("x", directory.MaxFileSize) + "\n")
	if _, err := directory.Parse("team.yaml", big); err == nil || !strings.Contains(err.Error(), "team.yaml: the file is") {
		t.Fatalf("Parse: want a size error, got %v", err)
	}
	path := filepath.Join(t.TempDir(), "team.yaml")
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := directory.Load(path); err == nil || !strings.Contains(err.Error(), "over 1048576 bytes") {
		t.Fatalf("Load: want a size error, got %v", err)
	}
}

func TestAnAliasBombIsRefusedBeforeExpansion(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	_, err := directory.Parse("team.yaml", []byte(bomb))
	if err == nil || !strings.Contains(err.Error(), "team.yaml:1:4: YAML anchors (&a) are not allowed") {
		t.Fatalf("want the anchor refused, got %v", err)
	}
}
