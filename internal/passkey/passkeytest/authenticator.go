// Package passkeytest is a software WebAuthn authenticator for tests: it
// registers ES256 and EdDSA credentials and makes assertions and attestation
// ("none") responses, each field of which a test may alter.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/golive/golive/internal/passkey"
)

// Authenticator holds the private keys of the credentials it registered.
type Authenticator struct {
	// RPID and Origin are what a browser on the approval page would use.
	RPID, Origin string
	keys         map[string]key
	counter      uint32
}

type key struct {
	alg int
	ec  *ecdsa.PrivateKey
	ed  ed25519.PrivateKey
}

// New returns an authenticator for rpID, used from origin.
func New(rpID, origin string) *Authenticator {
	return &Authenticator{RPID: rpID, Origin: origin, keys: map[string]key{}}
}

// Register makes a credential with alg (passkey.AlgES256 or AlgEdDSA) and
// returns it as the directory would hold it.
func (a *Authenticator) Register(alg int, label string) passkey.Credential {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	var k key
	var cose []byte
	switch alg {
	case passkey.AlgES256:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		k = key{alg: alg, ec: priv}
		raw, _ := priv.PublicKey.ECDH()
		pt := raw.Bytes() // 0x04 || X || Y
		cose = mustCBOR(map[int]any{1: 2, 3: alg, -1: 1, -2: pt[1:33], -3: pt[33:65]})
	case passkey.AlgEdDSA:
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		k = key{alg: alg, ed: priv}
		cose = mustCBOR(map[int]any{1: 1, 3: alg, -1: 6, -2: []byte(pub)})
	default:
		panic(fmt.Sprintf("passkeytest: algorithm %d", alg))
	}
	cid := passkey.EncodeB64(id)
	a.keys[cid] = k
	return passkey.Credential{ID: cid, PublicKey: passkey.EncodeB64(cose), Label: label, Added: "2026-12-07", Fingerprint: passkey.Fingerprint(cose)}
}

// Options alter what an assertion says; the zero value makes a valid one.
type Options struct {
	// Type, Origin and RPID replace the client data type, the origin and the RP ID hashed.
	Type, Origin, RPID string
	// NoUP and NoUV clear the user-present and user-verified flags.
	NoUP, NoUV  bool
	CrossOrigin bool
}

// Assert signs challenge with credential cred as navigator.credentials.get would.
func (a *Authenticator) Assert(cred passkey.Credential, challenge []byte, o Options) passkey.Assertion {
	k, ok := a.keys[cred.ID]
	if !ok {
		panic("passkeytest: credential not registered here")
	}
	cd := a.clientData(passkey.ClientDataGet, challenge, o)
	a.counter++
	ad := a.authData(o, nil)
	h := sha256.Sum256(cd)
	sig := k.sign(append(ad, h[:]...))
	return passkey.Assertion{
		CredentialID: cred.ID, AuthenticatorData: passkey.EncodeB64(ad), ClientDataJSON: passkey.EncodeB64(cd),
		Signature: passkey.EncodeB64(sig), UserHandle: passkey.EncodeB64([]byte("test-user")),
	}
}

// Attestation is a registration response ("none" attestation) for cred, as
// navigator.credentials.create returns it: client data JSON and attestation object.
func (a *Authenticator) Attestation(cred passkey.Credential, challenge []byte) (clientDataJSON, attestationObject []byte) {
	cd := a.clientData(passkey.ClientDataCreate, challenge, Options{})
	id, _ := passkey.DecodeB64(cred.ID)
	cose, _ := passkey.DecodeB64(cred.PublicKey)
	att := make([]byte, 16) // AAGUID: zeros
	att = binary.BigEndian.AppendUint16(att, uint16(len(id)))
	att = append(append(att, id...), cose...)
	ad := a.authData(Options{}, att)
	return cd, mustCBOR(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
}

func (a *Authenticator) clientData(typ string, challenge []byte, o Options) []byte {
	if o.Type != "" {
		typ = o.Type
	}
	origin := a.Origin
	if o.Origin != "" {
		origin = o.Origin
	}
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": passkey.EncodeB64(challenge), "origin": origin, "crossOrigin": o.CrossOrigin})
	return b
}

func (a *Authenticator) authData(o Options, attested []byte) []byte {
	rp := a.RPID
	if o.RPID != "" {
		rp = o.RPID
	}
	h := sha256.Sum256([]byte(rp))
	flags := byte(passkey.FlagUserPresent | passkey.FlagUserVerified)
	if o.NoUP {
		flags &^= passkey.FlagUserPresent
	}
	if o.NoUV {
		flags &^= passkey.FlagUserVerified
	}
	if attested != nil {
		flags |= passkey.FlagAttested
	}
	ad := append(h[:], flags)
	ad = binary.BigEndian.AppendUint32(ad, a.counter)
	return append(ad, attested...)
}

func (k key) sign(msg []byte) []byte {
	if k.alg == passkey.AlgEdDSA {
		return ed25519.Sign(k.ed, msg)
	}
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, k.ec, h[:])
	if err != nil {
		panic(err)
	}
	return sig
}

func mustCBOR(v any) []byte {
	em, _ := cbor.CTAP2EncOptions().EncMode()
	b, err := em.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
