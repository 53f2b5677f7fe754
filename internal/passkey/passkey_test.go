package passkey_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/passkey/passkeytest"
)

var rp = passkey.RP{ID: "localhost", Origins: []string{"http://localhost:8234"}}

// statement is the sign-off a vector approves; tests change one field at a time.
func statement() approval.Statement {
	return approval.Statement{
		WorkflowID: "release:demo-portal:demo", RunID: "0b6f7a2e-run", Block: "approvals", Slot: "compliance_officer",
		Person: "carol", Decision: "approve", Comment: "BAAs on file", Version: "1.1.0", SpecDigest: "4f2a",
		SignedAt: time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC),
	}
}

// vector is one recorded assertion: the credential, the statement it signed, the assertion.
type vector struct {
	Name       string             `json:"name"`
	RP         passkey.RP         `json:"rp"`
	Credential passkey.Credential `json:"credential"`
	Statement  string             `json:"statement"`
	Assertion  passkey.Assertion  `json:"assertion"`
}

const vectorsFile = "testdata/vectors.json"

// loadVectors reads the fixed vectors; GOLIVE_WRITE_VECTORS=1 makes them anew
// with the software authenticator (done once; the file is committed).
func loadVectors(t *testing.T) []vector {
	t.Helper()
	if os.Getenv("GOLIVE_WRITE_VECTORS") == "1" {
		auth := passkeytest.New(rp.ID, rp.Origins[0])
		var vs []vector
		for _, alg := range passkey.Algorithms {
			cred := auth.Register(alg, "carol's "+passkey.AlgName(alg)+" key")
			st := statement().String()
			vs = append(vs, vector{Name: passkey.AlgName(alg), RP: rp, Credential: cred, Statement: st,
				Assertion: auth.Assert(cred, passkey.Challenge([]byte(st)), passkeytest.Options{})})
		}
		b, _ := json.MarshalIndent(vs, "", "  ")
		if err := os.WriteFile(vectorsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("%s holds %d vectors, want ES256 and EdDSA", vectorsFile, len(vs))
	}
	return vs
}

func TestRecordedAssertionsVerifyForTheirStatement(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Statement != statement().String() {
			t.Fatalf("%s: the vector's statement is not statement(): the statement format changed", v.Name)
		}
		got, err := passkey.VerifyAssertion(v.Assertion, passkey.Challenge([]byte(v.Statement)), []passkey.Credential{v.Credential}, v.RP, true)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if got.CredentialID != v.Credential.ID || !got.UserVerified || got.Fingerprint != v.Credential.Fingerprint || len(got.Replay) != 64 {
			t.Fatalf("%s: verified %+v", v.Name, got)
		}
	}
}

// alter changes one byte field of a recorded assertion without re-signing it.
func alterB64(s string, f func([]byte) []byte) string {
	b, _ := passkey.DecodeB64(s)
	return passkey.EncodeB64(f(append([]byte(nil), b...)))
}

func alterClientData(a passkey.Assertion, key string, value any) passkey.Assertion {
	b, _ := passkey.DecodeB64(a.ClientDataJSON)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m[key] = value
	b, _ = json.Marshal(m)
	a.ClientDataJSON = passkey.EncodeB64(b)
	return a
}

func TestEachAlteredFieldOfARecordedAssertionIsRefusedForItsReason(t *testing.T) {
	for _, v := range loadVectors(t) {
		challenge := passkey.Challenge([]byte(v.Statement))
		other := statement()
		other.Comment = "changed"
		cases := []struct {
			name  string
			alter func(a passkey.Assertion) passkey.Assertion
			creds []passkey.Credential
			rp    passkey.RP
			chal  []byte
			want  error
		}{
			{name: "credential ID", alter: func(a passkey.Assertion) passkey.Assertion {
				a.CredentialID = alterB64(a.CredentialID, func(b []byte) []byte { b[0] ^= 1; return b })
				return a
			}, want: passkey.ErrUnknownCredential},
			{name: "credential not in the directory", creds: []passkey.Credential{}, want: passkey.ErrUnknownCredential},
			{name: "client data type", alter: func(a passkey.Assertion) passkey.Assertion { return alterClientData(a, "type", "webauthn.create") }, want: passkey.ErrType},
			{name: "client data challenge", alter: func(a passkey.Assertion) passkey.Assertion {
				return alterClientData(a, "challenge", passkey.EncodeB64(passkey.Challenge(other.Bytes())))
			}, want: passkey.ErrChallenge},
			{name: "statement with another comment", chal: passkey.Challenge(other.Bytes()), want: passkey.ErrChallenge},
			{name: "client data origin", alter: func(a passkey.Assertion) passkey.Assertion {
				return alterClientData(a, "origin", "http://evil.example")
			}, want: passkey.ErrOrigin},
			{name: "cross-origin frame", alter: func(a passkey.Assertion) passkey.Assertion { return alterClientData(a, "crossOrigin", true) }, want: passkey.ErrOrigin},
			{name: "origin not allowed by the RP", rp: passkey.RP{ID: v.RP.ID, Origins: []string{"https://approvals.example.org"}}, want: passkey.ErrOrigin},
			{name: "RP ID hash", alter: func(a passkey.Assertion) passkey.Assertion {
				a.AuthenticatorData = alterB64(a.AuthenticatorData, func(b []byte) []byte { b[5] ^= 1; return b })
				return a
			}, want: passkey.ErrRPID},
			{name: "another RP ID", rp: passkey.RP{ID: "example.org", Origins: v.RP.Origins}, want: passkey.ErrRPID},
			{name: "UP flag", alter: func(a passkey.Assertion) passkey.Assertion {
				a.AuthenticatorData = alterB64(a.AuthenticatorData, func(b []byte) []byte { b[32] &^= passkey.FlagUserPresent; return b })
				return a
			}, want: passkey.ErrUserPresence},
			{name: "UV flag", alter: func(a passkey.Assertion) passkey.Assertion {
				a.AuthenticatorData = alterB64(a.AuthenticatorData, func(b []byte) []byte { b[32] &^= passkey.FlagUserVerified; return b })
				return a
			}, want: passkey.ErrUserVerification},
			{name: "sign count", alter: func(a passkey.Assertion) passkey.Assertion {
				a.AuthenticatorData = alterB64(a.AuthenticatorData, func(b []byte) []byte { b[36]++; return b })
				return a
			}, want: passkey.ErrSignature},
			{name: "client data, a field not judged", alter: func(a passkey.Assertion) passkey.Assertion { return alterClientData(a, "topOrigin", "x") }, want: passkey.ErrSignature},
			{name: "signature", alter: func(a passkey.Assertion) passkey.Assertion {
				a.Signature = alterB64(a.Signature, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
				return a
			}, want: passkey.ErrSignature},
			{name: "signature not base64url", alter: func(a passkey.Assertion) passkey.Assertion { a.Signature = "%%%"; return a }, want: passkey.ErrMalformed},
			{name: "authenticator data too short", alter: func(a passkey.Assertion) passkey.Assertion {
				a.AuthenticatorData = alterB64(a.AuthenticatorData, func(b []byte) []byte { return b[:20] })
				return a
			}, want: passkey.ErrMalformed},
			{name: "client data not JSON", alter: func(a passkey.Assertion) passkey.Assertion {
				a.ClientDataJSON = passkey.EncodeB64([]byte("nope"))
				return a
			}, want: passkey.ErrMalformed},
			{name: "empty assertion", alter: func(passkey.Assertion) passkey.Assertion { return passkey.Assertion{} }, want: passkey.ErrMalformed},
		}
		for _, c := range cases {
			a, creds, r, chal := v.Assertion, []passkey.Credential{v.Credential}, v.RP, challenge
			if c.alter != nil {
				a = c.alter(a)
			}
			if c.creds != nil {
				creds = c.creds
			}
			if c.rp.ID != "" {
				r = c.rp
			}
			if c.chal != nil {
				chal = c.chal
			}
			_, err := passkey.VerifyAssertion(a, chal, creds, r, true)
			if !errors.Is(err, c.want) {
				t.Errorf("%s, %s altered: got %v, want %v", v.Name, c.name, err, c.want)
			}
		}
	}
}

// TestAssertionsOverAnotherInputAreRefused signs real assertions (software
// authenticator) over one statement and offers them for another.
func TestAssertionsOverAnotherInputAreRefused(t *testing.T) {
	auth := passkeytest.New(rp.ID, rp.Origins[0])
	cred := auth.Register(passkey.AlgES256, "carol's phone")
	creds := []passkey.Credential{cred}
	signed := statement()
	a := auth.Assert(cred, passkey.Challenge(signed.Bytes()), passkeytest.Options{})
	for name, change := range map[string]func(*approval.Statement){
		"another release": func(s *approval.Statement) { s.WorkflowID = "release:billing:demo" },
		"another run":     func(s *approval.Statement) { s.RunID = "other-run" },
		"another slot":    func(s *approval.Statement) { s.Slot = "project_manager" },
		"a reject":        func(s *approval.Statement) { s.Decision = "reject" },
		"another comment": func(s *approval.Statement) { s.Comment += "." },
		"another time":    func(s *approval.Statement) { s.SignedAt = s.SignedAt.Add(time.Second) },
		"another version": func(s *approval.Statement) { s.Version = "1.2.0" },
	} {
		st := statement()
		change(&st)
		if _, err := passkey.VerifyAssertion(a, passkey.Challenge(st.Bytes()), creds, rp, true); !errors.Is(err, passkey.ErrChallenge) {
			t.Errorf("assertion over the sign-off offered for %s: %v, want ErrChallenge", name, err)
		}
	}
	// An attest statement never matches a sign-off's, nor the other way round.
	in := approval.InputStatement{WorkflowID: signed.WorkflowID, RunID: signed.RunID, Input: "attest", Person: "carol", SignedAt: signed.SignedAt}
	if _, err := passkey.VerifyAssertion(a, passkey.Challenge(in.Bytes()), creds, rp, true); !errors.Is(err, passkey.ErrChallenge) {
		t.Errorf("sign-off assertion offered as an attestation: %v", err)
	}
	// Another person's passkey, well signed, does not count for carol.
	mallory := auth.Register(passkey.AlgEdDSA, "mallory")
	m := auth.Assert(mallory, passkey.Challenge(signed.Bytes()), passkeytest.Options{})
	if _, err := passkey.VerifyAssertion(m, passkey.Challenge(signed.Bytes()), creds, rp, true); !errors.Is(err, passkey.ErrUnknownCredential) {
		t.Errorf("another credential: %v", err)
	}
}

func TestUserVerificationIsRequiredOnlyWhereAsked(t *testing.T) {
	auth := passkeytest.New(rp.ID, rp.Origins[0])
	cred := auth.Register(passkey.AlgEdDSA, "key")
	chal := passkey.Challenge(statement().Bytes())
	a := auth.Assert(cred, chal, passkeytest.Options{NoUV: true})
	if _, err := passkey.VerifyAssertion(a, chal, []passkey.Credential{cred}, rp, true); !errors.Is(err, passkey.ErrUserVerification) {
		t.Fatalf("no UV where required: %v", err)
	}
	v, err := passkey.VerifyAssertion(a, chal, []passkey.Credential{cred}, rp, false)
	if err != nil || v.UserVerified {
		t.Fatalf("no UV where not required: %+v %v", v, err)
	}
	if _, err := passkey.VerifyAssertion(auth.Assert(cred, chal, passkeytest.Options{NoUP: true}), chal, []passkey.Credential{cred}, rp, false); !errors.Is(err, passkey.ErrUserPresence) {
		t.Fatalf("no UP: %v", err)
	}
}

// TestAReplayedAssertionVerifiesAgainWithTheSameReplayKey documents the
// division of work: VerifyAssertion is pure, so the same assertion verifies
// each time; the workflow refuses the second one by Verified.Replay.
func TestAReplayedAssertionVerifiesAgainWithTheSameReplayKey(t *testing.T) {
	v := loadVectors(t)[0]
	chal := passkey.Challenge([]byte(v.Statement))
	first, err1 := passkey.VerifyAssertion(v.Assertion, chal, []passkey.Credential{v.Credential}, v.RP, true)
	again, err2 := passkey.VerifyAssertion(v.Assertion, chal, []passkey.Credential{v.Credential}, v.RP, true)
	if err1 != nil || err2 != nil || first.Replay != again.Replay {
		t.Fatalf("replay: %v %v, keys %s %s", err1, err2, first.Replay, again.Replay)
	}
}

func TestPublicKeysOtherThanES256AndEdDSAAreRefused(t *testing.T) {
	for _, cose := range []string{"", "oA", "pAEDAzkBACBYIA"} { // empty, {}, an RSA-ish header
		b, _ := passkey.DecodeB64(cose)
		if _, err := passkey.ParsePublicKey(b); !errors.Is(err, passkey.ErrMalformed) || !strings.Contains(err.Error(), "COSE") {
			t.Errorf("COSE %q: %v", cose, err)
		}
	}
}
