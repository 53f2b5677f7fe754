package activities

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/secrets"
)

// EnvAuditURL is the environment variable the worker reads golive's own
// database from by default (the audit ledger lives there).
const EnvAuditURL = "GOLIVE_AUDIT_URL"

// AppendInput appends events of one release to the audit ledger.
type AppendInput struct {
	ReleaseID string        `json:"release_id"`
	Events    []audit.Event `json:"events"`
}

// Audit appends to the audit ledger in golive's own PostgreSQL database: an
// append-only, hash-chained table created by `golive db init`.
type Audit struct {
	// URL is a reference to golive's database (env://GOLIVE_AUDIT_URL, secret://...);
	// the worker's role should be (or be granted) the ledger's writer role.
	URL string
	// Table is the ledger table (default golive_audit).
	Table string
	// Secrets resolves URL; nil resolves env:// only.
	Secrets *secrets.Resolver

	// Now is the drill check's clock [time.Now].
	Now func() time.Time

	mu     sync.Mutex
	ledger *audit.Ledger
}

func (a *Audit) open(ctx context.Context) (*audit.Ledger, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ledger != nil {
		return a.ledger, nil
	}
	if a.URL == "" {
		return nil, temporal.NewNonRetryableApplicationError("not configured: no audit ledger URL on this worker ("+EnvAuditURL+")", ErrNotConfigured, nil)
	}
	cfg, err := pgutil.Config(ctx, a.Secrets, a.URL)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("not configured: audit ledger: "+err.Error(), ErrNotConfigured, nil)
	}
	l, err := audit.Open(ctx, cfg, a.Table)
	if err != nil {
		return nil, err
	}
	a.ledger = l
	return l, nil
}

// Append adds the events at the end of the ledger in one transaction. Inside an
// activity each event's idempotency key is workflow run + activity ID + index,
// so a retried Append never writes a batch twice.
func (a *Audit) Append(ctx context.Context, in AppendInput) (AppendResult, error) {
	if len(in.Events) == 0 {
		return AppendResult{}, nil
	}
	if in.ReleaseID == "" {
		return AppendResult{}, temporal.NewNonRetryableApplicationError("audit append without a release ID", ErrBadInput, nil)
	}
	l, err := a.open(ctx)
	if err != nil {
		return AppendResult{}, err
	}
	var keys []string
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		for i := range in.Events {
			keys = append(keys, fmt.Sprintf("%s/%s/%d", info.WorkflowExecution.RunID, info.ActivityID, i))
		}
	}
	rows, err := l.Append(ctx, in.ReleaseID, in.Events, keys)
	if err != nil || len(rows) == 0 {
		return AppendResult{}, err
	}
	return AppendResult{Head: rows[len(rows)-1].Hash, Rows: len(rows)}, nil
}

// AppendResult is the chain head after an append.
type AppendResult struct {
	// Head is the hash of the last row written: the ledger's chain head for this release.
	Head string `json:"head"`
	Rows int    `json:"rows"`
}
