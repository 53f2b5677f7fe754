package approval_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/internal/approval"
)

func TestVerifyMessageAcceptsOnlyTheSignedBytesKeyAndNamespace(t *testing.T) {
	signer, other := messageSigner(t), messageSigner(t)
	msg := []byte("version: 1\n")
	sig, err := approval.SignMessage(signer, approval.DirectoryNamespace, msg)
	if err != nil {
		t.Fatal(err)
	}
	trusted := []approval.Key{{PublicKey: signer.PublicKey()}}
	cases := []struct {
		name      string
		namespace string
		msg       []byte
		keys      []approval.Key
		want      error
	}{
		{"the signed bytes", approval.DirectoryNamespace, msg, trusted, nil},
		{"other bytes", approval.DirectoryNamespace, []byte("version: 2\n"), trusted, approval.ErrBadSignature},
		{"another namespace", approval.Namespace, msg, trusted, approval.ErrNamespace},
		{"an untrusted key", approval.DirectoryNamespace, msg, []approval.Key{{PublicKey: other.PublicKey()}}, approval.ErrUnknownKey},
		{"a key kept for other namespaces", approval.DirectoryNamespace, msg, []approval.Key{{PublicKey: signer.PublicKey(), Namespaces: []string{"git"}}}, approval.ErrUnknownKey},
	}
	for _, c := range cases {
		v, err := approval.VerifyMessage(c.namespace, c.msg, sig, c.keys)
		if !errors.Is(err, c.want) || (c.want == nil && v.Fingerprint != ssh.FingerprintSHA256(signer.PublicKey())) {
			t.Errorf("%s: %+v %v, want %v", c.name, v, err, c.want)
		}
	}
	if _, err := approval.VerifyMessage(approval.DirectoryNamespace, msg, "", trusted); !errors.Is(err, approval.ErrUnsigned) {
		t.Errorf("empty signature: %v", err)
	}
	if k, err := approval.SignatureKey(sig); err != nil || !bytes.Equal(k.Marshal(), signer.PublicKey().Marshal()) {
		t.Errorf("SignatureKey: %v", err)
	}
}

func messageSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
