// Package directory reads the team directory: the people, their roles, SSH
// public keys and passkeys, and the per-environment policy (who may start, steer and roll
// back a release, which sign-off slots a spec must have, whether inputs must be
// signed). The worker's operator keeps it as a reviewed YAML file whose changes
// are signed by a quorum of admins (LoadVerified), so the trust roots of a
// release never come from the release spec its requester writes; a spec may
// only name people the directory holds (Snapshot.CheckSpec).
//
// A release pins what it uses once, through an activity: Directory.Resolve
// returns a Snapshot that travels in workflow history. Snapshot's methods are
// pure (no I/O, no clock, sorted output), so workflow code may call them.
package directory

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest directory file read; a larger one is refused unread.
const MaxFileSize = 1 << 20

// Version is the only directory format version.
const Version = 1

// DefaultQuorum is the number of distinct admin signatures a change needs when
// neither the file nor the operator says otherwise.
const DefaultQuorum = 2

// Signatures says whether human inputs of a release must carry a valid signature.
type Signatures string

const (
	// SignaturesRequired refuses unsigned or wrongly signed inputs.
	SignaturesRequired Signatures = "required"
	// SignaturesOptional accepts unsigned inputs, recorded as "unsigned";
	// a signature that is present must still verify.
	SignaturesOptional Signatures = "optional"
)

// signatureModes lists every Signatures value, for validation and messages.
var signatureModes = []Signatures{SignaturesRequired, SignaturesOptional}

// Directory is a parsed and validated team directory file.
type Directory struct {
	// File is the path the directory was read from, as given.
	File string `json:"file"`
	// Digest is the SHA-256 (hex) of the file bytes.
	Digest string `json:"digest"`
	// Version is the format version (1).
	Version int `json:"version"`
	// Admins are the person IDs who sign changes to the file.
	Admins []string `json:"admins"`
	// Quorum is how many distinct admins must sign a change (default 2).
	Quorum int `json:"quorum"`
	// People are everyone the directory knows, in file order.
	People []Person `json:"people"`
	// Environments maps an environment name to its policy.
	Environments map[string]Policy `json:"environments"`
	// WebAuthn is the relying party passkeys are registered with; required
	// when any person has passkeys (see passkeys.go).
	WebAuthn *WebAuthn `json:"webauthn,omitempty"`
	// Signers are the admins whose signatures LoadVerified accepted (sorted);
	// empty from Parse and Load, and when the quorum was not met.
	Signers []string `json:"signers,omitempty"`
}

// Person is one member of the team.
type Person struct {
	// ID is the handle used on the command line and in specs (golive approve --as ID).
	ID    string `yaml:"id" json:"id"`
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
	Phone string `yaml:"phone,omitempty" json:"phone,omitempty"`
	// Roles are the roles the person holds, e.g. development_lead.
	Roles []string `yaml:"roles" json:"roles"`
	// Keys are OpenSSH public key lines (approval.ParseKeys syntax), each parsed at load.
	Keys []string `yaml:"keys,omitempty" json:"keys,omitempty"`
	// Passkeys are the person's WebAuthn credentials, for the approval pages.
	Passkeys []Passkey `yaml:"passkeys,omitempty" json:"passkeys,omitempty"`
}

// Policy is what an environment (or one service in it) demands of a release.
type Policy struct {
	// Signatures says whether human inputs must be signed.
	Signatures Signatures `yaml:"signatures" json:"signatures"`
	// Start are the roles that may start a release.
	Start []string `yaml:"start" json:"start"`
	// Steer are the roles that may abort, hold and resume a release.
	Steer []string `yaml:"steer" json:"steer"`
	// Rollback are the roles that may request a rollback.
	Rollback []string `yaml:"rollback" json:"rollback"`
	// Signoffs maps a sign-off block (approvals, completion, review) to the
	// slots a spec for this environment must have: slot ID -> role.
	Signoffs map[string]map[string]string `yaml:"signoffs,omitempty" json:"signoffs,omitempty"`
	// Services are per-service overrides, only in the file: Resolve folds the
	// one of the released service in (each non-empty field replaces).
	Services map[string]Policy `yaml:"services,omitempty" json:"-"`
}

// Sign-off block names, as the release spec and approval.Statement.Block spell them.
const (
	BlockApprovals  = "approvals"
	BlockCompletion = "completion"
	BlockReview     = "review"
)

// blocks lists the sign-off blocks a policy may name, in checklist order.
var blocks = []string{BlockApprovals, BlockCompletion, BlockReview}

// Parse decodes and validates a directory given as bytes; file names it in
// errors. It does not check signatures (LoadVerified does). Problems come back
// together as Errors, each at file:line:col.
func Parse(file string, data []byte) (*Directory, error) {
	if len(data) > MaxFileSize {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("the file is %d bytes; a directory may be at most %d (1 MiB)", len(data), MaxFileSize)}}
	}
	d := &decoder{file: file, nodes: map[string]*yaml.Node{}}
	dir := d.decodeFile(data)
	if len(d.errs) == 0 {
		d.validate(dir)
	}
	if len(d.errs) > 0 {
		return nil, capped(d.errs)
	}
	sum := sha256.Sum256(data)
	dir.File, dir.Digest = file, hex.EncodeToString(sum[:])
	return dir, nil
}

// Load reads and parses the directory at path; a file over MaxFileSize is refused unread.
func Load(path string) (*Directory, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// readBounded reads at most MaxFileSize bytes of path and refuses a larger file.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read team directory: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read team directory: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("the file is over %d bytes (1 MiB), the most a directory may be", MaxFileSize)}}
	}
	return data, nil
}

// Person returns the person with the given ID.
func (d *Directory) Person(id string) (Person, bool) {
	for _, p := range d.People {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}
