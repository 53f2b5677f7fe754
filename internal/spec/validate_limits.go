package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// environmentPattern is the one spelling of an environment: the workflow ID
// (release:<service>:<environment>) and the per-environment defaults (production
// requires signed approvals) key on it, so "Production" and "production" must not
// be two environments.
var environmentPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// environment reports an environment that is not a canonical name, suggesting one.
func (c *checker) environment() {
	v := c.s.Environment
	if !c.required("environment", v, "where it is released, e.g. production") || environmentPattern.MatchString(v) {
		return
	}
	msg := fmt.Sprintf("%q is not a canonical environment name (lower-case letters, digits and '-', starting with a letter)", v)
	if s := canonicalEnvironment(v); s != "" {
		msg += fmt.Sprintf(": write %q", s)
	}
	c.add("environment", "%s", msg)
}

// canonicalEnvironment lower-cases a name and turns '_', '.' and spaces into '-';
// it returns "" when that still is not canonical.
func canonicalEnvironment(v string) string {
	s := strings.Trim(strings.Map(func(r rune) rune {
		switch r {
		case '_', '.', ' ':
			return '-'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(v))), "-")
	if !environmentPattern.MatchString(s) {
		return ""
	}
	return s
}

// repeats bounds what a spec schedules over and over: the watch checks and each
// block's reminders (a watch that checks every nanosecond would never end).
func (c *checker) repeats() {
	if n := watchChecks(c.s.Watch.Phases, 0); n > MaxWatchChecks {
		c.add("watch.phases", "schedule %d checks, more than the limit of %d: check less often", n, MaxWatchChecks)
	}
	if n := watchChecks([]Phase{c.s.Rollback.Watch}, 0); n > MaxWatchChecks {
		c.add("rollback.watch.every", "schedules %d checks, more than the limit of %d: check less often", n, MaxWatchChecks)
	}
	for _, b := range []struct {
		path string
		blk  SignoffBlock
	}{{"approvals", c.s.Approvals}, {"completion", c.s.Completion}, {"review.signoffs", c.s.Review.Signoffs}} {
		if b.blk.RemindEvery > 0 && b.blk.Timeout/b.blk.RemindEvery > MaxReminders {
			c.add(b.path+".remind_every", "%s within a timeout of %s sends more than %d reminders: remind less often",
				short(b.blk.RemindEvery), short(b.blk.Timeout), MaxReminders)
		}
	}
}

// watchChecks counts the checks Watch.Offsets would schedule, without listing them.
func watchChecks(phases []Phase, prev Duration) int64 {
	var n int64
	for _, ph := range phases {
		if ph.Until <= prev {
			continue
		}
		if ph.Every > 0 {
			n += int64((ph.Until - prev + ph.Every - 1) / ph.Every)
		} else {
			n++
		}
		prev = ph.Until
	}
	return n
}
