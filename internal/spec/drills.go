package spec

import (
	"fmt"
	"time"
)

// DrillKind names a recovery drill golive runs on a schedule against the
// staging target; the drill check reads the last one of its kind.
type DrillKind string

// The drill kinds.
const (
	// DrillBackupRestore: a backup of the staging database restored into a
	// scratch database and compared with its source ("Disaster recovery plan tested").
	DrillBackupRestore DrillKind = "backup_restore"
	// DrillRollbackRehearsal: the rollback rehearsal on a verified restore of
	// the staging database ("Rollback plan tested and documented").
	DrillRollbackRehearsal DrillKind = "rollback_rehearsal"
	// DrillPITR: the team's point-in-time restore command into staging
	// (drills.pitr_command), then the restored database answers ("Point-in-time recovery tested").
	DrillPITR DrillKind = "pitr"
)

// DrillKinds are the values of a drill kind, in documentation order.
var DrillKinds = []string{string(DrillBackupRestore), string(DrillRollbackRehearsal), string(DrillPITR)}

// drillItems are the readiness items a scheduled drill of each kind proves.
var drillItems = map[DrillKind]string{
	DrillBackupRestore:     "test.disaster_recovery",
	DrillRollbackRehearsal: "test.rollback_plan",
	DrillPITR:              "db.pitr",
}

// DefaultDrillEvery is the drills' cadence: weekly.
const DefaultDrillEvery = 7 * 24 * time.Hour

// drillSlack is how much older than one cadence the last drill may be before
// the drill check calls it stale: a drill that ran a little late still counts.
const drillSlack = 24 * time.Hour

// Drills are the recovery drills `golive drill schedule` puts on Temporal
// Schedules, run against a staging target, each result written to the audit ledger.
type Drills struct {
	// Every is the cadence of every drill (default 168h, weekly).
	Every Duration `yaml:"every,omitempty" json:"every,omitempty"`
	// Staging is the target the drills restore and rehearse on; without it no drill is scheduled.
	Staging *Staging `yaml:"staging,omitempty" json:"staging,omitempty"`
	// PITRCommand is argv (no shell) of the team's point-in-time restore into
	// the staging database, e.g. pgbackrest restore --type=time; with it the pitr drill is scheduled.
	PITRCommand []string `yaml:"pitr_command,omitempty" json:"pitr_command,omitempty"`
}

// Staging is the drills' target, by reference.
type Staging struct {
	// Database is the staging database; url is a reference (env://, secret://), and
	// migrations default to database.migrations (this release's).
	Database Database `yaml:"database" json:"database"`
	// Backup is how the staging database is backed up and restored (type postgres by default).
	Backup Backup `yaml:"backup,omitempty" json:"backup,omitempty"`
}

// DrillCheck is what a drill check reads from the audit ledger.
type DrillCheck struct {
	// Kind is the drill whose last run is judged.
	Kind DrillKind `yaml:"kind" json:"kind"`
	// MaxAge bounds how long ago the last passed drill may have run (default: drills.every plus a day).
	MaxAge Duration `yaml:"max_age,omitempty" json:"max_age,omitempty"`
	// Service is whose drills count (default: the spec's service).
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
}

// Scheduled lists the drills the spec configures, in DrillKinds order.
func (d Drills) Scheduled() []DrillKind {
	if d.Staging == nil {
		return nil
	}
	out := []DrillKind{DrillBackupRestore, DrillRollbackRehearsal}
	if len(d.PITRCommand) > 0 {
		out = append(out, DrillPITR)
	}
	return out
}

// drillDefaults completes the drills section from the spec's own database settings.
func drillDefaults(s *Spec) {
	or(&s.Drills.Every, dur(DefaultDrillEvery))
	st := s.Drills.Staging
	if st == nil {
		return
	}
	or(&st.Database.Migrations, s.Database.Migrations)
	or(&st.Database.LockTimeout, s.Database.LockTimeout)
	or(&st.Database.StatementTimeout, s.Database.StatementTimeout)
	or(&st.Database.VersionTable, s.Database.VersionTable)
	or(&st.Backup.Type, "postgres")
}

// drillCheckDefaults fills a drill check from the spec: its service and a
// freshness bound of one cadence plus a day.
func drillCheckDefaults(s *Spec, c *Check) {
	if c.Drill == nil {
		return
	}
	d := *c.Drill
	or(&d.Service, s.Service)
	or(&d.MaxAge, s.Drills.Every+dur(drillSlack))
	c.Drill = &d
}

// drills validates the drills section.
func (c *checker) drills() {
	d := c.s.Drills
	if d.Every < 0 || (d.Every > 0 && d.Every.D() < time.Hour) {
		c.add("drills.every", "%s is shorter than an hour: a drill restores a whole database", short(d.Every))
	}
	if d.Staging == nil {
		if len(d.PITRCommand) > 0 {
			c.add("drills.staging", "is required with drills.pitr_command: the drill restores into it")
		}
		return
	}
	if c.required("drills.staging.database.url", d.Staging.Database.URL, "a reference to the staging database") {
		c.secretRef("drills.staging.database.url", d.Staging.Database.URL)
	}
	if d.Staging.Database.URL != "" && d.Staging.Database.URL == c.s.Database.URL {
		c.add("drills.staging.database.url", "is database.url: drills run against staging, never the release's target")
	}
	c.secretRef("drills.staging.backup.scratch_url", d.Staging.Backup.ScratchURL)
	if t := d.Staging.Backup.Type; t != "" && t != "postgres" {
		c.add("drills.staging.backup.type", "%q: drills restore a pg_dump (want postgres)", t)
	}
}

// drillCheck validates a drill check against the drills the spec schedules.
func (c *checker) drillCheck(p string, ch Check) {
	if ch.Drill == nil {
		c.add(p+".drill", "is required: drill.kind, one of %v", DrillKinds)
		return
	}
	if !c.required(p+".drill.kind", string(ch.Drill.Kind), "one of "+fmt.Sprint(DrillKinds)) {
		return
	}
	c.enum(p+".drill.kind", string(ch.Drill.Kind), DrillKinds)
	if ch.Drill.MaxAge < 0 {
		c.add(p+".drill.max_age", "must not be negative")
	}
}
