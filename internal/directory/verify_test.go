package directory_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/directory"
)

// TestQuorumCountsDistinctTrustedAdmins signs the base directory in various
// ways and checks what LoadVerified makes of it.
func TestQuorumCountsDistinctTrustedAdmins(t *testing.T) {
	cases := []struct {
		name    string
		signers []string // who signs the file, in order
		anchor  []string // whose keys the operator trusts (principal = ID)
		opts    directory.VerifyOptions
		body    func(string) string // edits the directory before it is written
		signed  []string            // want: accepted signers
		errs    []string            // want: the error says all of these
	}{
		{name: "no admin signed", anchor: []string{"olivia", "henry"},
			errs: []string{"has 0 of the 2 distinct admin signatures", "not signed by henry, olivia", "holds no signature (golive directory sign"}},
		{name: "one admin of two", signers: []string{"olivia"}, anchor: []string{"olivia", "henry"},
			errs: []string{"has 1 of the 2", "signed by olivia", "not signed by henry"}},
		{name: "two admins", signers: []string{"henry", "olivia"}, anchor: []string{"olivia", "henry"}, signed: []string{"henry", "olivia"}},
		{name: "the same admin twice counts once", signers: []string{"olivia", "olivia"}, anchor: []string{"olivia", "henry"},
			errs: []string{"has 1 of the 2", "not signed by henry"}},
		{name: "a key the anchor does not hold", signers: []string{"olivia", "priya"}, anchor: []string{"olivia", "henry"},
			errs: []string{"has 1 of the 2", "signature 2: key not registered for this person: signed by ssh-ed25519 SHA256:", "which is not a trusted key"}},
		{name: "an anchor key of someone who is no admin of the file", signers: []string{"olivia", "priya"}, anchor: []string{"olivia", "henry", "priya"},
			errs: []string{"signature 2: key SHA256:", "the anchor lists it for priya, not an admin of"}},
		{name: "an admin of the file the anchor does not trust", signers: []string{"olivia", "henry"}, anchor: []string{"olivia"},
			errs: []string{"has 1 of the 2", "signature 2:", "which is not a trusted key"}},
		{name: "the operator's quorum is higher", signers: []string{"olivia", "henry"}, anchor: []string{"olivia", "henry"},
			opts: directory.VerifyOptions{Quorum: 3}, errs: []string{"has 2 of the 3"}},
		{name: "the file's quorum is higher than the operator's", signers: []string{"olivia"}, anchor: []string{"olivia", "henry"},
			opts: directory.VerifyOptions{Quorum: 1}, errs: []string{"has 1 of the 2"}},
		{name: "a quorum of one when both say so", signers: []string{"olivia"}, anchor: []string{"olivia", "henry"},
			opts: directory.VerifyOptions{Quorum: 1}, body: func(s string) string { return strings.Replace(s, "quorum: 2", "quorum: 1", 1) },
			signed: []string{"olivia"}},
		{name: "unsigned allowed for dev", signers: []string{"olivia"}, anchor: []string{"olivia", "henry"},
			opts: directory.VerifyOptions{AllowUnsigned: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTeam(t)
			body := base
			if c.body != nil {
				body = c.body(body)
			}
			path := tm.write(t, body, c.signers...)
			c.opts.Admins = tm.anchor(c.anchor...)
			v, err := directory.LoadVerified(path, c.opts)
			if len(c.errs) > 0 {
				if !errors.Is(err, directory.ErrQuorum) {
					t.Fatalf("want ErrQuorum, got %v", err)
				}
				for _, w := range c.errs {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not say %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(v.Signers, ","); c.signed != nil && (got != strings.Join(c.signed, ",") || !v.Signed || len(v.Fingerprints) != len(c.signed)) {
				t.Errorf("signers %q signed %v fingerprints %v, want %v", got, v.Signed, v.Fingerprints, c.signed)
			}
			if c.opts.AllowUnsigned && (v.Signed || v.Problem == "" || len(v.Dir.Signers) != 0) {
				t.Errorf("unsigned allowed: got signed %v problem %q dir signers %v", v.Signed, v.Problem, v.Dir.Signers)
			}
			if c.signed != nil && strings.Join(v.Dir.Signers, ",") != strings.Join(c.signed, ",") {
				t.Errorf("Dir.Signers = %v", v.Dir.Signers)
			}
		})
	}
}

func TestASignatureOverAModifiedFileDoesNotCount(t *testing.T) {
	tm := newTeam(t)
	path := tm.write(t, base, "olivia", "henry")
	data, _ := os.ReadFile(path)
	edited := strings.Replace(string(data), "roles: [compliance_officer]", "roles: [compliance_officer, development_lead]", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := directory.LoadVerified(path, directory.VerifyOptions{Admins: tm.anchor("olivia", "henry")})
	for _, w := range []string{"has 0 of the 2", "signature 1: signature does not match", "signature 2: signature does not match", "not over these bytes"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not say %q", err, w)
		}
	}
}

func TestTheAnchorMustNameEachAdminOnceAndBeCurrent(t *testing.T) {
	tm := newTeam(t)
	path := tm.write(t, base, "olivia", "henry")
	olivia, henry := keyLine(tm.signers["olivia"], "o"), keyLine(tm.signers["henry"], "h")
	cases := []struct{ name, anchor, want string }{
		{"no anchor", "", "no trusted admin keys"},
		{"a plain key line names no admin", olivia + "\n" + "henry " + henry, "names no admin"},
		{"one key for two admins", "olivia,henry " + olivia + "\nhenry " + henry, "is listed for several admins (olivia, henry)"},
		{"expired", `olivia valid-before="20200101" ` + olivia + "\nhenry " + henry, "the anchor trusted it only until 2020-01-01"},
		{"another namespace", `olivia namespaces="golive-approval" ` + olivia + "\nhenry " + henry, "which is trusted for namespaces golive-approval only"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := directory.LoadVerified(path, directory.VerifyOptions{Admins: c.anchor})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v does not say %q", err, c.want)
			}
		})
	}
}

func TestASignatureInAnotherNamespaceDoesNotCount(t *testing.T) {
	tm := newTeam(t)
	path := tm.write(t, base)
	data, _ := os.ReadFile(path)
	var sigs string
	for _, id := range []string{"olivia", "henry"} {
		s, err := approval.SignMessage(tm.signers[id], approval.Namespace, data)
		if err != nil {
			t.Fatal(err)
		}
		sigs += s
	}
	_, err := directory.VerifyBytes(path, data, sigs, directory.VerifyOptions{Admins: tm.anchor("olivia", "henry")})
	if err == nil || !strings.Contains(err.Error(), `signed for namespace "golive-approval", not "golive-directory"`) {
		t.Fatalf("want a namespace refusal, got %v", err)
	}
}

func TestSignFileReplacesTheSameKeyAndDropsStaleSignatures(t *testing.T) {
	tm := newTeam(t)
	path := tm.write(t, base, "olivia")
	if _, err := directory.SignFile(path, tm.signers["olivia"], ""); err != nil {
		t.Fatal(err)
	}
	res, err := directory.SignFile(path, tm.signers["henry"], "henry")
	if err != nil || res.Admin != "henry" || res.Others != 1 {
		t.Fatalf("sign as henry: %+v %v", res, err)
	}
	sigs, _ := os.ReadFile(path + directory.SigSuffix)
	if blocks, _ := directory.SplitSignatures(string(sigs)); len(blocks) != 2 {
		t.Fatalf("want 2 signatures (olivia's replaced, henry's added), got %d", len(blocks))
	}
	if _, err := directory.LoadVerified(path, directory.VerifyOptions{Admins: tm.anchor("olivia", "henry")}); err != nil {
		t.Fatal(err)
	}
	if _, err := directory.SignFile(path, tm.signers["priya"], ""); err == nil || !strings.Contains(err.Error(), "is no admin's key") {
		t.Errorf("priya's key: want a refusal, got %v", err)
	}
	if _, err := directory.SignFile(path, tm.signers["olivia"], "henry"); err == nil || !strings.Contains(err.Error(), "is not one of henry's keys") {
		t.Errorf("olivia's key as henry: want a refusal, got %v", err)
	}
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, append(data, "# edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = directory.SignFile(path, tm.signers["olivia"], "")
	if err != nil || res.Dropped != 1 || !res.Replaced || res.Others != 0 {
		t.Fatalf("sign the edited file: %+v %v (want henry's stale signature dropped)", res, err)
	}
}
