package directory_test

import (
	"strings"
	"testing"

	"github.com/golive/golive/internal/spec"
)

// TestCheckSpecNamesEveryEntryTheDirectoryDoesNotBack starts from a spec that
// agrees with the base directory and breaks it one way at a time.
func TestCheckSpecNamesEveryEntryTheDirectoryDoesNotBack(t *testing.T) {
	tm := newTeam(t)
	snap, err := tm.parse(t, base).Resolve("patient-portal", "production")
	if err != nil {
		t.Fatal(err)
	}
	good := func() spec.Spec {
		return spec.Spec{
			Service: "patient-portal", Environment: "production",
			Team: map[string][]spec.Person{
				"development_lead":   {{ID: "priya", Name: "Priya Raman", Email: "priya.raman@example.org", PublicKey: keyLine(tm.signers["priya"], "priya")}},
				"operations_lead":    {{ID: "olivia", Name: "Olivia Chen"}},
				"compliance_officer": {{ID: "grace", Name: "Grace Kim"}},
				"project_manager":    {{ID: "henry", Name: "Henry Adams"}},
			},
			Approvals: spec.SignoffBlock{Slots: []spec.Slot{
				{ID: "development_lead", Role: "development_lead"}, {ID: "operations_lead", Role: "operations_lead"},
				{ID: "compliance_officer", Role: "compliance_officer"}, {ID: "project_manager", Role: "project_manager"},
			}},
		}
	}
	if problems := snap.CheckSpec(good()); len(problems) > 0 {
		t.Fatalf("the agreeing spec has problems: %q", problems)
	}
	cases := []struct {
		name string
		edit func(*spec.Spec)
		want string
	}{
		{"unknown person", func(s *spec.Spec) {
			s.Team["compliance_officer"] = append(s.Team["compliance_officer"], spec.Person{ID: "mallory", Name: "M"})
		},
			`team.compliance_officer[1]: "mallory" is not a person of the team directory team.yaml`},
		{"role the directory does not grant", func(s *spec.Spec) { s.Team["project_manager"] = []spec.Person{{ID: "grace", Name: "Grace Kim"}} },
			"team.project_manager[0]: grace is listed under project_manager, which the directory does not grant grace (grace holds compliance_officer)"},
		{"public key not among the directory's", func(s *spec.Spec) { s.Team["development_lead"][0].PublicKey = keyLine(newSigner(t), "priya@laptop") },
			"team.development_lead[0]: public_key SHA256:"},
		{"unparsable public key", func(s *spec.Spec) { s.Team["development_lead"][0].PublicKey = "ssh-ed25519 nope" },
			"team.development_lead[0]: public_key: malformed"},
		{"name differs", func(s *spec.Spec) { s.Team["operations_lead"][0].Name = "Olivia C." },
			`team.operations_lead[0]: name "Olivia C." differs from the directory's "Olivia Chen"`},
		{"email differs", func(s *spec.Spec) { s.Team["operations_lead"][0].Email = "olivia@evil.example" },
			`team.operations_lead[0]: email "olivia@evil.example" differs from the directory's "olivia.chen@example.org"`},
		{"phone differs", func(s *spec.Spec) { s.Team["operations_lead"][0].Phone = "+15550000000" },
			`team.operations_lead[0]: phone "+15550000000" is not in the directory (it has none for olivia)`},
		{"policy slot missing", func(s *spec.Spec) { s.Approvals.Slots = s.Approvals.Slots[:3] },
			`approvals.slots: the production policy requires slot "project_manager" (role project_manager), which the spec does not have`},
		{"policy slot with another role", func(s *spec.Spec) { s.Approvals.Slots[2].Role = "operations_lead" },
			`approvals.slots[2].role: slot "compliance_officer" has role "operations_lead", but the production policy requires "compliance_officer"`},
		{"another environment", func(s *spec.Spec) { s.Environment = "demo" },
			`environment: the spec says "demo", but the directory policy was resolved for "production"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good()
			c.edit(&s)
			problems := snap.CheckSpec(s)
			if len(problems) != 1 || !strings.Contains(problems[0], c.want) {
				t.Errorf("problems %q\nwant exactly one containing %q", problems, c.want)
			}
		})
	}
}
