package approval

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// DirectoryNamespace is the SSH signature namespace of team directory changes
// (ssh-keygen -Y sign -n golive-directory), so a signature made for an approval,
// a git commit or any other file never counts as an admin's signature of the directory.
const DirectoryNamespace = "golive-directory"

// SignMessage signs msg, byte for byte, in namespace and returns the armored SSH
// signature: the same format as `ssh-keygen -Y sign -n NAMESPACE -f KEY FILE`
// writes to FILE.sig. RSA keys sign with rsa-sha2-512.
func SignMessage(signer ssh.Signer, namespace string, msg []byte) (string, error) {
	if strings.TrimSpace(namespace) == "" {
		return "", fmt.Errorf("%w: empty signature namespace", ErrNamespace)
	}
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

// VerifyMessage checks that signature (armored or bare base64, one SSHSIG) is a
// valid signature of msg in namespace by one of keys (ParseKeys). A key's
// allowed_signers namespaces restrict it; its principals and validity window are
// not looked at (the message names no person and no time): the caller maps the
// returned fingerprint to the entries that carry it and applies those. Errors
// wrap ErrUnsigned, ErrMalformed, ErrNamespace, ErrUnknownKey, ErrWeakKey or
// ErrBadSignature. Pure: no clock, I/O or randomness.
func VerifyMessage(namespace string, msg []byte, signature string, keys []Key) (Verified, error) {
	if strings.TrimSpace(signature) == "" {
		return Verified{}, fmt.Errorf("%w: no signature", ErrUnsigned)
	}
	s, err := parseSignature(signature)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if s.namespace != namespace {
		return Verified{}, fmt.Errorf("%w: signed for namespace %q, not %q", ErrNamespace, s.namespace, namespace)
	}
	fp := ssh.FingerprintSHA256(s.pub)
	if err := trustedForNamespace(keys, s.pub, namespace); err != nil {
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
		return Verified{}, fmt.Errorf("%w: the signature by key %s is not over these bytes: it was made for another version of the file, or altered", ErrBadSignature, fp)
	}
	return Verified{Fingerprint: fp, KeyType: s.pub.Type(), Algorithm: s.sig.Format}, nil
}

// SignatureKey returns the public key that made signature (armored or bare
// base64 SSHSIG), without verifying anything: for replacing a signer's earlier
// signature in a file of several.
func SignatureKey(signature string) (ssh.PublicKey, error) {
	s, err := parseSignature(signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	return s.pub, nil
}

// trustedForNamespace returns nil when a key equal to pub is among keys and
// admits namespace; otherwise why not.
func trustedForNamespace(keys []Key, pub ssh.PublicKey, namespace string) error {
	want := pub.Marshal()
	reason := "which is not a trusted key"
	for _, k := range keys {
		if !bytes.Equal(k.PublicKey.Marshal(), want) {
			continue
		}
		if k.Namespaces != nil && !slices.Contains(k.Namespaces, namespace) {
			reason = fmt.Sprintf("which is trusted for namespaces %s only", strings.Join(k.Namespaces, ","))
			continue
		}
		return nil
	}
	return errors.New(reason)
}
