package approval

import (
	"bytes"
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
	return signBytes(signer, namespace, msg)
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
	return verifyBytes(namespace, msg, signature,
		func(pub ssh.PublicKey) error { return trustedForNamespace(keys, pub, namespace) },
		func(fp string) string {
			return fmt.Sprintf("the signature by key %s is not over these bytes: it was made for another version of the file, or altered", fp)
		})
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
