package approval

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// The OpenSSH signature format (PROTOCOL.sshsig in the OpenSSH sources).
const (
	sigMagic   = "SSHSIG"
	sigVersion = 1
	armorBegin = "-----BEGIN SSH SIGNATURE-----"
	armorEnd   = "-----END SSH SIGNATURE-----"
	// signHash is the hash Sign uses (ssh-keygen's default); Verify accepts sha256 too.
	signHash = "sha512"
)

// Verified describes an accepted signature, for the record.
type Verified struct {
	// Fingerprint is the signing key's SHA256 fingerprint ("SHA256:...").
	Fingerprint string `json:"fingerprint"`
	// KeyType is the key's type, e.g. ssh-ed25519.
	KeyType string `json:"key_type"`
	// Algorithm is the signature algorithm, e.g. rsa-sha2-512.
	Algorithm string `json:"algorithm"`
}

// Sign signs st with signer and returns the armored SSH signature
// ("-----BEGIN SSH SIGNATURE-----", the same format as `ssh-keygen -Y sign -n
// golive-approval`), to be sent as Signoff.Signature. RSA keys sign with
// rsa-sha2-512. It validates st first; it does not check that the key is the
// one the spec registers (Verify does).
func Sign(signer ssh.Signer, st Statement) (string, error) { return sign(signer, st) }

// signable is a canonical statement Sign and Verify work on: a sign-off
// Statement or an InputStatement.
type signable interface {
	// Bytes is the exact message signed.
	Bytes() []byte
	Validate() error
	// who is the person the statement says signed it.
	who() string
	// when is the signing time inside the statement.
	when() time.Time
	// describe names what the statement is about, for a refusal message.
	describe() string
}

func sign(signer ssh.Signer, st signable) (string, error) {
	if err := st.Validate(); err != nil {
		return "", err
	}
	return signBytes(signer, Namespace, st.Bytes())
}

// signBytes makes the armored SSHSIG of msg in namespace. RSA keys sign with rsa-sha2-512.
func signBytes(signer ssh.Signer, namespace string, msg []byte) (string, error) {
	pub := signer.PublicKey()
	if err := acceptKey(pub); err != nil {
		return "", err
	}
	data := signedData(namespace, signHash, msg)
	var sig *ssh.Signature
	var err error
	if pub.Type() == ssh.KeyAlgoRSA {
		as, ok := signer.(ssh.AlgorithmSigner)
		if !ok {
			return "", fmt.Errorf("%w: this RSA signer cannot make rsa-sha2-512 signatures", ErrWeakKey)
		}
		sig, err = as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = signer.Sign(rand.Reader, data)
	}
	if err != nil {
		return "", fmt.Errorf("sign with %s: %w", ssh.FingerprintSHA256(pub), err)
	}
	var blob []byte
	blob = append(blob, sigMagic...)
	blob = binary.BigEndian.AppendUint32(blob, sigVersion)
	blob = appendString(blob, pub.Marshal())
	blob = appendString(blob, []byte(namespace))
	blob = appendString(blob, nil) // reserved
	blob = appendString(blob, []byte(signHash))
	blob = appendString(blob, ssh.Marshal(sig))
	return armor(blob), nil
}

// Verify checks that signature is a valid golive-approval SSH signature of st
// by one of the trusted keys (ParseKeys syntax: the person's OpenSSH public key
// line, or allowed_signers entries whose principals match st.Person and whose
// namespaces and validity window admit the statement). It returns what signed,
// or an error wrapping one of ErrUnsigned, ErrMalformed, ErrNamespace,
// ErrUnknownKey, ErrWeakKey or ErrBadSignature, whose message reads as the
// refusal reason.
//
// Verify is pure and deterministic (no clock, I/O or randomness): call it from
// workflow code with a statement the workflow builds itself. Combine it with
// CheckFreshness(st.SignedAt, workflow.Now(ctx), ...) to bound the signing time.
func Verify(st Statement, signature, trusted string) (Verified, error) {
	return verifyTrusted(st, signature, trusted)
}

// VerifyKeys is Verify with keys already parsed by ParseKeys.
func VerifyKeys(st Statement, signature string, keys []Key) (Verified, error) {
	return verifyKeys(st, signature, keys)
}

func verifyTrusted(st signable, signature, trusted string) (Verified, error) {
	if strings.TrimSpace(signature) == "" {
		return Verified{}, fmt.Errorf("%w: the input carries no signature", ErrUnsigned)
	}
	if err := st.Validate(); err != nil {
		return Verified{}, err
	}
	keys, err := ParseKeys(trusted)
	if err != nil {
		return Verified{}, fmt.Errorf("registered key of %s: %w", st.who(), err)
	}
	return verifyKeys(st, signature, keys)
}

func verifyKeys(st signable, signature string, keys []Key) (Verified, error) {
	if strings.TrimSpace(signature) == "" {
		return Verified{}, fmt.Errorf("%w: the input carries no signature", ErrUnsigned)
	}
	if err := st.Validate(); err != nil {
		return Verified{}, err
	}
	return verifyBytes(Namespace, st.Bytes(), signature,
		func(pub ssh.PublicKey) error { return trustedFor(keys, pub, st.who(), st.when()) },
		func(fp string) string {
			return fmt.Sprintf("the signature by %s (key %s) is not over this %s: it was made for another release, run or input, or altered", st.who(), fp, st.describe())
		})
}

// verifyBytes checks one SSHSIG over msg in namespace: trusted says whether its
// key may sign here, mismatch words a signature that is not over msg.
func verifyBytes(namespace string, msg []byte, signature string, trusted func(ssh.PublicKey) error, mismatch func(fingerprint string) string) (Verified, error) {
	s, err := parseSignature(signature)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if s.namespace != namespace {
		return Verified{}, fmt.Errorf("%w: signed for namespace %q, not %q", ErrNamespace, s.namespace, namespace)
	}
	fp := ssh.FingerprintSHA256(s.pub)
	if err := trusted(s.pub); err != nil {
		return Verified{}, fmt.Errorf("%w: signed by %s %s, %v", ErrUnknownKey, s.pub.Type(), fp, err)
	}
	if err := acceptKey(s.pub); err != nil {
		return Verified{}, err
	}
	if !slices.Contains(sigAlgorithms(s.pub.Type()), s.sig.Format) {
		return Verified{}, fmt.Errorf("%w: %s signature with a %s key (want %s)", ErrWeakKey, s.sig.Format, s.pub.Type(), strings.Join(sigAlgorithms(s.pub.Type()), " or "))
	}
	if len(s.sig.Rest) > 0 {
		return Verified{}, fmt.Errorf("%w: signature: trailing data", ErrMalformed)
	}
	var h []byte
	switch s.hash {
	case "sha512":
		d := sha512.Sum512(msg)
		h = d[:]
	case "sha256":
		d := sha256.Sum256(msg)
		h = d[:]
	default:
		return Verified{}, fmt.Errorf("%w: hash %q (want sha256 or sha512)", ErrWeakKey, s.hash)
	}
	if err := s.pub.Verify(signedDataHashed(s.namespace, s.hash, h), s.sig); err != nil {
		return Verified{}, fmt.Errorf("%w: %s", ErrBadSignature, mismatch(fp))
	}
	return Verified{Fingerprint: fp, KeyType: s.pub.Type(), Algorithm: s.sig.Format}, nil
}

// trustedFor returns nil when a key equal to pub is registered for person,
// for Namespace, at signedAt; otherwise why not.
func trustedFor(keys []Key, pub ssh.PublicKey, person string, signedAt time.Time) error {
	want := pub.Marshal()
	reason := "which is not a key registered for " + person
	for _, k := range keys {
		if !bytes.Equal(k.PublicKey.Marshal(), want) {
			continue
		}
		switch {
		case k.Principals != nil && !matchPrincipal(k.Principals, person):
			reason = fmt.Sprintf("which is registered for %s, not %s", strings.Join(k.Principals, ","), person)
		case k.Namespaces != nil && !slices.Contains(k.Namespaces, Namespace):
			reason = fmt.Sprintf("which is registered for namespaces %s only", strings.Join(k.Namespaces, ","))
		case !k.ValidAfter.IsZero() && signedAt.Before(k.ValidAfter):
			reason = "which is valid only after " + k.ValidAfter.Format(time.RFC3339)
		case !k.ValidBefore.IsZero() && !signedAt.Before(k.ValidBefore):
			reason = "which is valid only before " + k.ValidBefore.Format(time.RFC3339)
		default:
			return nil
		}
	}
	return errors.New(reason)
}

// sigAlgorithms lists the signature algorithms accepted for a key type.
func sigAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{keyType}
}

type parsedSig struct {
	pub       ssh.PublicKey
	namespace string
	hash      string
	sig       *ssh.Signature
}

// parseSignature reads an armored or bare-base64 SSHSIG blob.
func parseSignature(text string) (parsedSig, error) {
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, armorBegin) {
		end := strings.Index(text, armorEnd)
		if end < 0 {
			return parsedSig{}, errors.New("no " + armorEnd + " line")
		}
		text = text[len(armorBegin):end]
	}
	text = strings.Join(strings.Fields(text), "")
	blob, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return parsedSig{}, errors.New("not base64")
	}
	if !bytes.HasPrefix(blob, []byte(sigMagic)) {
		return parsedSig{}, errors.New("not an SSH signature")
	}
	r := reader(blob[len(sigMagic):])
	version := r.uint32()
	pubBlob, ns, _, hash, sigBlob := r.string(), r.string(), r.string(), r.string(), r.string()
	if r.err != nil {
		return parsedSig{}, r.err
	}
	if len(r.rest) > 0 {
		return parsedSig{}, errors.New("trailing data")
	}
	if version != sigVersion {
		return parsedSig{}, fmt.Errorf("version %d (want %d)", version, sigVersion)
	}
	pub, err := ssh.ParsePublicKey(pubBlob)
	if err != nil {
		return parsedSig{}, fmt.Errorf("public key: %v", err)
	}
	sr := reader(sigBlob)
	format, sblob := sr.string(), sr.string()
	if sr.err != nil {
		return parsedSig{}, sr.err
	}
	return parsedSig{pub: pub, namespace: string(ns), hash: string(hash),
		sig: &ssh.Signature{Format: string(format), Blob: sblob, Rest: sr.rest}}, nil
}

// signedData is the blob actually signed: magic, namespace, reserved, hash algorithm, H(message).
func signedData(ns, hash string, message []byte) []byte {
	var h []byte
	if hash == "sha256" {
		d := sha256.Sum256(message)
		h = d[:]
	} else {
		d := sha512.Sum512(message)
		h = d[:]
	}
	return signedDataHashed(ns, hash, h)
}

func signedDataHashed(ns, hash string, h []byte) []byte {
	var b []byte
	b = append(b, sigMagic...)
	b = appendString(b, []byte(ns))
	b = appendString(b, nil)
	b = appendString(b, []byte(hash))
	return appendString(b, h)
}

func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func armor(blob []byte) string {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b strings.Builder
	b.WriteString(armorBegin + "\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n" + armorEnd + "\n")
	return b.String()
}

// wire reads SSH wire-format fields, remembering the first error.
type wire struct {
	rest []byte
	err  error
}

func reader(b []byte) *wire { return &wire{rest: b} }

func (w *wire) uint32() uint32 {
	if w.err != nil {
		return 0
	}
	if len(w.rest) < 4 {
		w.err = errors.New("truncated")
		return 0
	}
	v := binary.BigEndian.Uint32(w.rest)
	w.rest = w.rest[4:]
	return v
}

func (w *wire) string() []byte {
	n := w.uint32()
	if w.err != nil {
		return nil
	}
	if uint64(len(w.rest)) < uint64(n) {
		w.err = errors.New("truncated")
		return nil
	}
	s := w.rest[:n]
	w.rest = w.rest[n:]
	return s
}
