// Package passkey verifies WebAuthn assertions (passkeys) over golive's
// canonical statements, so people without a terminal can prove their inputs.
//
// The challenge of an assertion is the SHA-256 of a statement's bytes
// (approval.Statement or approval.InputStatement, Bytes): the authenticator
// signs exactly "approve slot X of release Y run Z, version V, spec digest D,
// comment C, at T". VerifyAssertion is pure (no clock, no I/O, no randomness),
// so the release workflow judges an assertion itself against the credentials
// it pinned from the team directory: an approval web server can show a wrong
// page but cannot forge an approval.
//
// What VerifyAssertion cannot know is whether the same assertion came before:
// refusing a replay is the caller's job, keyed by Verified.Replay.
package passkey

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// ClientDataGet is the client data type of an assertion (navigator.credentials.get).
const ClientDataGet = "webauthn.get"

// ClientDataCreate is the client data type of a registration (navigator.credentials.create).
const ClientDataCreate = "webauthn.create"

// Authenticator data flags (WebAuthn Level 3, section 6.1).
const (
	FlagUserPresent  = 0x01
	FlagUserVerified = 0x04
	FlagBackupElig   = 0x08
	FlagBackedUp     = 0x10
	FlagAttested     = 0x40
	FlagExtensions   = 0x80
)

// authDataMin is rpIdHash (32) + flags (1) + signCount (4).
const authDataMin = 37

// Assertion is what the browser's navigator.credentials.get returned, each
// byte field base64url-encoded (unpadded), so it travels as JSON in an input
// payload (Signoff, Attest, Ack, RollbackRequest: field "passkey").
type Assertion struct {
	CredentialID      string `json:"credential_id"`
	AuthenticatorData string `json:"authenticator_data"`
	ClientDataJSON    string `json:"client_data_json"`
	Signature         string `json:"signature"`
	// UserHandle is the user.id given at enrollment (UserHandle), if the authenticator returned it.
	UserHandle string `json:"user_handle,omitempty"`
}

// Credential is one registered passkey of a person, as the team directory
// holds it and a release pins it.
type Credential struct {
	// ID is the credential ID, base64url (unpadded).
	ID string `json:"credential_id"`
	// PublicKey is the credential's COSE_Key, base64url (unpadded).
	PublicKey string `json:"public_key"`
	// Label says which device it is ("Carol's phone").
	Label string `json:"label,omitempty"`
	// Added is the date it was enrolled (YYYY-MM-DD).
	Added string `json:"added,omitempty"`
	// Fingerprint is Fingerprint(PublicKey bytes), what proofs record.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// RP is the relying party an assertion must be made for: the team
// directory's webauthn block (rp_id, origins), pinned with the release.
type RP struct {
	// ID is the RP ID, a domain (e.g. approvals.example.org, localhost).
	ID string `json:"rp_id"`
	// Origins are the exact origins the approval pages are served from (https://approvals.example.org).
	Origins []string `json:"origins"`
}

// Verified says what a valid assertion proved.
type Verified struct {
	// CredentialID, Label and Fingerprint name the passkey that signed.
	CredentialID string `json:"credential_id"`
	Label        string `json:"label,omitempty"`
	Fingerprint  string `json:"fingerprint"`
	// Alg is the COSE algorithm (AlgES256, AlgEdDSA).
	Alg int `json:"alg"`
	// UserVerified: the authenticator verified the user (PIN, biometrics).
	UserVerified bool `json:"user_verified"`
	// SignCount is the authenticator's counter (0 for authenticators without one, such as most synced passkeys).
	SignCount uint32 `json:"sign_count"`
	// Replay is the SHA-256 (hex) of what was signed (authenticator data ||
	// SHA-256(client data)): the same assertion sent twice has the same
	// Replay, whatever re-encoding of the signature it carries.
	Replay string `json:"replay"`
}

// Challenge is the WebAuthn challenge for a statement: SHA-256 of its bytes.
func Challenge(statement []byte) []byte {
	sum := sha256.Sum256(statement)
	return sum[:]
}

// clientData is the part of CollectedClientData golive judges.
type clientData struct {
	Type        string `json:"type"`
	Challenge   string `json:"challenge"`
	Origin      string `json:"origin"`
	CrossOrigin bool   `json:"crossOrigin"`
}

// VerifyAssertion checks that a was made by one of creds (the person's pinned
// passkeys) for rp, over challenge (Challenge of the statement the caller
// rebuilt from what it knows), with the user present and, when requireUV, verified.
// Errors wrap ErrMalformed, ErrType, ErrUnknownCredential, ErrChallenge,
// ErrOrigin, ErrRPID, ErrUserPresence, ErrUserVerification or ErrSignature.
// Pure: no clock, no I/O, no randomness.
func VerifyAssertion(a Assertion, challenge []byte, creds []Credential, rp RP, requireUV bool) (Verified, error) {
	raw, err := a.decode()
	if err != nil {
		return Verified{}, err
	}
	cred, key, err := find(creds, raw.id)
	if err != nil {
		return Verified{}, err
	}
	if err := checkClientData(raw.clientData, challenge, rp); err != nil {
		return Verified{}, err
	}
	flags, count, err := checkAuthData(raw.authData, rp, requireUV)
	if err != nil {
		return Verified{}, err
	}
	cdHash := sha256.Sum256(raw.clientData)
	signed := append(slices.Clip(raw.authData), cdHash[:]...)
	if !key.verify(signed, raw.sig) {
		return Verified{}, fmt.Errorf("%w: not signed by passkey %s over this authenticator data and client data", ErrSignature, short(cred.ID))
	}
	replay := sha256.Sum256(signed)
	return Verified{
		CredentialID: cred.ID, Label: cred.Label, Fingerprint: fingerprintOf(cred), Alg: key.Alg,
		UserVerified: flags&FlagUserVerified != 0, SignCount: count, Replay: hex.EncodeToString(replay[:]),
	}, nil
}

type rawAssertion struct{ id, authData, clientData, sig []byte }

// decode reads the base64url fields; each is required but the user handle.
func (a Assertion) decode() (rawAssertion, error) {
	var r rawAssertion
	for _, f := range []struct {
		name string
		v    string
		dst  *[]byte
	}{
		{"credential_id", a.CredentialID, &r.id}, {"authenticator_data", a.AuthenticatorData, &r.authData},
		{"client_data_json", a.ClientDataJSON, &r.clientData}, {"signature", a.Signature, &r.sig},
	} {
		b, err := DecodeB64(f.v)
		if err != nil || len(b) == 0 {
			return r, fmt.Errorf("%w: %s is not non-empty base64url", ErrMalformed, f.name)
		}
		*f.dst = b
	}
	return r, nil
}

// find returns the credential with ID id and its parsed key.
func find(creds []Credential, id []byte) (Credential, PublicKey, error) {
	for _, c := range creds {
		cid, err := DecodeB64(c.ID)
		if err != nil || !bytes.Equal(cid, id) {
			continue
		}
		cose, err := DecodeB64(c.PublicKey)
		if err != nil {
			return c, PublicKey{}, fmt.Errorf("%w: public key of passkey %s is not base64url", ErrMalformed, short(c.ID))
		}
		key, err := ParsePublicKey(cose)
		return c, key, err
	}
	return Credential{}, PublicKey{}, fmt.Errorf("%w: credential %s is not among the person's %d passkeys in the team directory",
		ErrUnknownCredential, short(EncodeB64(id)), len(creds))
}

func checkClientData(data, challenge []byte, rp RP) error {
	var cd clientData
	if err := json.Unmarshal(data, &cd); err != nil {
		return fmt.Errorf("%w: client data is not a JSON object: %v", ErrMalformed, err)
	}
	if cd.Type != ClientDataGet {
		return fmt.Errorf("%w: type %q", ErrType, clip(cd.Type))
	}
	got, err := DecodeB64(cd.Challenge)
	if err != nil || !bytes.Equal(got, challenge) {
		return fmt.Errorf("%w: the passkey signed challenge %s, this statement's is %s", ErrChallenge, clip(cd.Challenge), EncodeB64(challenge))
	}
	if !slices.Contains(rp.Origins, cd.Origin) {
		return fmt.Errorf("%w: made on %q; the team directory allows %s", ErrOrigin, clip(cd.Origin), strings.Join(rp.Origins, ", "))
	}
	if cd.CrossOrigin {
		return fmt.Errorf("%w: made inside a cross-origin frame on %q", ErrOrigin, clip(cd.Origin))
	}
	return nil
}

func checkAuthData(ad []byte, rp RP, requireUV bool) (byte, uint32, error) {
	if len(ad) < authDataMin {
		return 0, 0, fmt.Errorf("%w: authenticator data of %d bytes, want at least %d", ErrMalformed, len(ad), authDataMin)
	}
	want := sha256.Sum256([]byte(rp.ID))
	if rp.ID == "" || !bytes.Equal(ad[:32], want[:]) {
		return 0, 0, fmt.Errorf("%w: the authenticator signed for another RP ID than %q", ErrRPID, rp.ID)
	}
	flags := ad[32]
	if flags&FlagUserPresent == 0 {
		return 0, 0, fmt.Errorf("%w: the authenticator did not test for a person (UP flag clear)", ErrUserPresence)
	}
	if requireUV && flags&FlagUserVerified == 0 {
		return 0, 0, fmt.Errorf("%w: the team directory requires user verification (PIN or biometrics); UV flag clear", ErrUserVerification)
	}
	return flags, binary.BigEndian.Uint32(ad[33:37]), nil
}

func fingerprintOf(c Credential) string {
	if c.Fingerprint != "" {
		return c.Fingerprint
	}
	cose, _ := DecodeB64(c.PublicKey)
	return Fingerprint(cose)
}

// EncodeB64 is unpadded base64url, as WebAuthn and the directory spell bytes.
func EncodeB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// DecodeB64 reads base64url with or without padding.
func DecodeB64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16] + "…"
	}
	return id
}

// clip bounds text an outsider controls in error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
