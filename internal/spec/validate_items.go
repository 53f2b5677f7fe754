package spec

import (
	"fmt"
	"sort"
	"strings"
)

// itemList is one merged item list with the defaults it was merged into.
type itemList struct {
	path     string
	merged   []Item
	defaults []Item
}

// allItems checks the readiness, T-4h, post-rollback and review items, and the
// integrations their automatic checks need.
func (c *checker) allItems() {
	s := c.s
	lists := []itemList{
		{"readiness.items", s.Readiness.Items, defaultReadiness(s.App)},
		{"prepare.items", s.Prepare.Items, DefaultPrepare()},
		{"rollback.action_items", s.Rollback.ActionItems, DefaultActionItems()},
		{"review.items", s.Review.Items, DefaultReviewItems()},
	}
	for _, l := range lists {
		raw := l.merged
		if c.raw != nil {
			raw = c.raw[l.path]
		}
		c.items(l, raw)
	}
	if s.Readiness.Timeout <= 0 {
		c.add("readiness.timeout", "must be greater than 0")
	}
	c.needs(append(append([]Item(nil), s.Readiness.Items...), s.Prepare.Items...))
}

// items checks the items as written (raw) and the attesting roles of the defaults merged in.
func (c *checker) items(l itemList, raw []Item) {
	isDefault := map[string]bool{}
	for _, d := range l.defaults {
		isDefault[d.ID] = true
	}
	seen := map[string]string{}
	attestWritten := map[string]bool{}
	for i, it := range raw {
		p := fmt.Sprintf("%s[%d]", l.path, i)
		if !c.required(p+".id", it.ID, "names the item in commands and evidence") {
			continue
		}
		if !namePattern.MatchString(it.ID) {
			c.add(p+".id", "%q may hold only letters, digits, '.', '_' and '-'", it.ID)
		}
		if first, dup := seen[it.ID]; dup {
			c.add(p+".id", "duplicate item id %q (also %s)", it.ID, first)
		}
		seen[it.ID] = p
		switch {
		case it.Auto != nil && it.Attest != "":
			c.add(p, "set either auto or attest, not both")
		case it.Auto == nil && it.Attest == "" && !isDefault[it.ID]:
			c.add(p, "set auto (a check) or attest (a role): %q is not a default item", it.ID)
		}
		if !isDefault[it.ID] && it.Title == "" {
			c.add(p+".title", "is required for an item that is not in the default checklist")
		}
		if it.Attest != "" {
			attestWritten[it.ID] = true
			c.roleHasPeople(p+".attest", it.Attest)
		}
		if it.Auto != nil {
			c.check(p+".auto", *it.Auto)
		}
	}
	if len(c.s.Team) == 0 {
		return
	}
	byRole := map[string][]string{}
	for _, it := range l.merged {
		if it.Attest != "" && !it.Optional && !attestWritten[it.ID] && len(c.s.Members(it.Attest)) == 0 {
			byRole[it.Attest] = append(byRole[it.Attest], it.ID)
		}
	}
	for _, role := range sortedKeys(byRole) {
		c.add(l.path, "role %q has no people in team; it attests default items %s (add people to the role or override the items)",
			role, strings.Join(byRole[role], ", "))
	}
}

// check checks one automatic check.
func (c *checker) check(p string, ch Check) {
	if !c.required(p+".kind", ch.Kind, "one of "+strings.Join(CheckKinds, ", ")) {
		return
	}
	c.enum(p+".kind", ch.Kind, CheckKinds)
	switch ch.Kind {
	case "command":
		if len(ch.Command) == 0 {
			c.add(p+".command", "is required for a command check")
		}
	case "sql", "metric":
		c.required(p+".query", ch.Query, "a "+ch.Kind+" check runs it")
	case "http", "cors", "csrf", "csp", "jwt", "rate_limit":
		if ch.URL != "" {
			c.httpURL(p+".url", ch.URL)
		}
		if ch.Path != "" {
			c.absPath(p+".path", ch.Path)
		}
	}
	if ch.ExpectStatus != 0 && (ch.ExpectStatus < 100 || ch.ExpectStatus > 599) {
		c.add(p+".expect_status", "%d is not an HTTP status", ch.ExpectStatus)
	}
	if ch.MinDaysValid < 0 {
		c.add(p+".min_days_valid", "must not be negative")
	}
	c.kindCheck(p, ch)
}

// needs reports required automatic checks whose integration is not configured:
// database checks without database.url, backup checks with backup.type none,
// TLS checks on a plain-http app.
func (c *checker) needs(items []Item) {
	var db, backup, tls []string
	for _, it := range items {
		if it.Optional || it.Auto == nil {
			continue
		}
		switch k := it.Auto.Kind; {
		case k == string(KindBackup) || k == string(KindBackupCatalog):
			backup = append(backup, it.ID)
		case IsDatabaseCheck(k) && k != string(KindPgBouncer):
			db = append(db, it.ID)
		case (k == string(KindTLS) || k == string(KindTLSRenewal)) && it.Auto.Host == "":
			tls = append(tls, it.ID)
		}
	}
	const fix = "or mark them optional, or attest them"
	if len(db) > 0 && c.s.Database.URL == "" {
		c.add("database.url", "is required by items %s (set it, %s)", strings.Join(db, ", "), fix)
	}
	if len(backup) > 0 && c.s.Backup.Type == "none" {
		c.add("backup.type", "is none, but items %s verify backups (set postgres or rds, %s)", strings.Join(backup, ", "), fix)
	}
	if len(tls) > 0 && strings.HasPrefix(c.s.App.URL, "http://") {
		c.add("app.url", "is plain http, but items %s check its TLS certificate (use https, %s)", strings.Join(tls, ", "), fix)
	}
}

// sortedKeys lists a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
