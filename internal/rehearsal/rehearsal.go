// Package rehearsal rehearses a release's database rollback on a restored
// copy of the backup: snapshot the schema, apply the pending migrations, run
// their down parts back to the starting version, compare the schema with the
// snapshot, and apply them again. It proves on real data that the migrations
// apply and that their rollback returns the schema it started from.
package rehearsal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/migrate"
)

// PhaseName names a step of the rehearsal, in the order they run.
type PhaseName string

// The phases.
const (
	PhaseSnapshot PhaseName = "snapshot"
	PhaseUp       PhaseName = "up"
	PhaseDown     PhaseName = "down"
	PhaseCompare  PhaseName = "compare"
	PhaseUpAgain  PhaseName = "up again"
)

// Phase is one timed step.
type Phase struct {
	Name     PhaseName     `json:"name"`
	Duration time.Duration `json:"duration"`
	// Files are the migrations the phase ran, in order.
	Files []string `json:"files,omitempty"`
}

// Options configure a rehearsal.
type Options struct {
	// Database is the restored scratch database; the rehearsal changes it.
	Database *pgx.ConnConfig
	// Set is the release's migrations.
	Set *migrate.Set
	// Migrate are the migrator's settings (timeouts, version table, progress).
	Migrate migrate.Options
	// PgDump is the pg_dump the schema snapshots use ["pg_dump"].
	PgDump string
}

// Report is what a rehearsal proved.
type Report struct {
	// Start is the schema version of the restored backup; Pending the
	// migrations above it (this release's), in order.
	Start   int64    `json:"start_version"`
	Pending []string `json:"pending,omitempty"`
	// Irreversible are pending migrations without a down part: when any is
	// there the down phase does not run, so no rollback is proven.
	Irreversible []string `json:"irreversible,omitempty"`
	Phases       []Phase  `json:"phases,omitempty"`
	// Objects is how many statements the starting schema's dump holds.
	Objects int `json:"schema_objects"`
	// Diff shows how the schema after the down phase differs from the
	// snapshot (bounded); Changed counts the differing lines.
	Diff    string `json:"diff,omitempty"`
	Changed int    `json:"changed_lines,omitempty"`
	// AgainDiff shows how the schema after "up again" differs from the one
	// after the first up: an up that depends on what its down left behind.
	AgainDiff string `json:"again_diff,omitempty"`
	// Failure is a migration that failed on the restored data (file and statement).
	Failure string `json:"failure,omitempty"`
}

// Proven reports whether the rollback was shown to work: every pending
// migration went up, down to the snapshot's schema, and up again to the same schema.
func (r Report) Proven() bool {
	return r.Failure == "" && len(r.Irreversible) == 0 && r.Diff == "" && r.AgainDiff == "" && r.phase(PhaseUpAgain) != nil
}

func (r Report) phase(n PhaseName) *Phase {
	for i := range r.Phases {
		if r.Phases[i].Name == n {
			return &r.Phases[i]
		}
	}
	return nil
}

// Took is how long a phase ran, rounded to the millisecond (0s if it did not run).
func (r Report) Took(n PhaseName) time.Duration {
	if p := r.phase(n); p != nil {
		return p.Duration.Round(time.Millisecond)
	}
	return 0
}

// Timings is the phases as "up 120ms, down 80ms, ...".
func (r Report) Timings() string {
	parts := make([]string, 0, len(r.Phases))
	for _, p := range r.Phases {
		parts = append(parts, fmt.Sprintf("%s %s", p.Name, p.Duration.Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// Run rehearses. An error means the rehearsal could not run (connection,
// pg_dump); a migration that fails, a schema that differs or a migration
// without a down part are in the report.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.PgDump == "" {
		o.PgDump = "pg_dump"
	}
	table := o.Migrate.Table
	if table == "" {
		table = migrate.DefaultTable
	}
	var rep Report
	m, err := migrate.Open(ctx, o.Database, o.Set, o.Migrate)
	if err != nil {
		return rep, fmt.Errorf("rehearsal: %w", err)
	}
	defer m.Close()
	if rep.Start, err = m.Version(ctx); err != nil {
		return rep, fmt.Errorf("rehearsal: read the restored schema version: %w", err)
	}
	pending, err := m.Pending(ctx)
	if err != nil {
		return rep, fmt.Errorf("rehearsal: pending migrations: %w", err)
	}
	for _, p := range pending {
		rep.Pending = append(rep.Pending, p.File)
		if !p.HasDown {
			rep.Irreversible = append(rep.Irreversible, p.File)
		}
	}
	if len(pending) == 0 {
		return rep, nil
	}
	snap := func() (Schema, error) { return Snapshot(ctx, o.PgDump, o.Database, table) }
	t0 := time.Now()
	before, err := snap()
	if err != nil {
		return rep, err
	}
	rep.Objects = before.Objects()
	rep.Phases = append(rep.Phases, Phase{Name: PhaseSnapshot, Duration: time.Since(t0)})

	if ok, err := rep.migrate(ctx, PhaseUp, m.Up); !ok || err != nil {
		return rep, err
	}
	afterUp, err := snap()
	if err != nil {
		return rep, err
	}
	if len(rep.Irreversible) > 0 {
		return rep, nil
	}
	if ok, err := rep.migrate(ctx, PhaseDown, func(ctx context.Context) (migrate.Report, error) { return m.DownTo(ctx, rep.Start) }); !ok || err != nil {
		return rep, err
	}
	t0 = time.Now()
	afterDown, err := snap()
	if err != nil {
		return rep, err
	}
	rep.Diff, rep.Changed = Diff("schema before up", "schema after down", before.Lines, afterDown.Lines)
	rep.Phases = append(rep.Phases, Phase{Name: PhaseCompare, Duration: time.Since(t0)})
	if ok, err := rep.migrate(ctx, PhaseUpAgain, m.Up); !ok || err != nil {
		return rep, err
	}
	again, err := snap()
	if err != nil {
		return rep, err
	}
	rep.AgainDiff, _ = Diff("schema after up", "schema after up again", afterUp.Lines, again.Lines)
	return rep, nil
}

// migrate runs one migration phase and records it; ok is false when a
// migration failed on the data (rep.Failure says which) or, for a down
// phase, one had no down part.
func (r *Report) migrate(ctx context.Context, name PhaseName, run func(context.Context) (migrate.Report, error)) (bool, error) {
	mr, err := run(ctx)
	r.Phases = append(r.Phases, Phase{Name: name, Duration: mr.Duration, Files: slices.Clone(mr.Applied)})
	var me *migrate.Error
	switch {
	case errors.As(err, &me):
		r.Failure = fmt.Sprintf("%s: %v", name, err)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("rehearsal %s: %w", name, err)
	case mr.Blocking != "":
		r.Irreversible = mr.Irreversible
		return false, nil
	}
	return true, nil
}
