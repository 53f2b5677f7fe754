package directory_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/passkey/passkeytest"
)

// withPasskeys is base with a webauthn block and two passkeys for grace, one
// of each algorithm; the added date is written plain (a YAML timestamp) once.
func withPasskeys(t *testing.T) (string, []passkey.Credential) {
	t.Helper()
	auth := passkeytest.New("localhost", "http://localhost:8234")
	es, ed := auth.Register(passkey.AlgES256, "phone"), auth.Register(passkey.AlgEdDSA, "laptop")
	body := strings.Replace(base, "      - KEY(grace)\n", "      - KEY(grace)\n    passkeys:\n"+
		"      - credential_id: "+es.ID+"\n        public_key: "+es.PublicKey+"\n        label: Grace's phone\n        added: 2026-12-07\n"+
		"      - {credential_id: "+ed.ID+", public_key: "+ed.PublicKey+", label: Grace's laptop, added: \"2026-12-06\"}\n", 1)
	body += "webauthn:\n  rp_id: localhost\n  origins: [\"http://localhost:8234\"]\n"
	return body, []passkey.Credential{es, ed}
}

func TestPasskeysAreLoadedAndPinnedWithTheirRelyingParty(t *testing.T) {
	body, creds := withPasskeys(t)
	d := newTeam(t).parse(t, body)
	g, _ := d.Person("grace")
	if len(g.Passkeys) != 2 || g.Passkeys[0].Added != "2026-12-07" || g.Passkeys[1].Label != "Grace's laptop" {
		t.Fatalf("grace's passkeys: %+v", g.Passkeys)
	}
	s, err := d.Resolve("patient-portal", "production")
	if err != nil {
		t.Fatal(err)
	}
	pinned := s.Passkeys("grace")
	if len(pinned) != 2 || pinned[0].ID != creds[0].ID || pinned[0].Fingerprint != creds[0].Fingerprint || pinned[1].Fingerprint != creds[1].Fingerprint {
		t.Fatalf("pinned passkeys %+v, want %+v", pinned, creds)
	}
	if s.Passkeys("priya") != nil || s.Passkeys("nobody") != nil {
		t.Errorf("people without passkeys have some")
	}
	if rp := s.RP(); rp.ID != "localhost" || len(rp.Origins) != 1 || !s.RequireUserVerification() {
		t.Errorf("RP %+v, UV required %v", rp, s.RequireUserVerification())
	}
	// What the snapshot pins verifies an assertion made by the enrolled authenticator.
	auth := passkeytest.New("localhost", "http://localhost:8234")
	other := auth.Register(passkey.AlgEdDSA, "x")
	if _, err := passkey.VerifyAssertion(auth.Assert(other, []byte("c"), passkeytest.Options{}), []byte("c"), pinned, s.RP(), true); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Errorf("a passkey not pinned: %v", err)
	}
	if (directory.Snapshot{}).RequireUserVerification() != true {
		t.Error("no webauthn block: UV must default to required")
	}
}

func TestPasskeyProblemsArePlacedAtFileLineColumn(t *testing.T) {
	body, creds := withPasskeys(t)
	cases := []struct{ name, old, new, marker, want string }{
		{"no webauthn block", "webauthn:\n  rp_id: localhost\n  origins: [\"http://localhost:8234\"]\n", "", "passkeys:",
			"people[3].passkeys: passkeys need the directory's webauthn block"},
		{"credential ID not base64url", "credential_id: " + creds[0].ID, "credential_id: \"not base64!\"", "\"not base64!\"",
			"people[3].passkeys[0].credential_id: is not base64url"},
		{"public key not COSE", "public_key: " + creds[0].PublicKey, "public_key: AAAA", "AAAA",
			"people[3].passkeys[0].public_key: malformed passkey assertion: COSE key"},
		{"no label", "        label: Grace's phone\n", "", "credential_id: " + creds[0].ID,
			"people[3].passkeys[0].label: is required"},
		{"bad date", "added: 2026-12-07", "added: yesterday", "yesterday",
			`people[3].passkeys[0].added: want a date YYYY-MM-DD, got the string "yesterday"`},
		{"unknown passkey key", "        label: Grace's phone\n", "        label: Grace's phone\n        aaguid: x\n", "aaguid",
			`people[3].passkeys[0].aaguid: unknown key "aaguid"`},
		{"same passkey twice", "credential_id: " + creds[1].ID, "credential_id: " + creds[0].ID, creds[0].ID + ", public_key",
			"people[3].passkeys[1].credential_id: passkey "},
		{"http origin off localhost", "rp_id: localhost\n  origins: [\"http://localhost:8234\"]", "rp_id: example.org\n  origins: [\"http://approvals.example.org\"]", "\"http://approvals",
			`webauthn.origins[0]: "http://approvals.example.org": passkeys need https`},
		{"origin off the RP ID", "origins: [\"http://localhost:8234\"]", "origins: [\"https://evil.example\"]", "\"https://evil",
			`webauthn.origins[0]: "https://evil.example" is not on the RP ID "localhost"`},
		{"origin with a path", "origins: [\"http://localhost:8234\"]", "origins: [\"http://localhost:8234/approve\"]", "\"http://localhost:8234/",
			`webauthn.origins[0]: "http://localhost:8234/approve" is not an origin`},
		{"RP ID with a scheme", "rp_id: localhost", "rp_id: https://localhost", "https://localhost",
			`webauthn.rp_id: "https://localhost" is not a domain name`},
		{"user verification mode", "rp_id: localhost\n", "rp_id: localhost\n  user_verification: sometimes\n", "sometimes",
			`webauthn.user_verification: "sometimes" is not required or preferred`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTeam(t)
			if !strings.Contains(body, c.old) {
				t.Fatalf("%q not in the body", c.old)
			}
			tmpl := strings.Replace(body, c.old, c.new, 1)
			_, err := directory.Parse("team.yaml", []byte(tm.yaml(tmpl)))
			var errs directory.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want directory.Errors, got %v", err)
			}
			if want := at(t, tmpl, c.marker) + ": " + c.want; !strings.Contains(err.Error(), want) {
				t.Errorf("errors:\n%v\nwant a line containing:\n%s", err, want)
			}
		})
	}
}
