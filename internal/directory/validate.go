package directory

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/spec"
)

var (
	personPattern      = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)
	rolePattern        = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	environmentPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	// servicePattern and slotPattern follow what the release spec accepts for a service and a slot ID.
	servicePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	slotPattern    = servicePattern
)

// checker validates a decoded directory, placing each problem through the decoder's nodes.
type checker struct {
	d   *decoder
	dir *Directory
	// held is every role some person holds.
	held map[string]bool
}

func (c *checker) add(path, format string, args ...any) {
	c.d.errAt(c.d.locate(path), path, format, args...)
}

// validate checks what decoding cannot: required fields, names, uniqueness,
// keys, admins, and that every role a policy names is held by somebody.
func (d *decoder) validate(dir *Directory) {
	c := &checker{d: d, dir: dir, held: map[string]bool{}}
	if dir.Version != Version {
		if _, ok := d.nodes["version"]; ok {
			c.add("version", "is %d; this golive reads version %d", dir.Version, Version)
		} else {
			c.add("version", "is required (version: %d)", Version)
		}
	}
	c.people()
	c.admins()
	c.checkWebAuthn()
	if len(dir.Environments) == 0 {
		c.add("environments", "is required (at least one environment and its policy)")
	}
	for _, env := range slices.Sorted(maps.Keys(dir.Environments)) {
		path := "environments." + env
		if !environmentPattern.MatchString(env) {
			c.add(path, "environment name %q may hold only lower-case letters, digits and '-', starting with a letter", env)
		}
		pol := dir.Environments[env]
		c.policy(path, pol, true)
		for _, svc := range slices.Sorted(maps.Keys(pol.Services)) {
			if !servicePattern.MatchString(svc) {
				c.add(path+".services."+svc, "service name %q may hold only letters, digits, '.', '_' and '-'", svc)
			}
			c.policy(path+".services."+svc, pol.Services[svc], false)
		}
	}
}

// people checks each person and their keys; a key belongs to one person only.
func (c *checker) people() {
	if len(c.dir.People) == 0 {
		c.add("people", "is required (everyone who may start, steer or sign off a release)")
	}
	firstID := map[string]int{}
	keyOwner := map[string]string{}
	for i, p := range c.dir.People {
		at := fmt.Sprintf("people[%d]", i)
		switch {
		case p.ID == "":
			c.add(at+".id", "is required (the handle used with golive --as)")
		case !personPattern.MatchString(p.ID):
			c.add(at+".id", "%q may hold only lower-case letters, digits, '_', '.' and '-', starting with a letter", p.ID)
		}
		if j, dup := firstID[p.ID]; dup && p.ID != "" {
			c.add(at+".id", "person %q is defined twice (first at people[%d], line %d)", p.ID, j, c.d.locate(fmt.Sprintf("people[%d].id", j)).Line)
		} else {
			firstID[p.ID] = i
		}
		if strings.TrimSpace(p.Name) == "" {
			c.add(at+".name", "is required (shown in sign-offs and evidence)")
		}
		if len(p.Roles) == 0 {
			c.add(at+".roles", "is required (the roles %s holds)", p.ID)
		}
		for j, r := range p.Roles {
			rp := fmt.Sprintf("%s.roles[%d]", at, j)
			if !rolePattern.MatchString(r) {
				c.add(rp, "role %q may hold only lower-case letters, digits and '_', starting with a letter", r)
			} else if slices.Index(p.Roles, r) < j {
				c.add(rp, "role %q is listed twice", r)
			}
			c.held[r] = true
		}
		for j, line := range p.Keys {
			kp := fmt.Sprintf("%s.keys[%d]", at, j)
			fp, err := parsePersonKey(line)
			if err != nil {
				c.add(kp, "%v", err)
				continue
			}
			if owner, dup := keyOwner[fp]; dup {
				c.add(kp, "key %s is already %s's: a key stands for one person, once", fp, owner)
				continue
			}
			keyOwner[fp] = p.ID
		}
	}
	c.held[spec.RoleFullTeam] = len(c.dir.People) > 0
}

// parsePersonKey parses one key line of a person and returns its fingerprint.
func parsePersonKey(line string) (string, error) {
	if strings.Contains(strings.TrimSpace(line), "\n") {
		return "", fmt.Errorf("one key per entry: this one spans several lines")
	}
	keys, err := approval.ParseKeys(line)
	if err != nil {
		return "", err
	}
	if keys[0].Principals != nil {
		return "", fmt.Errorf("want an OpenSSH public key line (\"ssh-ed25519 AAAA... comment\"), not an allowed_signers entry: the person's ID is its principal")
	}
	return keys[0].Fingerprint(), nil
}

// admins checks the admin list and the quorum.
func (c *checker) admins() {
	dir := c.dir
	if len(dir.Admins) == 0 {
		c.add("admins", "is required (the people who sign changes to this file)")
	}
	for i, id := range dir.Admins {
		at := fmt.Sprintf("admins[%d]", i)
		p, ok := dir.Person(id)
		switch {
		case slices.Index(dir.Admins, id) < i:
			c.add(at, "admin %q is listed twice", id)
		case !ok:
			c.add(at, "admin %q is not a person of this directory", id)
		case len(p.Keys) == 0:
			c.add(at, "admin %q has no key to sign with", id)
		}
	}
	switch {
	case dir.Quorum < 1:
		c.add("quorum", "is %d; at least 1 admin must sign a change", dir.Quorum)
	case len(dir.Admins) > 0 && dir.Quorum > len(dir.Admins):
		c.add("quorum", "is %d, but only %d admins are listed: no change could ever be signed", dir.Quorum, len(dir.Admins))
	}
}

// policy checks one environment's policy (env) or one service override (!env).
func (c *checker) policy(path string, pol Policy, env bool) {
	switch {
	case pol.Signatures == "" && env:
		c.add(path+".signatures", "is required (%s)", joinModes())
	case pol.Signatures != "" && !slices.Contains(signatureModes, pol.Signatures):
		c.add(path+".signatures", "%q is not one of %s", pol.Signatures, joinModes())
	}
	for _, f := range []struct {
		name  string
		roles []string
	}{{"start", pol.Start}, {"steer", pol.Steer}, {"rollback", pol.Rollback}} {
		if env && len(f.roles) == 0 {
			c.add(path+"."+f.name, "is required (the roles that may %s)", verbs[f.name])
		}
		for i, r := range f.roles {
			c.role(fmt.Sprintf("%s.%s[%d]", path, f.name, i), r)
		}
	}
	for _, b := range slices.Sorted(maps.Keys(pol.Signoffs)) {
		bp := path + ".signoffs." + b
		if !slices.Contains(blocks, b) {
			c.add(bp, "unknown sign-off block %q (known: %s)", b, strings.Join(blocks, ", "))
			continue
		}
		if len(pol.Signoffs[b]) == 0 {
			c.add(bp, "is empty (name each slot and its role, or leave the block out)")
		}
		for _, slot := range slices.Sorted(maps.Keys(pol.Signoffs[b])) {
			if !slotPattern.MatchString(slot) {
				c.add(bp+"."+slot, "slot ID %q may hold only letters, digits, '.', '_' and '-'", slot)
			}
			c.role(bp+"."+slot, pol.Signoffs[b][slot])
		}
	}
}

var verbs = map[string]string{"start": "start a release", "steer": "abort, hold and resume a release", "rollback": "request a rollback"}

// role checks that a role a policy names is well formed and held by somebody.
func (c *checker) role(path, role string) {
	switch {
	case !rolePattern.MatchString(role):
		c.add(path, "role %q may hold only lower-case letters, digits and '_', starting with a letter", role)
	case !c.held[role]:
		c.add(path, "role %q is held by nobody in people", role)
	}
}

func joinModes() string {
	s := make([]string, len(signatureModes))
	for i, m := range signatureModes {
		s[i] = string(m)
	}
	return strings.Join(s, " or ")
}
