package passkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"

	"github.com/fxamacker/cbor/v2"
)

// COSE algorithm identifiers golive accepts (IANA COSE Algorithms registry).
const (
	AlgES256 = -7 // ECDSA P-256 with SHA-256
	AlgEdDSA = -8 // Ed25519
)

// Algorithms lists the COSE algorithms a passkey may use, in the order
// golive offers them to the browser at enrollment.
var Algorithms = []int{AlgES256, AlgEdDSA}

// coseKey is the subset of a COSE_Key (RFC 9052 section 7, RFC 9053) that
// ES256 and EdDSA keys use.
type coseKey struct {
	Kty int    `cbor:"1,keyasint"`
	Alg int    `cbor:"3,keyasint"`
	Crv int    `cbor:"-1,keyasint"`
	X   []byte `cbor:"-2,keyasint"`
	Y   []byte `cbor:"-3,keyasint,omitempty"`
}

const (
	ktyOKP     = 1
	ktyEC2     = 2
	crvP256    = 1
	crvEd25519 = 6
)

// PublicKey is a parsed credential public key.
type PublicKey struct {
	// Alg is the COSE algorithm (AlgES256 or AlgEdDSA).
	Alg int
	ec  *ecdsa.PublicKey
	ed  ed25519.PublicKey
}

// coseDecoder refuses duplicate map keys and indefinite lengths: one key has one encoding.
var coseDecoder, _ = cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, IndefLength: cbor.IndefLengthForbidden, MaxNestedLevels: 4}.DecMode()

// ParsePublicKey parses a COSE_Key (the bytes a registration's attested
// credential data holds, as the directory stores them base64url-encoded).
// Only ES256 (EC2, P-256) and EdDSA (OKP, Ed25519) keys are accepted.
func ParsePublicKey(cose []byte) (PublicKey, error) {
	var k coseKey
	if err := coseDecoder.Unmarshal(cose, &k); err != nil {
		return PublicKey{}, fmt.Errorf("%w: COSE key: %v", ErrMalformed, err)
	}
	switch {
	case k.Kty == ktyEC2 && k.Alg == AlgES256 && k.Crv == crvP256:
		if len(k.X) != 32 || len(k.Y) != 32 {
			return PublicKey{}, fmt.Errorf("%w: COSE P-256 key with %d/%d-byte coordinates, want 32", ErrMalformed, len(k.X), len(k.Y))
		}
		pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(k.X), Y: new(big.Int).SetBytes(k.Y)}
		if !pub.Curve.IsOnCurve(pub.X, pub.Y) { //nolint:staticcheck // the point check is what is wanted here
			return PublicKey{}, fmt.Errorf("%w: COSE P-256 key is not on the curve", ErrMalformed)
		}
		return PublicKey{Alg: AlgES256, ec: pub}, nil
	case k.Kty == ktyOKP && k.Alg == AlgEdDSA && k.Crv == crvEd25519:
		if len(k.X) != ed25519.PublicKeySize {
			return PublicKey{}, fmt.Errorf("%w: COSE Ed25519 key of %d bytes, want %d", ErrMalformed, len(k.X), ed25519.PublicKeySize)
		}
		return PublicKey{Alg: AlgEdDSA, ed: ed25519.PublicKey(k.X)}, nil
	}
	return PublicKey{}, fmt.Errorf("%w: COSE key type %d, algorithm %d, curve %d: golive accepts ES256 (P-256) and EdDSA (Ed25519) passkeys", ErrMalformed, k.Kty, k.Alg, k.Crv)
}

// verify checks sig over msg.
func (p PublicKey) verify(msg, sig []byte) bool {
	switch p.Alg {
	case AlgES256:
		h := sha256.Sum256(msg)
		return ecdsa.VerifyASN1(p.ec, h[:], sig)
	case AlgEdDSA:
		return ed25519.Verify(p.ed, msg, sig)
	}
	return false
}

// AlgName names a COSE algorithm for people.
func AlgName(alg int) string {
	switch alg {
	case AlgES256:
		return "ES256"
	case AlgEdDSA:
		return "EdDSA"
	}
	return fmt.Sprintf("COSE %d", alg)
}

// Fingerprint names a COSE public key the way golive records proofs:
// "passkey:SHA256:" and the unpadded base64 of the key bytes' SHA-256, like ssh-keygen -l.
func Fingerprint(cose []byte) string {
	sum := sha256.Sum256(cose)
	return "passkey:SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}
