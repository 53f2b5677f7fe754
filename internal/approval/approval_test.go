package approval_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/golive/golive/internal/approval"
)

// statement is a sign-off as the release workflow would rebuild it.
func statement() approval.Statement {
	return approval.Statement{
		WorkflowID: "release:patient-portal:production",
		RunID:      "0196f1c2-6a1e-7c3b-9d2e-4f5a6b7c8d9e",
		Block:      "approvals",
		Slot:       "compliance_officer",
		Person:     "carol",
		Decision:   "approve",
		Comment:    "BAAs on file",
		Version:    "2.4.0",
		SpecDigest: "sha256:1f2e3d",
		SignedAt:   time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	}
}

type testKey struct {
	name   string
	priv   crypto.Signer
	signer ssh.Signer
	line   string // authorized-key line, as Person.PublicKey holds it
	file   string // OpenSSH private key file
}

func newKey(t *testing.T, name string, priv crypto.Signer) testKey {
	t.Helper()
	s, err := ssh.NewSignerFromSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "id_"+name)
	if err := os.WriteFile(file, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))) + " " + name + "@example.org"
	return testKey{name: name, priv: priv, signer: s, line: line, file: file}
}

func genKeys(t *testing.T) []testKey {
	t.Helper()
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return []testKey{
		newKey(t, "ed25519", ed), newKey(t, "ecdsa-p256", p256), newKey(t, "ecdsa-p384", p384),
		newKey(t, "ecdsa-p521", p521), newKey(t, "rsa", rk),
	}
}

func TestSignVerifyKeyTypes(t *testing.T) {
	st := statement()
	for _, k := range genKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			signer, closer, err := approval.OpenSigner(approval.KeySource{File: k.file, PublicKey: k.line})
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			sig, err := approval.Sign(signer, st)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(sig, "-----BEGIN SSH SIGNATURE-----\n") {
				t.Fatalf("not an armored SSH signature:\n%s", sig)
			}
			v, err := approval.Verify(st, sig, k.line)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.Fingerprint != ssh.FingerprintSHA256(k.signer.PublicKey()) || v.KeyType != k.signer.PublicKey().Type() {
				t.Errorf("Verified = %+v", v)
			}
			if k.name == "rsa" && v.Algorithm != ssh.KeyAlgoRSASHA512 {
				t.Errorf("RSA signed with %s, want rsa-sha2-512", v.Algorithm)
			}
			// The same statement after a JSON-like round trip of the time (other zone) still verifies.
			st2 := st
			st2.SignedAt = st.SignedAt.In(time.FixedZone("CET", 3600))
			if _, err := approval.Verify(st2, sig, k.line); err != nil {
				t.Errorf("statement with the same instant in another zone: %v", err)
			}
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	keys := genKeys(t)
	carol, mallory := keys[0], keys[1]
	st := statement()
	sig, err := approval.Sign(carol.signer, st)
	if err != nil {
		t.Fatal(err)
	}
	change := func(f func(*approval.Statement)) approval.Statement {
		s := st
		f(&s)
		return s
	}
	cases := []struct {
		name    string
		st      approval.Statement
		sig     string
		trusted string
		want    error
	}{
		{"unsigned", st, "", carol.line, approval.ErrUnsigned},
		{"garbage", st, "-----BEGIN SSH SIGNATURE-----\nbm90IGEgc2lnbmF0dXJl\n-----END SSH SIGNATURE-----\n", carol.line, approval.ErrMalformed},
		{"wrong key", st, sig, mallory.line, approval.ErrUnknownKey},
		{"another release", change(func(s *approval.Statement) { s.WorkflowID = "release:billing:production" }), sig, carol.line, approval.ErrBadSignature},
		{"another run", change(func(s *approval.Statement) { s.RunID = "0196f1c2-0000-0000-0000-000000000000" }), sig, carol.line, approval.ErrBadSignature},
		{"another block", change(func(s *approval.Statement) { s.Block = "completion" }), sig, carol.line, approval.ErrBadSignature},
		{"another slot", change(func(s *approval.Statement) { s.Slot = "operations_lead" }), sig, carol.line, approval.ErrBadSignature},
		{"another decision", change(func(s *approval.Statement) { s.Decision = "reject" }), sig, carol.line, approval.ErrBadSignature},
		{"altered comment", change(func(s *approval.Statement) { s.Comment = "BAAs on file." }), sig, carol.line, approval.ErrBadSignature},
		{"another version", change(func(s *approval.Statement) { s.Version = "2.4.1" }), sig, carol.line, approval.ErrBadSignature},
		{"another spec", change(func(s *approval.Statement) { s.SpecDigest = "sha256:000000" }), sig, carol.line, approval.ErrBadSignature},
		{"another time", change(func(s *approval.Statement) { s.SignedAt = s.SignedAt.Add(time.Second) }), sig, carol.line, approval.ErrBadSignature},
		{"another person claiming carol's signature", change(func(s *approval.Statement) { s.Person = "mallory" }), sig, carol.line, approval.ErrBadSignature},
		{"statement without run", change(func(s *approval.Statement) { s.RunID = "" }), sig, carol.line, approval.ErrMalformed},
		{"no registered key", st, sig, "", approval.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := approval.Verify(c.st, c.sig, c.trusted)
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestWrongKeyMessage checks that the refusal reason names the key, not secrets.
func TestWrongKeyMessage(t *testing.T) {
	keys := genKeys(t)
	st := statement()
	sig, _ := approval.Sign(keys[1].signer, st)
	_, err := approval.Verify(st, sig, keys[0].line)
	if err == nil || !strings.Contains(err.Error(), ssh.FingerprintSHA256(keys[1].signer.PublicKey())) || !strings.Contains(err.Error(), "carol") {
		t.Fatalf("reason should name the signing key and the person: %v", err)
	}
}

func TestAllowedSigners(t *testing.T) {
	keys := genKeys(t)
	carol, other := keys[0], keys[4]
	st := statement()
	sig, err := approval.Sign(carol.signer, st)
	if err != nil {
		t.Fatal(err)
	}
	keyPart := func(k testKey) string {
		f := strings.Fields(k.line)
		return f[0] + " " + f[1]
	}
	cases := []struct {
		name, trusted string
		want          error
	}{
		{"principal", "carol " + keyPart(carol), nil},
		{"several principals and keys", "# team keys\nerin " + keyPart(other) + "\ncarol@example.org,carol " + keyPart(carol) + " laptop\n", nil},
		{"wildcard", "car* " + keyPart(carol), nil},
		{"principal that looks like a key type", "sk-carol,carol " + keyPart(carol), nil},
		{"namespaces", `carol namespaces="git,golive-approval" ` + keyPart(carol), nil},
		{"validity window", `carol valid-after="20260101",valid-before="20270101Z" ` + keyPart(carol), nil},
		{"other principal", "erin " + keyPart(carol), approval.ErrUnknownKey},
		{"negated", "*,!carol " + keyPart(carol), approval.ErrUnknownKey},
		{"git only", `carol namespaces="git" ` + keyPart(carol), approval.ErrUnknownKey},
		{"expired", `carol valid-before="20261120095959Z" ` + keyPart(carol), approval.ErrUnknownKey},
		{"not yet valid", `carol valid-after="202611201001" ` + keyPart(carol), approval.ErrUnknownKey},
		{"cert-authority", `carol cert-authority ` + keyPart(carol), approval.ErrMalformed},
		{"unknown option", `carol no-touch-required ` + keyPart(carol), approval.ErrMalformed},
		{"authorized_keys options read as a principal", `restrict ` + keyPart(carol), approval.ErrUnknownKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := approval.Verify(st, sig, c.trusted)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseKeysRefusesWeakKeys(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(&small.PublicKey)
	if _, err := approval.ParseKeys(string(ssh.MarshalAuthorizedKey(pub))); !errors.Is(err, approval.ErrMalformed) || !errors.Is(err, approval.ErrWeakKey) || !strings.Contains(err.Error(), "1024 bits") {
		t.Fatalf("RSA-1024: %v", err)
	}
	for _, line := range []string{
		"ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAAAAFQCXYFCPFSMLzLKSuYKi64QL8Fgc9QAAAIEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoAAACBAPGgKPUtfSbpcqwbL0dglMAgRKqYbGZMIJUuR4eW6R4mexJAcAmQq2YuLhL4x4Dos0U0Dw7KljmQsO1hRJCM+aqcZuX5PPYpyuYbHJv8B0UaEzWaHJlNxh8FmJGdeTh4K1UgZtp8KSs0UTHD2W8GTwuNm61XGTapb7RQlLIVFxmRq user",
		"ssh-ed25519 notbase64!",
		"just a comment line without a key",
	} {
		if _, err := approval.ParseKeys(line); !errors.Is(err, approval.ErrMalformed) {
			t.Errorf("ParseKeys(%.20q) = %v, want ErrMalformed", line, err)
		}
	}
}

// TestAgent signs through ssh-agent (an in-process agent on a unix socket, found
// through SSH_AUTH_SOCK) and picks the registered key among several.
func TestAgent(t *testing.T) {
	keys := genKeys(t)
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k.priv, Comment: k.name}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(shortTempDir(t), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(keyring, c); _ = c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)

	if _, _, err := approval.OpenSigner(approval.KeySource{}); err == nil || !strings.Contains(err.Error(), "several") {
		t.Fatalf("agent with several keys and no registered key named: %v", err)
	}
	st := statement()
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			signer, closer, err := approval.OpenSigner(approval.KeySource{PublicKey: k.line})
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()
			sig, err := approval.Sign(signer, st)
			if err != nil {
				t.Fatal(err)
			}
			v, err := approval.Verify(st, sig, k.line)
			if err != nil {
				t.Fatal(err)
			}
			if k.name == "rsa" && v.Algorithm != ssh.KeyAlgoRSASHA512 {
				t.Errorf("RSA via agent signed with %s", v.Algorithm)
			}
		})
	}
	_, unknown, _ := ed25519.GenerateKey(rand.Reader)
	notInAgent := newKey(t, "other", unknown)
	if _, _, err := approval.OpenSigner(approval.KeySource{PublicKey: notInAgent.line}); err == nil || !strings.Contains(err.Error(), "none of the keys") {
		t.Fatalf("registered key not in the agent: %v", err)
	}
}

func TestKeyFileChecks(t *testing.T) {
	keys := genKeys(t)
	if _, _, err := approval.OpenSigner(approval.KeySource{File: keys[0].file, PublicKey: keys[1].line}); err == nil || !strings.Contains(err.Error(), "not the key registered") {
		t.Fatalf("key file that is not the registered key: %v", err)
	}
	// An encrypted key asks for its passphrase.
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(keys[0].priv, "carol", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	enc := filepath.Join(t.TempDir(), "id_enc")
	if err := os.WriteFile(enc, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := approval.OpenSigner(approval.KeySource{File: enc}); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("encrypted key without passphrase callback: %v", err)
	}
	s, _, err := approval.OpenSigner(approval.KeySource{File: enc, Passphrase: func() ([]byte, error) { return []byte("correct horse"), nil }})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := approval.Sign(s, statement())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := approval.Verify(statement(), sig, keys[0].line); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	if _, _, err := approval.OpenSigner(approval.KeySource{}); err == nil || !strings.Contains(err.Error(), "SSH_AUTH_SOCK") {
		t.Fatalf("no key file and no agent: %v", err)
	}
}

// TestRSASHA1Refused builds an SSHSIG by hand with a legacy ssh-rsa (SHA-1) signature.
func TestRSASHA1Refused(t *testing.T) {
	k := genKeys(t)[4]
	st := statement()
	h := sha512.Sum512(st.Bytes())
	data := sshString([]byte("SSHSIG"), approval.Namespace, "", "sha512", string(h[:]))
	sig, err := k.signer.(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSA)
	if err != nil {
		t.Fatal(err)
	}
	blob := sshString(append([]byte("SSHSIG"), 0, 0, 0, 1), string(k.signer.PublicKey().Marshal()), approval.Namespace, "", "sha512", string(ssh.Marshal(sig)))
	_, err = approval.Verify(st, base64.StdEncoding.EncodeToString(blob), k.line)
	if !errors.Is(err, approval.ErrWeakKey) {
		t.Fatalf("ssh-rsa (SHA-1) signature: %v", err)
	}
	// The same hand-made blob with rsa-sha2-256 is accepted: the format is the standard one.
	sig, _ = k.signer.(ssh.AlgorithmSigner).SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA256)
	blob = sshString(append([]byte("SSHSIG"), 0, 0, 0, 1), string(k.signer.PublicKey().Marshal()), approval.Namespace, "", "sha512", string(ssh.Marshal(sig)))
	if _, err := approval.Verify(st, base64.StdEncoding.EncodeToString(blob), k.line); err != nil {
		t.Fatalf("rsa-sha2-256: %v", err)
	}
}

func sshString(prefix []byte, fields ...string) []byte {
	b := append([]byte(nil), prefix...)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// TestOpenSSHInterop checks the format against ssh-keygen itself, both ways,
// including the namespace separation.
func TestOpenSSHInterop(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Fatal("ssh-keygen not installed (Debian package openssh-client; make test installs it)")
	}
	st := statement()
	dir := t.TempDir()
	msg := filepath.Join(dir, "statement.txt")
	if err := os.WriteFile(msg, st.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range genKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			// ssh-keygen signs, golive verifies.
			for _, ns := range []string{approval.Namespace, "git"} {
				out, err := exec.Command(keygen, "-Y", "sign", "-q", "-f", k.file, "-n", ns, msg).CombinedOutput()
				if err != nil {
					t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
				}
				sigFile := msg + ".sig"
				sig, err := os.ReadFile(sigFile)
				if err != nil {
					t.Fatal(err)
				}
				_ = os.Remove(sigFile)
				_, err = approval.Verify(st, string(sig), k.line)
				if ns == approval.Namespace && err != nil {
					t.Fatalf("verify ssh-keygen's signature: %v", err)
				}
				if ns != approval.Namespace && !errors.Is(err, approval.ErrNamespace) {
					t.Fatalf("signature for namespace %s: %v", ns, err)
				}
			}
			// golive signs, ssh-keygen verifies.
			sig, err := approval.Sign(k.signer, st)
			if err != nil {
				t.Fatal(err)
			}
			sigFile := filepath.Join(dir, k.name+".sig")
			allowed := filepath.Join(dir, k.name+".allowed")
			f := strings.Fields(k.line)
			_ = os.WriteFile(sigFile, []byte(sig), 0o600)
			_ = os.WriteFile(allowed, []byte("carol "+f[0]+" "+f[1]+"\n"), 0o600)
			cmd := exec.Command(keygen, "-Y", "verify", "-f", allowed, "-I", "carol", "-n", approval.Namespace, "-s", sigFile)
			cmd.Stdin = strings.NewReader(st.String())
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen -Y verify refused golive's signature: %v\n%s", err, out)
			}
		})
	}
}

func TestStatementCanonical(t *testing.T) {
	st := statement()
	st.SignedAt = time.Date(2026, 11, 20, 11, 0, 0, 5, time.FixedZone("CET", 3600))
	st.Comment = "ok\nperson \"mallory\"\n"
	want := `golive-approval-v1
workflow-id "release:patient-portal:production"
run-id "0196f1c2-6a1e-7c3b-9d2e-4f5a6b7c8d9e"
block "approvals"
slot "compliance_officer"
person "carol"
decision "approve"
version "2.4.0"
spec-digest "sha256:1f2e3d"
signed-at "2026-11-20T10:00:00.000000005Z"
comment "ok\nperson \"mallory\"\n"
`
	if got := st.String(); got != want {
		t.Fatalf("canonical statement:\n%s\nwant:\n%s", got, want)
	}
	st.Comment = "Prüfung ✓"
	if !strings.Contains(st.String(), `comment "Pr\u00fcfung \u2713"`) {
		t.Fatalf("non-ASCII comment not escaped: %s", st.String())
	}
}

func TestCheckFreshness(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at time.Time
		ok bool
	}{
		{now, true},
		{now.Add(-59 * time.Minute), true},
		{now.Add(-61 * time.Minute), false},
		{now.Add(4 * time.Minute), true},
		{now.Add(6 * time.Minute), false},
		{time.Time{}, false},
	} {
		err := approval.CheckFreshness(c.at, now, time.Hour, 5*time.Minute)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, approval.ErrStale) {
			t.Errorf("CheckFreshness(%s) = %v, want ok=%v", c.at, err, c.ok)
		}
	}
}

// shortTempDir keeps unix socket paths under the 108-byte limit.
func shortTempDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "ga")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}
