package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/backup"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/rehearsal"
)

// RehearseRollback is the rollback rehearsal on the verified backup: the
// backup is restored into a scratch database and compared with its source
// (as VerifyBackup does), then on that copy the release's pending migrations
// go up, down to the restored version, and up again; the schema after the
// down parts must equal the one restored. The scratch database is dropped on
// every path (backup.Verify owns it). Passed means the rollback was proven on
// real data; a migration without a down part fails it, unless the spec lists
// it in database.accept_irreversible, and either way the result names it.
func (d *Database) RehearseRollback(ctx context.Context, in BackupInput) (Result, error) {
	switch {
	case in.Database.Migrations == "":
		return Result{State: record.ItemSkipped, Value: "no migrations in the spec: the rollback reverts the app only"}, nil
	case in.Backup.Type == "rds":
		return Result{State: record.ItemUnavailable, Detail: "not configured: the rehearsal restores a pg_dump (backup type postgres); rds snapshots are restored by the AWS integration, which does not rehearse"}, nil
	}
	set, err := migrate.Load(in.Database.Migrations)
	if err != nil {
		return Result{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrBadInput, nil)
	}
	opts, done, err := d.restoreOptions(ctx, in)
	if done != nil || err != nil {
		return orZero(done), err
	}
	var reh rehearsal.Report
	var ran bool
	opts.AfterCompare = func(ctx context.Context, scratch *pgx.ConnConfig) error {
		ran = true
		var err error
		reh, err = rehearsal.Run(ctx, rehearsal.Options{Database: scratch, Set: set, PgDump: d.PgDump, Migrate: migrate.Options{
			LockTimeout:      in.Database.LockTimeout.D(),
			StatementTimeout: in.Database.StatementTimeout.D(),
			LockRetries:      -1, // nobody else uses the scratch database
			Table:            in.Database.VersionTable,
			Logger:           d.logger(),
			Progress:         func(step string) { heartbeat(ctx, in.Phase+": rehearsal: "+step) },
		}})
		return err
	}
	rep, err := backup.Verify(ctx, opts)
	switch {
	case errors.Is(err, backup.ErrToolMissing):
		return Result{State: record.ItemUnavailable, Detail: err.Error()}, nil
	case err != nil:
		return Result{}, fmt.Errorf("rollback rehearsal (%s): %w", in.Phase, err)
	case !rep.OK():
		return Result{State: record.ItemFailed, Value: "not rehearsed: the restore differs from the source",
			Detail: strings.Join(rep.Mismatches, "; ") + "; scratch database " + rep.Scratch + " dropped"}, nil
	case !ran:
		return Result{}, fmt.Errorf("rollback rehearsal (%s): the restore was verified but the rehearsal did not run", in.Phase)
	}
	res := rehearsalResult(reh, in.Database.AcceptIrreversible)
	res.Detail += fmt.Sprintf("; on a restore of the backup that matched its source (%d tables, %d rows); scratch database %s dropped", len(rep.Tables), rep.Rows, rep.Scratch)
	d.logger().Info("rollback rehearsed", "phase", in.Phase, "state", res.State, "value", res.Value)
	return res, nil
}

// rehearsalResult states what the rehearsal proved, and what it could not.
func rehearsalResult(r rehearsal.Report, accepted []string) Result {
	timing := r.Timings()
	switch {
	case len(r.Pending) == 0:
		return Result{State: record.ItemPassed, Value: fmt.Sprintf("no migration pending above schema version %d: nothing to roll back on the database", r.Start),
			Detail: "the backup restores; the rollback reverts the app only"}
	case r.Diff != "":
		// Set only once the down phase ran; a failure after it (up again
		// over what the down part left behind) follows from the diff.
		detail := r.Diff + "\n" + timing
		if r.Failure != "" {
			detail += "; then " + r.Failure
		}
		return Result{State: record.ItemFailed, Value: fmt.Sprintf("rollback leaves the schema changed: %d line(s) differ", r.Changed), Detail: detail}
	case r.Failure != "":
		return Result{State: record.ItemFailed, Value: "a migration failed on the restored data", Detail: r.Failure + "; " + timing}
	case len(r.Irreversible) > 0:
		var unaccepted []string
		for _, f := range r.Irreversible {
			if !slices.Contains(accepted, f) {
				unaccepted = append(unaccepted, f)
			}
		}
		detail := fmt.Sprintf("up proven (%s: %s); not proven: the down parts of %s, since %s %s no down part and a rollback stops there; restoring the pre-deploy backup is the only way back",
			timing, strings.Join(r.Pending, ", "), strings.Join(r.Pending, ", "), strings.Join(r.Irreversible, ", "), hasHave(len(r.Irreversible)))
		if len(unaccepted) > 0 {
			return Result{State: record.ItemFailed, Value: "rollback not proven: no down part in " + strings.Join(unaccepted, ", "),
				Detail: detail + "; list them in database.accept_irreversible to accept that"}
		}
		return Result{State: record.ItemPassed, Value: "rollback not proven, accepted as irreversible: " + strings.Join(r.Irreversible, ", "), Detail: detail}
	case r.AgainDiff != "":
		return Result{State: record.ItemFailed, Value: "up after down gives another schema than the first up", Detail: r.AgainDiff + "\n" + timing}
	}
	schema := fmt.Sprintf("%d statements", r.Objects)
	if r.Objects == 0 {
		schema = "empty"
	}
	return Result{State: record.ItemPassed,
		Value: fmt.Sprintf("rollback proven: %d migration(s) up in %s, down to version %d in %s, schema as restored (%s), up again in %s",
			len(r.Pending), r.Took(rehearsal.PhaseUp), r.Start, r.Took(rehearsal.PhaseDown), schema, r.Took(rehearsal.PhaseUpAgain)),
		Detail: "migrations: " + strings.Join(r.Pending, ", ") + "; " + timing}
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
