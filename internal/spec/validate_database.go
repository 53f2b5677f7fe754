package spec

import (
	"fmt"
	"path/filepath"
	"regexp"
)

var sqlIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// database checks the PostgreSQL settings: retries and waits, the version
// table's name, and that every connection string is a reference.
func (c *checker) database() {
	d := c.s.Database
	if d.LockRetries < 0 {
		c.add("database.lock_retries", "must not be negative")
	}
	if d.VersionTable != "" && !sqlIdent.MatchString(d.VersionTable) {
		c.add("database.version_table", "%q is not a plain SQL identifier", d.VersionTable)
	}
	for i, f := range d.AcceptIrreversible {
		if f == "" || f != filepath.Base(f) {
			c.add(fmt.Sprintf("database.accept_irreversible[%d]", i), "%q is not a migration file name (no directories)", f)
		}
	}
	c.secretRef("backup.scratch_url", c.s.Backup.ScratchURL)
	c.secretRef("database.pooler_url", d.PoolerURL)
	if c.s.Backup.Jobs < 0 {
		c.add("backup.jobs", "must not be negative")
	}
	lists := []struct {
		path  string
		items []Item
	}{{"readiness.items", c.s.Readiness.Items}, {"prepare.items", c.s.Prepare.Items}, {"review.items", c.s.Review.Items}, {"rollback.action_items", c.s.Rollback.ActionItems}}
	for _, l := range lists {
		for i, it := range l.items {
			if it.Auto == nil {
				continue
			}
			p := fmt.Sprintf("%s[%d].auto", l.path, i)
			// Values copied from the database and backup sections are reported there, once.
			if it.Auto.Database != nil && it.Auto.Database.URL != c.s.Database.URL {
				c.secretRef(p+".database.url", it.Auto.Database.URL)
			}
			if it.Auto.Backup != nil && it.Auto.Backup.ScratchURL != c.s.Backup.ScratchURL {
				c.secretRef(p+".backup.scratch_url", it.Auto.Backup.ScratchURL)
			}
		}
	}
}
