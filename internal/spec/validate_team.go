package spec

import (
	"fmt"
	"strings"
)

// team checks every person and that a person listed under several roles is the same person.
func (c *checker) team() {
	if len(c.s.Team) == 0 {
		c.add("team", "is required (map each role to the people who hold it)")
		return
	}
	first := map[string]Person{}
	firstAt := map[string]string{}
	for _, role := range sortedKeys(c.s.Team) {
		inRole := map[string]bool{}
		for i, p := range c.s.Team[role] {
			at := fmt.Sprintf("team.%s[%d]", role, i)
			okID := c.required(at+".id", p.ID, "the handle used with golive approve --as")
			c.required(at+".name", p.Name, "shown in sign-offs and evidence")
			if !okID {
				continue
			}
			if !namePattern.MatchString(p.ID) {
				c.add(at+".id", "%q may hold only letters, digits, '.', '_' and '-'", p.ID)
			}
			if inRole[p.ID] {
				c.add(at+".id", "person %q is listed twice in role %q", p.ID, role)
			}
			inRole[p.ID] = true
			if q, seen := first[p.ID]; seen && q != p {
				c.add(at, "person %q differs from %s; define a person once (use a YAML anchor) or keep the copies equal", p.ID, firstAt[p.ID])
			} else if !seen {
				first[p.ID], firstAt[p.ID] = p, at
			}
		}
	}
}

// roleHasPeople reports a role that nobody holds.
func (c *checker) roleHasPeople(path, role string) bool {
	if strings.TrimSpace(role) == "" {
		c.add(path, "is required (a team role)")
		return false
	}
	if len(c.s.Team) > 0 && len(c.s.Members(role)) == 0 {
		c.add(path, "role %q has no people in team", role)
		return false
	}
	return true
}

// signoffs checks a sign-off block: slot IDs, roles, counts, timers, and that
// enough distinct people exist to fill every slot.
func (c *checker) signoffs(path string, b *SignoffBlock) {
	if len(b.Slots) == 0 {
		c.add(path+".slots", "is empty (a sign-off needs at least one slot)")
	}
	seen := map[string]string{}
	allOK := true
	for i, sl := range b.Slots {
		p := fmt.Sprintf("%s.slots[%d]", path, i)
		if first, dup := seen[sl.ID]; dup {
			c.add(p+".id", "duplicate slot id %q (also %s)", sl.ID, first)
		}
		seen[sl.ID] = p
		if sl.ID != "" && !namePattern.MatchString(sl.ID) {
			c.add(p+".id", "%q may hold only letters, digits, '.', '_' and '-'", sl.ID)
		}
		if sl.MinPeople < 1 {
			c.add(p+".min_people", "must be at least 1")
			allOK = false
			continue
		}
		if !c.roleHasPeople(p+".role", sl.Role) || len(c.s.Team) == 0 {
			allOK = false
			continue
		}
		if n := len(c.s.Members(sl.Role)); n < sl.MinPeople {
			c.add(p+".min_people", "needs %d people but role %q has %d", sl.MinPeople, sl.Role, n)
			allOK = false
		}
	}
	if allOK {
		if need, got := c.fillable(b.Slots); got < need {
			c.add(path+".slots", "need %d distinct people but the team can fill only %d of them", need, got)
		}
	}
	for i, sl := range b.Slots {
		for _, a := range sl.After {
			if _, ok := seen[a]; !ok || a == sl.ID {
				c.add(fmt.Sprintf("%s.slots[%d].after", path, i), "%q is not another slot of this block", a)
			}
		}
		if !b.RequireSigned {
			continue
		}
		for _, p := range c.s.Members(sl.Role) {
			if p.PublicKey == "" {
				c.add(fmt.Sprintf("%s.slots[%d].role", path, i), "signed sign-offs are required (require_signed_approvals) but %s (%s) has no public_key", p.ID, sl.Role)
			}
		}
	}
	c.enum(path+".on_timeout", b.OnTimeout, OnTimeouts)
	if b.Timeout <= 0 {
		c.add(path+".timeout", "must be greater than 0")
	}
}

// fillable matches slot seats (a slot needing n people has n seats) to distinct
// people by augmenting paths, returning the seats needed and the seats filled.
func (c *checker) fillable(slots []Slot) (need, got int) {
	var seats [][]string
	for _, sl := range slots {
		ids := []string{}
		for _, p := range c.s.Members(sl.Role) {
			ids = append(ids, p.ID)
		}
		for range sl.MinPeople {
			seats = append(seats, ids)
		}
	}
	owner := map[string]int{}
	var try func(seat int, visited map[string]bool) bool
	try = func(seat int, visited map[string]bool) bool {
		for _, id := range seats[seat] {
			if visited[id] {
				continue
			}
			visited[id] = true
			if o, taken := owner[id]; !taken || try(o, visited) {
				owner[id] = seat
				return true
			}
		}
		return false
	}
	for i := range seats {
		if try(i, map[string]bool{}) {
			got++
		}
	}
	return len(seats), got
}

// watch checks the monitoring phases and the post-rollback watch.
func (c *checker) watch() {
	w := c.s.Watch
	if w.T1H <= 0 {
		c.add("watch.t1h", "must be greater than 0")
	}
	if len(w.Phases) == 0 {
		c.add("watch.phases", "is empty")
	}
	var prev Duration
	for i, ph := range w.Phases {
		p := fmt.Sprintf("watch.phases[%d]", i)
		if ph.Every <= 0 {
			c.add(p+".every", "must be greater than 0")
		}
		if ph.Until <= prev {
			c.add(p+".until", "%s must be later than the previous phase's until (%s)", short(ph.Until), short(prev))
			continue
		}
		prev = ph.Until
	}
	if w.T1H > prev && prev > 0 {
		c.add("watch.t1h", "%s is after the end of the watch (%s)", short(w.T1H), short(prev))
	}
	rw := c.s.Rollback.Watch
	if rw.Every <= 0 {
		c.add("rollback.watch.every", "must be greater than 0")
	}
	if rw.Until < rw.Every {
		c.add("rollback.watch.until", "%s is shorter than one interval (%s)", short(rw.Until), short(rw.Every))
	}
	for i, role := range c.s.Rollback.Approvers {
		c.roleHasPeople(fmt.Sprintf("rollback.approvers[%d]", i), role)
	}
	if c.s.Review.Timeout <= 0 {
		c.add("review.timeout", "must be greater than 0")
	}
}

// escalation checks that levels are numbered 1..n, have contacts with people,
// and that the critical, target and rollback levels exist.
func (c *checker) escalation() {
	e := c.s.Escalation
	for i, l := range e.Levels {
		p := fmt.Sprintf("escalation.levels[%d]", i)
		if l.Level != i+1 {
			c.add(p+".level", "is %d; levels must be numbered 1, 2, 3... in order", l.Level)
		}
		if len(l.Contacts) == 0 {
			c.add(p+".contacts", "is empty (name the roles to contact)")
		}
		for j, role := range l.Contacts {
			c.roleHasPeople(fmt.Sprintf("%s.contacts[%d]", p, j), role)
		}
	}
	for _, f := range []struct {
		path  string
		level int
	}{{"escalation.critical_level", e.CriticalLevel}, {"escalation.target_level", e.TargetLevel}, {"escalation.rollback_level", e.RollbackLevel}} {
		if f.level < 1 || f.level > len(e.Levels) {
			c.add(f.path, "level %d is not defined (levels 1..%d)", f.level, len(e.Levels))
		}
	}
}
