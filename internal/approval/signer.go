package approval

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// AgentSocketEnv is the environment variable naming the ssh-agent socket.
const AgentSocketEnv = "SSH_AUTH_SOCK"

// KeySource says where an approver's private key is: a key file, or ssh-agent.
type KeySource struct {
	// File is a private key file (OpenSSH or PEM format). Empty: use ssh-agent.
	File string
	// Passphrase is asked for when File is encrypted; nil means encrypted files are an error.
	Passphrase func() ([]byte, error)
	// AgentSocket is the ssh-agent socket; empty means $SSH_AUTH_SOCK.
	AgentSocket string
	// PublicKey, when set, is the key the spec registers for the person
	// (ParseKeys syntax). It picks the agent's key when the agent holds several,
	// and a File whose key is not among them is refused before anything is signed.
	PublicKey string
}

// OpenSigner returns a signer for src and a closer that releases it (the agent
// connection). With File empty it uses ssh-agent: the key matching PublicKey,
// or the agent's only key. Errors name files and fingerprints, never key material.
func OpenSigner(src KeySource) (ssh.Signer, io.Closer, error) {
	var want []Key
	if strings.TrimSpace(src.PublicKey) != "" {
		var err error
		if want, err = ParseKeys(src.PublicKey); err != nil {
			return nil, nil, fmt.Errorf("registered public key: %w", err)
		}
	}
	if src.File != "" {
		s, err := loadKeyFile(src.File, src.Passphrase)
		if err != nil {
			return nil, nil, err
		}
		if want != nil && !matchesAny(s.PublicKey(), want) {
			return nil, nil, fmt.Errorf("%s holds key %s, which is not the key registered for you (%s)",
				src.File, ssh.FingerprintSHA256(s.PublicKey()), fingerprints(want))
		}
		return s, nopCloser{}, nil
	}
	sock := src.AgentSocket
	if sock == "" {
		sock = os.Getenv(AgentSocketEnv)
	}
	if sock == "" {
		return nil, nil, errors.New("no signing key: pass a key file, or run ssh-agent (SSH_AUTH_SOCK is not set)")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to ssh-agent at %s: %w", sock, err)
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("list ssh-agent keys: %w", err)
	}
	var pick []ssh.Signer
	for _, s := range signers {
		if acceptKey(s.PublicKey()) != nil {
			continue
		}
		if want == nil || matchesAny(s.PublicKey(), want) {
			pick = append(pick, s)
		}
	}
	switch {
	case len(pick) == 1:
		return pick[0], conn, nil
	case len(pick) == 0 && want != nil:
		_ = conn.Close()
		return nil, nil, fmt.Errorf("ssh-agent holds none of the keys registered for you (%s): ssh-add it, or pass the key file", fingerprints(want))
	case len(pick) == 0:
		_ = conn.Close()
		return nil, nil, errors.New("ssh-agent holds no ed25519, ECDSA or RSA (>= 2048 bits) key: ssh-add one, or pass the key file")
	}
	var fps []string
	for _, s := range pick {
		fps = append(fps, ssh.FingerprintSHA256(s.PublicKey()))
	}
	_ = conn.Close()
	return nil, nil, fmt.Errorf("ssh-agent holds several usable keys (%s): say which with your registered public key", strings.Join(fps, ", "))
}

func loadKeyFile(path string, passphrase func() ([]byte, error)) (ssh.Signer, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	s, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == nil {
			return nil, fmt.Errorf("%s is encrypted and no passphrase can be asked for: load it into ssh-agent instead", path)
		}
		pw, perr := passphrase()
		if perr != nil {
			return nil, fmt.Errorf("passphrase for %s: %w", path, perr)
		}
		s, err = ssh.ParsePrivateKeyWithPassphrase(pem, pw)
		clear(pw)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: not a usable private key: %w", path, err)
	}
	if err := acceptKey(s.PublicKey()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func matchesAny(pub ssh.PublicKey, keys []Key) bool {
	b := pub.Marshal()
	for _, k := range keys {
		if bytes.Equal(k.PublicKey.Marshal(), b) {
			return true
		}
	}
	return false
}

func fingerprints(keys []Key) string {
	var fps []string
	for _, k := range keys {
		fps = append(fps, k.Fingerprint())
	}
	return strings.Join(fps, ", ")
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
