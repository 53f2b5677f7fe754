package directory_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/directory"
)

func TestResolveWantsTheExactEnvironmentName(t *testing.T) {
	d := newTeam(t).parse(t, base)
	cases := []struct{ env, want string }{
		{"Production", `"Production" is not defined in team.yaml (defined: demo, production); did you mean production?`},
		{"prod", `"prod" is not defined in team.yaml (defined: demo, production)`},
		{"productoin", "did you mean production?"},
	}
	for _, c := range cases {
		_, err := d.Resolve("patient-portal", c.env)
		if !errors.Is(err, directory.ErrUnknownEnvironment) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resolve(%q): %v, want %q", c.env, err, c.want)
		}
	}
	if _, err := d.Resolve("patient-portal", "prod"); strings.Contains(err.Error(), "did you mean") {
		t.Errorf("prod is too far from any name to guess: %v", err)
	}
}

func TestResolveFoldsTheServiceOverrideIn(t *testing.T) {
	d := newTeam(t).parse(t, base)
	cases := []struct {
		service, env string
		start, steer []string
		signed       bool
	}{
		{"patient-portal", "production", []string{"release_manager", "development_lead"}, []string{"release_manager", "operations_lead"}, true},
		{"billing", "production", []string{"release_manager"}, []string{"release_manager", "operations_lead"}, true},
		{"patient-portal", "demo", []string{"release_manager"}, []string{"release_manager"}, false},
	}
	for _, c := range cases {
		s, err := d.Resolve(c.service, c.env)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Policy.Start, c.start) || !slices.Equal(s.Policy.Steer, c.steer) || s.RequireSigned() != c.signed || s.Policy.Services != nil {
			t.Errorf("%s to %s: policy %+v, require signed %v", c.service, c.env, s.Policy, s.RequireSigned())
		}
	}
	// Folding copies: changing a snapshot leaves the directory alone.
	s, _ := d.Resolve("patient-portal", "production")
	s.Policy.Start[0] = "changed"
	s.Policy.Signoffs["approvals"]["x"] = "y"
	if d.Environments["production"].Services["patient-portal"].Start[0] != "release_manager" || len(d.Environments["production"].Signoffs["approvals"]) != 4 {
		t.Error("the snapshot shares memory with the directory")
	}
}

func TestSnapshotRoleQueries(t *testing.T) {
	s, err := newTeam(t).parse(t, base).Resolve("patient-portal", "production")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		got  any
		want any
	}{
		{"priya holds development_lead", s.HasRole("priya", "development_lead"), true},
		{"priya does not hold operations_lead", s.HasRole("priya", "operations_lead"), false},
		{"an unknown person holds nothing", s.HasRole("mallory", "development_lead"), false},
		{"everyone holds full_team", s.HasRole("grace", "full_team"), true},
		{"rosa may start", s.AnyRole("rosa", s.Policy.Start), true},
		{"priya may start patient-portal", s.AnyRole("priya", s.Policy.Start), true},
		{"grace may not steer", s.AnyRole("grace", s.Policy.Steer), false},
		{"members of operations_lead", ids(s.Members("operations_lead")), "olivia"},
		{"members of full_team, sorted", ids(s.Members("full_team")), "grace,henry,olivia,priya,rosa"},
		{"members of nothing", ids(s.Members("auditor")), ""},
		{"no key lines for an unknown person", s.KeyLines("mallory"), ""},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if p, ok := s.Person("priya"); !ok || p.Email != "priya.raman@example.org" || len(p.Keys) != 1 || !strings.HasPrefix(p.Keys[0].Fingerprint, "SHA256:") {
		t.Errorf("Person(priya) = %+v %v", p, ok)
	}
}

func ids(ps []directory.PinnedPerson) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return strings.Join(out, ",")
}

func TestTheSnapshotTravelsAsSnakeCaseJSON(t *testing.T) {
	s, err := newTeam(t).parse(t, base).Resolve("patient-portal", "production")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"digest":`, `"environment":"production"`, `"service":"patient-portal"`, `"policy":{"signatures":"required"`, `"fingerprint":"SHA256:`, `"line":"ssh-ed25519 `} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON lacks %s: %s", w, b)
		}
	}
	if strings.Contains(string(b), "services") {
		t.Errorf("service overrides are folded in, not carried: %s", b)
	}
	var back directory.Snapshot
	if err := json.Unmarshal(b, &back); err != nil || !back.HasRole("priya", "development_lead") || back.KeyLines("priya") != s.KeyLines("priya") {
		t.Errorf("round trip: %v", err)
	}
}

// TestARotatedKeyIsGoneFromTheNextSnapshot replaces priya's key and checks that
// a sign-off signed with the old one no longer verifies against the snapshot.
func TestARotatedKeyIsGoneFromTheNextSnapshot(t *testing.T) {
	tm := newTeam(t)
	old := tm.signers["priya"]
	before, _ := tm.parse(t, base).Resolve("patient-portal", "production")
	tm.signers["priya"] = newSigner(t)
	after, _ := tm.parse(t, base).Resolve("patient-portal", "production")
	oldFP := before.People[slices.IndexFunc(before.People, func(p directory.PinnedPerson) bool { return p.ID == "priya" })].Keys[0].Fingerprint
	p, _ := after.Person("priya")
	if len(p.Keys) != 1 || p.Keys[0].Fingerprint == oldFP || strings.Contains(after.KeyLines("priya"), keyLine(old, "")[:60]) {
		t.Fatalf("after rotation priya has %+v, the old key %s must be gone", p.Keys, oldFP)
	}
	st := approval.Statement{WorkflowID: "release:patient-portal:production", RunID: "run-1", Block: "approvals", Slot: "development_lead",
		Person: "priya", Decision: "approve", Version: "2.4.0", SpecDigest: "abc", SignedAt: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	sig, err := approval.Sign(old, st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := approval.Verify(st, sig, before.KeyLines("priya")); err != nil {
		t.Fatalf("the old key verified before the rotation: %v", err)
	}
	if _, err := approval.Verify(st, sig, after.KeyLines("priya")); !errors.Is(err, approval.ErrUnknownKey) {
		t.Errorf("the old key after the rotation: %v, want ErrUnknownKey", err)
	}
	removed, _ := tm.parse(t, strings.Replace(base, "    keys:\n      - KEY(priya)\n", "", 1)).Resolve("patient-portal", "production")
	if removed.KeyLines("priya") != "" {
		t.Errorf("removed key still pinned: %q", removed.KeyLines("priya"))
	}
}

func TestSignersOfAVerifiedDirectoryArePinned(t *testing.T) {
	tm := newTeam(t)
	v, err := directory.LoadVerified(tm.write(t, base, "olivia", "henry"), directory.VerifyOptions{Admins: tm.anchor("olivia", "henry")})
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.Dir.Resolve("patient-portal", "production")
	if err != nil || strings.Join(s.Signers, ",") != "henry,olivia" || s.Digest != v.Dir.Digest {
		t.Fatalf("snapshot signers %v digest %s: %v", s.Signers, s.Digest, err)
	}
}
