package directory

import (
	"maps"
	"slices"
)

// Overview is a directory laid out for review (golive directory show): every
// environment's policy as a release would resolve it, and who holds which role.
type Overview struct {
	File   string `json:"file"`
	Digest string `json:"digest"`
	// Admins sign changes; Quorum of them must.
	Admins []string `json:"admins"`
	Quorum int      `json:"quorum"`
	// People are sorted by ID, with key fingerprints.
	People []PinnedPerson `json:"people"`
	// Roles maps each role held to its holders' IDs, sorted.
	Roles map[string][]string `json:"roles"`
	// Environments maps each environment to its resolved policies.
	Environments map[string]EnvironmentView `json:"environments"`
}

// EnvironmentView is one environment's policy and, per service with an
// override, the policy a release of that service resolves to.
type EnvironmentView struct {
	Policy   Policy            `json:"policy"`
	Services map[string]Policy `json:"services,omitempty"`
}

// Overview resolves every environment and service override of d.
func (d *Directory) Overview() (Overview, error) {
	o := Overview{File: d.File, Digest: d.Digest, Admins: d.Admins, Quorum: d.Quorum,
		Roles: map[string][]string{}, Environments: map[string]EnvironmentView{}}
	for _, env := range slices.Sorted(maps.Keys(d.Environments)) {
		s, err := d.Resolve("", env)
		if err != nil {
			return Overview{}, err
		}
		o.People = s.People
		v := EnvironmentView{Policy: s.Policy}
		for _, svc := range slices.Sorted(maps.Keys(d.Environments[env].Services)) {
			if v.Services == nil {
				v.Services = map[string]Policy{}
			}
			v.Services[svc] = d.Environments[env].fold(d.Environments[env].Services[svc])
		}
		o.Environments[env] = v
	}
	for _, p := range o.People {
		for _, r := range p.Roles {
			o.Roles[r] = append(o.Roles[r], p.ID)
		}
	}
	for r := range o.Roles {
		slices.Sort(o.Roles[r])
	}
	return o, nil
}

// RoleNames returns the roles held, sorted.
func (o Overview) RoleNames() []string { return slices.Sorted(maps.Keys(o.Roles)) }

// EnvironmentNames returns the environments, sorted.
func (o Overview) EnvironmentNames() []string { return slices.Sorted(maps.Keys(o.Environments)) }
