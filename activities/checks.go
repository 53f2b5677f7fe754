package activities

import (
	"context"
	"fmt"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// checkFunc is the signature every check activity shares.
type checkFunc = func(context.Context, CheckInput) (Result, error)

// Checkers are the structs of the check activities. Workflows name the
// activities through nil typed pointers (CheckActivity); golive plan runs the
// checks directly on the worker's structs (Run): both through checkActivities.
type Checkers struct {
	Prober   *Prober
	Database *Database
	Metrics  *Metrics
	// Audit reads the drills' results (check kind drill).
	Audit *Audit
}

func (c Checkers) prober() checkFunc   { return c.Prober.Check }
func (c Checkers) database() checkFunc { return c.Database.CheckDatabase }
func (c Checkers) metrics() checkFunc  { return c.Metrics.CheckMetric }
func (c Checkers) audit() checkFunc    { return c.Audit.CheckDrill }

// checkActivities maps every check kind the spec accepts to the activity that
// runs it. TestEveryCheckKindHasAnActivity keeps it complete against spec.CheckKinds.
var checkActivities = map[spec.CheckKind]func(Checkers) checkFunc{
	spec.KindHTTP:              Checkers.prober,
	spec.KindTLS:               Checkers.prober,
	spec.KindTLSRenewal:        Checkers.prober,
	spec.KindDNS:               Checkers.prober,
	spec.KindCommand:           Checkers.prober,
	spec.KindSecrets:           Checkers.prober,
	spec.KindCORS:              Checkers.prober,
	spec.KindRateLimit:         Checkers.prober,
	spec.KindCSRF:              Checkers.prober,
	spec.KindCSP:               Checkers.prober,
	spec.KindJWT:               Checkers.prober,
	spec.KindJUnit:             Checkers.prober,
	spec.KindK6:                Checkers.prober,
	spec.KindAxe:               Checkers.prober,
	spec.KindMetric:            Checkers.metrics,
	spec.KindAlerts:            Checkers.metrics,
	spec.KindSQL:               Checkers.database,
	spec.KindPing:              Checkers.database,
	spec.KindPendingMigrations: Checkers.database,
	spec.KindRLS:               Checkers.database,
	spec.KindFKIndexes:         Checkers.database,
	spec.KindConnections:       Checkers.database,
	spec.KindSlowQueries:       Checkers.database,
	spec.KindPgAudit:           Checkers.database,
	spec.KindPgBouncer:         Checkers.database,
	spec.KindBackup:            Checkers.database,
	spec.KindBackupCatalog:     Checkers.database,
	spec.KindDrill:             Checkers.audit,
}

// pick is the method of c that runs kind k. A kind outside the table (which
// the validator refuses) goes to Prober.Check, which fails it by name.
func (c Checkers) pick(k spec.CheckKind) checkFunc {
	if f, ok := checkActivities[k]; ok {
		return f(c)
	}
	return c.prober()
}

// CheckActivity returns the activity that runs a check of kind k, for
// workflow.ExecuteActivity with a CheckInput: a method of a nil typed pointer,
// the way workflows call activities (the worker runs its registered structs).
func CheckActivity(k spec.CheckKind) any { return Checkers{}.pick(k) }

// Run runs one readiness check now, outside any workflow, on the activity
// CheckActivity names for its kind (golive plan: read-only, like the gate).
func (c Checkers) Run(ctx context.Context, in CheckInput) (Result, error) {
	return c.pick(in.Check.CheckKind())(ctx, in)
}

// checkContext bounds one check by its timeout (default 30s).
func checkContext(ctx context.Context, c spec.Check) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(c.Timeout.D(), defaultCheckTimeout))
}

// unknownKind is the result of a kind an activity was handed but does not run.
func unknownKind(activity string, k spec.CheckKind) Result {
	return Result{State: record.ItemFailed, Detail: fmt.Sprintf("bad check: %s does not run kind %q", activity, k)}
}
