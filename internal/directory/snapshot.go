package directory

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/spec"
)

// Snapshot is what one release of a service to an environment uses from the
// directory, pinned when the release starts. It travels in workflow history
// and evidence: public keys and contact details, no secrets.
type Snapshot struct {
	// Digest is the SHA-256 (hex) of the directory file, File its path.
	Digest string `json:"digest"`
	File   string `json:"file"`
	// Environment and Service are what was resolved.
	Environment string `json:"environment"`
	Service     string `json:"service"`
	// Signers are the admins who signed the directory (empty when unsigned).
	Signers []string `json:"signers,omitempty"`
	// Policy is the environment's policy with the service's override folded in.
	Policy Policy `json:"policy"`
	// People are every person of the directory, sorted by ID.
	People []PinnedPerson `json:"people"`
	// WebAuthn is the relying party passkey assertions are judged by (nil without passkeys).
	WebAuthn *WebAuthn `json:"webauthn,omitempty"`
}

// PinnedPerson is a person as the snapshot holds them.
type PinnedPerson struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Roles are sorted.
	Roles []string    `json:"roles"`
	Keys  []PinnedKey `json:"keys,omitempty"`
	// Passkeys are the person's WebAuthn credentials with their fingerprints.
	Passkeys []PinnedPasskey `json:"passkeys,omitempty"`
}

// PinnedKey is one public key with its fingerprint.
type PinnedKey struct {
	// Line is the OpenSSH public key line as the directory has it.
	Line string `json:"line"`
	// Fingerprint is SHA256:..., as ssh-keygen -l prints it.
	Fingerprint string `json:"fingerprint"`
}

// Resolve pins what a release of service to environment uses. The environment
// must be spelt exactly as the directory defines it; the error lists the
// defined names and proposes the one meant ("did you mean production?").
func (d *Directory) Resolve(service, environment string) (Snapshot, error) {
	base, ok := d.Environments[environment]
	if !ok {
		names := slices.Sorted(maps.Keys(d.Environments))
		hint := ""
		if best := closest(environment, names, 3); best != "" {
			hint = fmt.Sprintf("; did you mean %s?", best)
		}
		return Snapshot{}, fmt.Errorf("%w: %q is not defined in %s (defined: %s)%s",
			ErrUnknownEnvironment, environment, d.File, strings.Join(names, ", "), hint)
	}
	s := Snapshot{
		Digest: d.Digest, File: d.File, Environment: environment, Service: service,
		Signers: slices.Clone(d.Signers),
		Policy:  base.fold(base.Services[service]),
	}
	if d.WebAuthn != nil {
		w := *d.WebAuthn
		w.Origins = slices.Clone(w.Origins)
		s.WebAuthn = &w
	}
	for _, p := range d.People {
		pp := PinnedPerson{ID: p.ID, Name: p.Name, Email: p.Email, Phone: p.Phone, Roles: slices.Sorted(slices.Values(p.Roles)), Passkeys: pinPasskeys(p)}
		for _, line := range p.Keys {
			keys, err := approval.ParseKeys(line)
			if err != nil {
				return Snapshot{}, fmt.Errorf("key of %s in %s: %w", p.ID, d.File, err)
			}
			pp.Keys = append(pp.Keys, PinnedKey{Line: strings.TrimSpace(line), Fingerprint: keys[0].Fingerprint()})
		}
		s.People = append(s.People, pp)
	}
	slices.SortFunc(s.People, func(a, b PinnedPerson) int { return strings.Compare(a.ID, b.ID) })
	return s, nil
}

// fold returns a copy of p without services, each non-empty field of o replacing p's.
func (p Policy) fold(o Policy) Policy {
	out := Policy{
		Signatures: p.Signatures,
		Start:      slices.Clone(p.Start), Steer: slices.Clone(p.Steer), Rollback: slices.Clone(p.Rollback),
		Signoffs: cloneSignoffs(p.Signoffs),
	}
	if o.Signatures != "" {
		out.Signatures = o.Signatures
	}
	for _, f := range []struct{ dst, src *[]string }{{&out.Start, &o.Start}, {&out.Steer, &o.Steer}, {&out.Rollback, &o.Rollback}} {
		if len(*f.src) > 0 {
			*f.dst = slices.Clone(*f.src)
		}
	}
	if len(o.Signoffs) > 0 {
		out.Signoffs = cloneSignoffs(o.Signoffs)
	}
	return out
}

func cloneSignoffs(m map[string]map[string]string) map[string]map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]map[string]string, len(m))
	for b, slots := range m {
		out[b] = maps.Clone(slots)
	}
	return out
}

// Person returns the person with the given ID.
func (s Snapshot) Person(id string) (PinnedPerson, bool) {
	for _, p := range s.People {
		if p.ID == id {
			return p, true
		}
	}
	return PinnedPerson{}, false
}

// HasRole reports whether person id holds role. The role full_team is held by
// everyone unless some person holds it explicitly (as in the release spec).
func (s Snapshot) HasRole(id, role string) bool {
	p, ok := s.Person(id)
	return ok && s.holds(p, role)
}

// AnyRole reports whether person id holds at least one of roles.
func (s Snapshot) AnyRole(id string, roles []string) bool {
	p, ok := s.Person(id)
	if !ok {
		return false
	}
	for _, r := range roles {
		if s.holds(p, r) {
			return true
		}
	}
	return false
}

// Members returns the people holding role, sorted by ID.
func (s Snapshot) Members(role string) []PinnedPerson {
	var out []PinnedPerson
	for _, p := range s.People {
		if s.holds(p, role) {
			out = append(out, p)
		}
	}
	return out
}

// KeyLines returns person id's public key lines, newline-joined, for
// approval.Verify; "" for an unknown person or one without keys.
func (s Snapshot) KeyLines(id string) string {
	p, _ := s.Person(id)
	lines := make([]string, len(p.Keys))
	for i, k := range p.Keys {
		lines[i] = k.Line
	}
	return strings.Join(lines, "\n")
}

// RequireSigned reports whether human inputs must carry a valid signature.
// Anything but an explicit "optional" requires them.
func (s Snapshot) RequireSigned() bool { return s.Policy.Signatures != SignaturesOptional }

func (s Snapshot) holds(p PinnedPerson, role string) bool {
	if slices.Contains(p.Roles, role) {
		return true
	}
	if role != spec.RoleFullTeam {
		return false
	}
	for _, q := range s.People {
		if slices.Contains(q.Roles, spec.RoleFullTeam) {
			return false
		}
	}
	return true
}
