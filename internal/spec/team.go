package spec

import (
	"sort"
	"time"
)

// People returns every person in the team once (the first entry found for an ID,
// roles taken in name order), sorted by ID.
func (s *Spec) People() []Person {
	seen := map[string]bool{}
	var out []Person
	for _, role := range sortedKeys(s.Team) {
		for _, p := range s.Team[role] {
			if p.ID != "" && !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Person returns the team member with the given ID.
func (s *Spec) Person(id string) (Person, bool) {
	for _, p := range s.People() {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// Roles returns the roles a person holds, sorted. The implicit full_team role is
// included when the team does not define it and the person is in the team.
func (s *Spec) Roles(personID string) []string {
	var roles []string
	for _, role := range sortedKeys(s.Team) {
		for _, p := range s.Team[role] {
			if p.ID == personID {
				roles = append(roles, role)
				break
			}
		}
	}
	if _, explicit := s.Team[RoleFullTeam]; !explicit && len(roles) > 0 {
		roles = append(roles, RoleFullTeam)
		sort.Strings(roles)
	}
	return roles
}

// HasRole reports whether a person holds a role (full_team: see Members).
func (s *Spec) HasRole(personID, role string) bool {
	for _, p := range s.Members(role) {
		if p.ID == personID {
			return true
		}
	}
	return false
}

// Members returns the people holding a role, once each, in the team's order.
// The role full_team means every person in the team unless the team defines it.
func (s *Spec) Members(role string) []Person {
	list, ok := s.Team[role]
	if !ok && role == RoleFullTeam {
		return s.People()
	}
	seen := map[string]bool{}
	var out []Person
	for _, p := range list {
		if p.ID != "" && !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, p)
		}
	}
	return out
}

// Offset is one scheduled watch check, counted from the deploy time.
type Offset struct {
	// Offset is the time after deploy at which the check runs.
	Offset time.Duration
	// Phase is the name of the watch phase the check belongs to.
	Phase string
}

// Offsets lists the watch checks: for each phase, every Every after the previous
// phase's end, up to and including its Until (which is always a check).
// The default plan gives 30 checks: 15m..4h, 5h..12h, 14h..24h.
func (w Watch) Offsets() []Offset {
	var out []Offset
	var prev time.Duration
	for _, ph := range w.Phases {
		until, every := ph.Until.D(), ph.Every.D()
		if until <= prev {
			continue
		}
		if every > 0 {
			for t := prev + every; t < until; t += every {
				out = append(out, Offset{Offset: t, Phase: ph.Name})
			}
		}
		out = append(out, Offset{Offset: until, Phase: ph.Name})
		prev = until
	}
	return out
}
