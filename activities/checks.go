package activities

import (
	"context"
	"fmt"

	"github.com/golive/golive/internal/spec"
)

// Nil typed pointers name the activity methods in checkActivities, the way
// workflows call activities (the methods run on the worker's registered structs).
var (
	checkProber   *Prober
	checkDatabase *Database
	checkMetrics  *Metrics
	checkAudit    *Audit
)

// checkActivities maps every check kind the spec accepts to the activity that
// runs it. TestEveryCheckKindHasAnActivity keeps it complete against spec.CheckKinds.
var checkActivities = map[spec.CheckKind]any{
	spec.KindHTTP:              checkProber.Check,
	spec.KindTLS:               checkProber.Check,
	spec.KindTLSRenewal:        checkProber.Check,
	spec.KindDNS:               checkProber.Check,
	spec.KindCommand:           checkProber.Check,
	spec.KindSecrets:           checkProber.Check,
	spec.KindCORS:              checkProber.Check,
	spec.KindRateLimit:         checkProber.Check,
	spec.KindCSRF:              checkProber.Check,
	spec.KindCSP:               checkProber.Check,
	spec.KindJWT:               checkProber.Check,
	spec.KindJUnit:             checkProber.Check,
	spec.KindK6:                checkProber.Check,
	spec.KindAxe:               checkProber.Check,
	spec.KindMetric:            checkMetrics.CheckMetric,
	spec.KindAlerts:            checkMetrics.CheckMetric,
	spec.KindSQL:               checkDatabase.CheckDatabase,
	spec.KindPing:              checkDatabase.CheckDatabase,
	spec.KindPendingMigrations: checkDatabase.CheckDatabase,
	spec.KindRLS:               checkDatabase.CheckDatabase,
	spec.KindFKIndexes:         checkDatabase.CheckDatabase,
	spec.KindConnections:       checkDatabase.CheckDatabase,
	spec.KindSlowQueries:       checkDatabase.CheckDatabase,
	spec.KindPgAudit:           checkDatabase.CheckDatabase,
	spec.KindPgBouncer:         checkDatabase.CheckDatabase,
	spec.KindBackup:            checkDatabase.CheckDatabase,
	spec.KindBackupCatalog:     checkDatabase.CheckDatabase,
	spec.KindDrill:             checkAudit.CheckDrill,
}

// CheckActivity returns the activity that runs a check of kind k, for
// workflow.ExecuteActivity with a CheckInput. A kind outside the table (which
// the validator refuses) goes to Prober.Check, which fails it by name.
func CheckActivity(k spec.CheckKind) any {
	if f, ok := checkActivities[k]; ok {
		return f
	}
	return checkProber.Check
}

// checkContext bounds one check by its timeout (default 30s).
func checkContext(ctx context.Context, c spec.Check) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(c.Timeout.D(), defaultCheckTimeout))
}

// unknownKind is the result of a kind an activity was handed but does not run.
func unknownKind(activity string, k spec.CheckKind) Result {
	return Result{State: StateFailed, Detail: fmt.Sprintf("bad check: %s does not run kind %q", activity, k)}
}
