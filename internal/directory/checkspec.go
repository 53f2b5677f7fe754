package directory

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/spec"
)

// CheckSpec lists what a release spec says that the directory does not back:
// the spec may only name people the directory holds, under roles it grants
// them, with their directory details and keys, and must have the sign-off
// slots the policy demands. One problem per offending entry, each starting with
// the spec path (team.compliance_officer[0], approvals.slots[2].role, ...).
// Pure: no I/O, output in a fixed order.
func (s Snapshot) CheckSpec(sp spec.Spec) []string {
	var out []string
	if sp.Environment != s.Environment {
		out = append(out, fmt.Sprintf("environment: the spec says %q, but the directory policy was resolved for %q", sp.Environment, s.Environment))
	}
	for _, role := range slices.Sorted(maps.Keys(sp.Team)) {
		for i, p := range sp.Team[role] {
			if problem := s.checkPerson(fmt.Sprintf("team.%s[%d]", role, i), role, p); problem != "" {
				out = append(out, problem)
			}
		}
	}
	specBlocks := map[string]struct {
		path  string
		slots []spec.Slot
	}{
		BlockApprovals:  {"approvals", sp.Approvals.Slots},
		BlockCompletion: {"completion", sp.Completion.Slots},
		BlockReview:     {"review.signoffs", sp.Review.Signoffs.Slots},
	}
	for _, b := range blocks {
		want := s.Policy.Signoffs[b]
		have := specBlocks[b]
		for _, slot := range slices.Sorted(maps.Keys(want)) {
			i := slices.IndexFunc(have.slots, func(sl spec.Slot) bool { return sl.ID == slot })
			switch {
			case i < 0:
				out = append(out, fmt.Sprintf("%s.slots: the %s policy requires slot %q (role %s), which the spec does not have", have.path, s.Environment, slot, want[slot]))
			case have.slots[i].Role != want[slot]:
				out = append(out, fmt.Sprintf("%s.slots[%d].role: slot %q has role %q, but the %s policy requires %q", have.path, i, slot, have.slots[i].Role, s.Environment, want[slot]))
			}
		}
	}
	return out
}

// checkPerson returns the problem with one team entry, or "".
func (s Snapshot) checkPerson(path, role string, p spec.Person) string {
	d, ok := s.Person(p.ID)
	if !ok {
		return fmt.Sprintf("%s: %q is not a person of the team directory %s", path, p.ID, s.File)
	}
	var why []string
	if !s.holds(d, role) {
		why = append(why, fmt.Sprintf("%s is listed under %s, which the directory does not grant %s (%s holds %s)", p.ID, role, p.ID, p.ID, strings.Join(d.Roles, ", ")))
	}
	for _, f := range []struct{ name, spec, dir string }{{"name", p.Name, d.Name}, {"email", p.Email, d.Email}, {"phone", p.Phone, d.Phone}} {
		switch {
		case f.spec == "" || f.spec == f.dir:
		case f.dir == "":
			why = append(why, fmt.Sprintf("%s %q is not in the directory (it has none for %s)", f.name, f.spec, p.ID))
		default:
			why = append(why, fmt.Sprintf("%s %q differs from the directory's %q", f.name, f.spec, f.dir))
		}
	}
	if strings.TrimSpace(p.PublicKey) != "" {
		if problem := s.checkKeys(d, p.PublicKey); problem != "" {
			why = append(why, problem)
		}
	}
	if len(why) == 0 {
		return ""
	}
	return path + ": " + strings.Join(why, "; ")
}

// checkKeys says which of the spec's public keys for d are not among d's directory keys.
func (s Snapshot) checkKeys(d PinnedPerson, text string) string {
	keys, err := approval.ParseKeys(text)
	if err != nil {
		return fmt.Sprintf("public_key: %v", err)
	}
	var have []string
	for _, k := range d.Keys {
		have = append(have, k.Fingerprint)
	}
	var bad []string
	for _, k := range keys {
		if !slices.Contains(have, k.Fingerprint()) {
			bad = append(bad, k.Fingerprint())
		}
	}
	if len(bad) == 0 {
		return ""
	}
	held := "none"
	if len(have) > 0 {
		held = strings.Join(have, ", ")
	}
	return fmt.Sprintf("public_key %s is not among %s's directory keys (%s)", strings.Join(bad, ", "), d.ID, held)
}
