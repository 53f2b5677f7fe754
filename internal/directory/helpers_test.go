package directory_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/directory"
)

// team is a small directory with a fresh key for each person.
type team struct {
	signers map[string]ssh.Signer
}

var people = []string{"priya", "olivia", "henry", "grace", "rosa"}

func newTeam(t *testing.T) *team {
	t.Helper()
	tm := &team{signers: map[string]ssh.Signer{}}
	for _, id := range people {
		tm.signers[id] = newSigner(t)
	}
	return tm
}

func newSigner(t *testing.T) ssh.Signer {
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

// keyLine is the OpenSSH public key line of s.
func keyLine(s ssh.Signer, comment string) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))) + " " + comment
}

// anchor is allowed_signers text trusting ids' keys.
func (tm *team) anchor(ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id + " " + keyLine(tm.signers[id], id+"@test") + "\n")
	}
	return b.String()
}

// yaml renders the directory; KEY(id) placeholders become each person's key line.
func (tm *team) yaml(body string) string {
	for id, s := range tm.signers {
		body = strings.ReplaceAll(body, "KEY("+id+")", keyLine(s, id+"@test"))
	}
	return body
}

// base is the valid directory the tests start from.
const base = `version: 1
admins: [olivia, henry]
quorum: 2
people:
  - id: priya
    name: Priya Raman
    email: priya.raman@example.org
    phone: "+15555550111"
    roles: [development_lead, on_call_developer]
    keys:
      - KEY(priya)
  - id: olivia
    name: Olivia Chen
    email: olivia.chen@example.org
    roles: [operations_lead]
    keys:
      - KEY(olivia)
  - id: henry
    name: Henry Adams
    roles: [project_manager]
    keys:
      - KEY(henry)
  - id: grace
    name: Grace Kim
    roles: [compliance_officer]
    keys:
      - KEY(grace)
  - id: rosa
    name: Rosa Martinez
    roles: [release_manager]
    keys:
      - KEY(rosa)
environments:
  production:
    signatures: required
    start: [release_manager]
    steer: [release_manager, operations_lead]
    rollback: [development_lead, operations_lead]
    signoffs:
      approvals: {development_lead: development_lead, operations_lead: operations_lead, compliance_officer: compliance_officer, project_manager: project_manager}
    services:
      patient-portal: {start: [release_manager, development_lead]}
  demo:
    signatures: optional
    start: [release_manager]
    steer: [release_manager]
    rollback: [development_lead]
`

// write puts the directory in a temporary file and signs it with the given people's keys.
func (tm *team) write(t *testing.T, body string, signers ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "team.yaml")
	data := []byte(tm.yaml(body))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var sigs strings.Builder
	for _, id := range signers {
		sigs.WriteString(tm.sign(t, id, data))
	}
	if len(signers) > 0 {
		if err := os.WriteFile(path+directory.SigSuffix, []byte(sigs.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func (tm *team) sign(t *testing.T, id string, data []byte) string {
	t.Helper()
	sig, err := approval.SignMessage(tm.signers[id], approval.DirectoryNamespace, data)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// parse parses body (with keys filled in) as team.yaml.
func (tm *team) parse(t *testing.T, body string) *directory.Directory {
	t.Helper()
	d, err := directory.Parse("team.yaml", []byte(tm.yaml(body)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d
}
