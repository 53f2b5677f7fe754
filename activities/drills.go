package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// DrillPITRInput runs the point-in-time recovery drill on staging.
type DrillPITRInput struct {
	// Command is the team's point-in-time restore into the staging database (argv, no shell).
	Command  []string      `json:"command"`
	Database spec.Database `json:"database"`
	Timeout  time.Duration `json:"timeout"`
}

// DrillPITR runs the team's point-in-time restore command (pgbackrest
// restore --type=time, wal-g backup-fetch with a recovery target...), then
// proves the restored staging database answers a real SQL round trip. The
// command's exit status is the restore's verdict: golive cannot tell which
// point in time the tool recovered to, and the result says so.
func (d *Database) DrillPITR(ctx context.Context, in DrillPITRInput) (Result, error) {
	if len(in.Command) == 0 || in.Command[0] == "" {
		return Result{}, temporal.NewNonRetryableApplicationError("pitr drill without drills.pitr_command", ErrBadInput, nil)
	}
	timeout := orDefault(in.Timeout, time.Hour)
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := keepAlive(cctx, "pitr drill: "+in.Command[0])
	r := checkCommand(cctx, in.Command, timeout)
	stop()
	if r.State != record.ItemPassed {
		return Result{State: record.ItemFailed, Value: "point-in-time restore failed", Detail: r.Detail}, nil
	}
	p, err := d.CheckDatabase(ctx, CheckInput{Check: spec.Check{Kind: string(spec.KindPing), Database: &in.Database}})
	if err != nil {
		return Result{}, fmt.Errorf("pitr drill: the restored database: %w", err)
	}
	if p.State != record.ItemPassed {
		return Result{State: record.ItemFailed, Value: "restored, but the staging database does not answer", Detail: p.Detail}, nil
	}
	return Result{State: record.ItemPassed, Value: fmt.Sprintf("%s exited 0; restored database answers: %s", in.Command[0], p.Value),
		Detail: "the recovery target is the command's; golive checks that it succeeded and that the database answers"}, nil
}

// CheckDrill is the drill check: the last drill of the check's kind in the
// audit ledger passed within drill.max_age. Never drilled, stale or failed
// fails; a ledger it cannot read is unavailable. A row whose hash does not
// match its content is failed, not trusted.
func (a *Audit) CheckDrill(ctx context.Context, in CheckInput) (Result, error) {
	c := in.Check
	if c.CheckKind() != spec.KindDrill {
		return unknownKind("Audit.CheckDrill", c.CheckKind()), nil
	}
	if c.Drill == nil || c.Drill.Kind == "" {
		return Result{State: record.ItemFailed, Detail: "bad check: drill.kind is required"}, nil
	}
	ctx, cancel := checkContext(ctx, c)
	defer cancel()
	d := *c.Drill
	l, err := a.open(ctx)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == ErrNotConfigured {
		return Result{State: record.ItemUnavailable, Detail: app.Message()}, nil
	}
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: "audit ledger unreadable: " + err.Error()}, nil
	}
	row, ok, err := l.Last(ctx, audit.KindDrill, audit.DrillRelease(d.Service, string(d.Kind))+"/")
	if err != nil {
		return Result{State: record.ItemUnavailable, Detail: err.Error()}, nil
	}
	if !ok {
		return Result{State: record.ItemFailed, Value: "never drilled",
			Detail: fmt.Sprintf("no %s drill of %s in the audit ledger: run `golive drill schedule` (or `golive drill run`)", d.Kind, d.Service)}, nil
	}
	if row.ComputeHash() != row.Hash {
		return Result{State: record.ItemFailed, Value: fmt.Sprintf("ledger row %d altered", row.Seq), Detail: "the drill's ledger row does not match its hash: run `golive audit verify`"}, nil
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	age := now().Sub(row.At)
	when := fmt.Sprintf("last %s drill %s at %s (%s ago)", d.Kind, row.Action, row.At.UTC().Format(time.RFC3339), age.Round(time.Minute))
	detail := row.Reason
	if v := row.Data["value"]; v != "" {
		detail = v
	}
	switch {
	case row.Action != string(record.ItemPassed):
		return Result{State: record.ItemFailed, Value: when, Detail: detail}, nil
	case age > d.MaxAge.D():
		return Result{State: record.ItemFailed, Value: when + ": stale", Detail: fmt.Sprintf("older than max_age %s; %s", d.MaxAge.D(), detail)}, nil
	}
	return Result{State: record.ItemPassed, Value: when, Detail: detail}, nil
}
