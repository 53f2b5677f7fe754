package directory_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/internal/directory"
)

// TestSignaturesInteroperateWithSSHKeygen has ssh-keygen sign the directory for
// one admin and golive for the other: LoadVerified accepts both, and
// ssh-keygen -Y verify accepts golive's.
func TestSignaturesInteroperateWithSSHKeygen(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Fatal("ssh-keygen not installed (Debian package openssh-client)")
	}
	tmp := t.TempDir()
	tm := newTeam(t)
	keyFile := map[string]string{}
	for _, id := range []string{"olivia", "henry"} {
		keyFile[id] = filepath.Join(tmp, id)
		if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", id, "-f", keyFile[id]).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen -t ed25519: %v\n%s", err, out)
		}
		pem, _ := os.ReadFile(keyFile[id])
		s, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			t.Fatal(err)
		}
		tm.signers[id] = s
	}
	path := tm.write(t, base)
	if out, err := exec.Command(keygen, "-Y", "sign", "-q", "-n", "golive-directory", "-f", keyFile["olivia"], path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
	}
	res, err := directory.SignFile(path, tm.signers["henry"], "")
	if err != nil || res.Others != 1 {
		t.Fatalf("SignFile beside ssh-keygen's signature: %+v %v", res, err)
	}
	anchor := tm.anchor("olivia", "henry")
	v, err := directory.LoadVerified(path, directory.VerifyOptions{Admins: anchor})
	if err != nil || strings.Join(v.Signers, ",") != "henry,olivia" {
		t.Fatalf("LoadVerified: %v %v", v.Signers, err)
	}
	// ssh-keygen verifies one signature per file: give it golive's alone.
	sigs, _ := os.ReadFile(path + directory.SigSuffix)
	blocks, _ := directory.SplitSignatures(string(sigs))
	henrySig, allowed := filepath.Join(tmp, "henry.sig"), filepath.Join(tmp, "allowed_signers")
	if err := os.WriteFile(henrySig, []byte(blocks[1]), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(allowed, []byte(anchor), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, c := range []struct {
		ns   string
		good bool
	}{{"golive-directory", true}, {"golive-approval", false}} {
		cmd := exec.Command(keygen, "-Y", "verify", "-f", allowed, "-I", "henry", "-n", c.ns, "-s", henrySig)
		cmd.Stdin = strings.NewReader(string(data))
		out, err := cmd.CombinedOutput()
		if (err == nil) != c.good {
			t.Errorf("ssh-keygen -Y verify -n %s of golive's signature: %v\n%s", c.ns, err, out)
		}
	}
}
