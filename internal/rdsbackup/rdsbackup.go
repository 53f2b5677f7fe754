// Package rdsbackup verifies Amazon RDS backups for backup type rds: the
// readiness check (automated backups on, enough retention, a recent automated
// snapshot, the point-in-time restore window) and the T-4h manual snapshot,
// named after the release run so a retried activity never takes a second one.
//
// It returns results, not activity errors: a backup that is missing, too old
// or not allowed to be read is a Result with State failed or unavailable and a
// Detail naming what is wrong (and, for AWS refusals, the IAM action and the
// resource). Only troubles a retry may cure (throttling past the SDK's
// retries, 5xx, connection errors, the caller's context ending) are errors.
package rdsbackup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"go.temporal.io/sdk/activity"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// Defaults when the spec leaves them unset.
const (
	// DefaultSnapshotWait bounds the wait for a manual snapshot to become available.
	DefaultSnapshotWait = 90 * time.Minute
	// waitMargin is kept between the end of the snapshot wait and the activity's deadline.
	waitMargin = 30 * time.Second
)

// Result is the outcome of one backup step; it maps onto activities.Result.
type Result struct {
	// State is passed, failed or unavailable (the activities.Result.State it becomes).
	State record.ItemState `json:"state"`
	// Value is what was measured, short.
	Value string `json:"value,omitempty"`
	// Detail explains a failure.
	Detail string `json:"detail,omitempty"`
	// Snapshot is the manual snapshot taken, if any.
	Snapshot string `json:"snapshot,omitempty"`
	// EarliestRestore and LatestRestore bound the point-in-time restore window.
	EarliestRestore time.Time `json:"earliest_restore,omitzero"`
	LatestRestore   time.Time `json:"latest_restore,omitzero"`
}

// Passed reports whether the step passed.
func (r Result) Passed() bool { return r.State == record.ItemPassed }

// API is the part of the RDS client the package uses (*rds.Client has it).
type API interface {
	DescribeDBInstances(context.Context, *rds.DescribeDBInstancesInput, ...func(*rds.Options)) (*rds.DescribeDBInstancesOutput, error)
	DescribeDBSnapshots(context.Context, *rds.DescribeDBSnapshotsInput, ...func(*rds.Options)) (*rds.DescribeDBSnapshotsOutput, error)
	DescribeDBInstanceAutomatedBackups(context.Context, *rds.DescribeDBInstanceAutomatedBackupsInput, ...func(*rds.Options)) (*rds.DescribeDBInstanceAutomatedBackupsOutput, error)
	CreateDBSnapshot(context.Context, *rds.CreateDBSnapshotInput, ...func(*rds.Options)) (*rds.CreateDBSnapshotOutput, error)
}

// Backups checks and takes RDS backups. The zero value works: it loads the
// SDK's default chain (awsclient.Load) at its first call.
type Backups struct {
	// RDS is the client; nil loads the default chain when first needed.
	RDS API
	// Waits sets how often the snapshot waiter polls (tests shorten it).
	Waits awsclient.Waits
	// SnapshotWait bounds the wait for a snapshot to become available (default 90m,
	// and never past the activity's deadline).
	SnapshotWait time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu sync.Mutex
}

// client returns b.RDS, loading the default chain the first time. A chain
// without a region is a Result of state unavailable, not an error.
func (b *Backups) client(ctx context.Context) (API, *Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.RDS == nil {
		cfg, err := awsclient.Load(ctx, awsclient.Options{})
		if err != nil {
			return nil, &Result{State: record.ItemUnavailable, Detail: "not configured: " + err.Error()}, nil
		}
		b.RDS = rds.NewFromConfig(cfg)
	}
	return b.RDS, nil, nil
}

// New returns Backups on an RDS client built from cfg (see awsclient.Load).
func New(cfg aws.Config) *Backups { return &Backups{RDS: rds.NewFromConfig(cfg)} }

func (b *Backups) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Verify is what the backup verification and the "backup" readiness check do
// for backup type rds. Every phase runs Check (retention of at least
// backup.min_retention_days, the latest automated snapshot younger than
// backup.max_age, the restore window); the "pre-deploy" phase (T-4h) then
// takes the release's manual snapshot and waits until it is available.
// releaseID is the workflow ID; inside an activity the run ID is added, so
// each release run gets its own snapshot and a retried attempt finds it again.
func (b *Backups) Verify(ctx context.Context, releaseID, phase string, bk spec.Backup) (Result, error) {
	if bk.Instance == "" {
		return Result{State: record.ItemFailed, Detail: "backup type rds needs backup.instance"}, nil
	}
	res, err := b.Check(ctx, bk.Instance, bk.MinRetentionDays, bk.MaxAge.D())
	if err != nil || !res.Passed() || phase != "pre-deploy" {
		return res, err
	}
	snap, err := b.Snapshot(ctx, bk.Instance, SnapshotID(bk.Instance, releaseKey(ctx, releaseID), phase), phase)
	if err != nil || !snap.Passed() {
		return snap, err
	}
	snap.Value = res.Value + "; " + snap.Value
	snap.EarliestRestore, snap.LatestRestore = res.EarliestRestore, res.LatestRestore
	return snap, nil
}

// releaseKey adds the run ID to releaseID inside an activity.
func releaseKey(ctx context.Context, releaseID string) string {
	if activity.IsActivity(ctx) {
		if run := activity.GetInfo(ctx).WorkflowExecution.RunID; run != "" {
			return releaseID + "/" + run
		}
	}
	return releaseID
}

// Check verifies instance's automated backups: retention of at least
// minRetentionDays (default 1), an available automated snapshot younger than
// maxAge (default 24h), and reports the point-in-time restore window.
func (b *Backups) Check(ctx context.Context, instance string, minRetentionDays int, maxAge time.Duration) (Result, error) {
	if minRetentionDays < 1 {
		minRetentionDays = spec.DefaultMinRetentionDays
	}
	if maxAge <= 0 {
		maxAge = spec.DefaultBackupMaxAge
	}
	res := "DB instance " + instance
	api, notConfigured, _ := b.client(ctx)
	if notConfigured != nil {
		return *notConfigured, nil
	}
	out, err := api.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(instance)})
	if err != nil {
		return refusal(err, res)
	}
	if len(out.DBInstances) == 0 {
		return Result{State: record.ItemFailed, Detail: res + " not found"}, nil
	}
	db := out.DBInstances[0]
	retention := int(aws.ToInt32(db.BackupRetentionPeriod))
	if retention == 0 {
		return Result{State: record.ItemFailed, Value: "automated backups off", Detail: res + ": automated backups are off (backup retention 0 days)"}, nil
	}
	if retention < minRetentionDays {
		return Result{State: record.ItemFailed, Value: fmt.Sprintf("retention %dd", retention),
			Detail: fmt.Sprintf("%s keeps automated backups %d day(s), want at least %d", res, retention, minRetentionDays)}, nil
	}
	latest, err := latestAutomated(ctx, api, instance)
	if err != nil {
		return refusal(err, res)
	}
	now := b.now()
	if latest == nil {
		return Result{State: record.ItemFailed, Value: fmt.Sprintf("retention %dd, no automated snapshot", retention),
			Detail: res + " has no available automated snapshot"}, nil
	}
	age := now.Sub(aws.ToTime(latest.SnapshotCreateTime))
	r := Result{State: record.ItemPassed, LatestRestore: aws.ToTime(db.LatestRestorableTime),
		Value: fmt.Sprintf("retention %dd, latest automated snapshot %s old (%s)", retention, age.Round(time.Minute), aws.ToString(latest.DBSnapshotIdentifier))}
	if age > maxAge {
		r.State = record.ItemFailed
		r.Detail = fmt.Sprintf("%s: latest automated snapshot %s is %s old, more than %s", res, aws.ToString(latest.DBSnapshotIdentifier), age.Round(time.Minute), maxAge)
	}
	ab, err := api.DescribeDBInstanceAutomatedBackups(ctx, &rds.DescribeDBInstanceAutomatedBackupsInput{DBInstanceIdentifier: aws.String(instance)})
	if err != nil {
		return refusal(err, res)
	}
	for _, a := range ab.DBInstanceAutomatedBackups {
		if w := a.RestoreWindow; w != nil && w.EarliestTime != nil {
			r.EarliestRestore = aws.ToTime(w.EarliestTime)
			if w.LatestTime != nil {
				r.LatestRestore = aws.ToTime(w.LatestTime)
			}
		}
	}
	if !r.EarliestRestore.IsZero() || !r.LatestRestore.IsZero() {
		r.Value += fmt.Sprintf("; point-in-time restore %s to %s", stamp(r.EarliestRestore), stamp(r.LatestRestore))
	}
	return r, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// latestAutomated returns instance's newest available automated snapshot, or nil.
func latestAutomated(ctx context.Context, api API, instance string) (*types.DBSnapshot, error) {
	var latest *types.DBSnapshot
	p := rds.NewDescribeDBSnapshotsPaginator(api, &rds.DescribeDBSnapshotsInput{DBInstanceIdentifier: aws.String(instance), SnapshotType: aws.String("automated")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for i := range page.DBSnapshots {
			s := &page.DBSnapshots[i]
			if aws.ToString(s.Status) != "available" || s.SnapshotCreateTime == nil {
				continue
			}
			if latest == nil || s.SnapshotCreateTime.After(*latest.SnapshotCreateTime) {
				latest = s
			}
		}
	}
	return latest, nil
}

var (
	notIDChars  = regexp.MustCompile(`[^a-z0-9]+`)
	idStartChar = regexp.MustCompile(`^[a-z]`)
)

// SnapshotID derives the manual snapshot identifier of a release run and
// phase: golive-INSTANCE-PHASE-HASH, within RDS's rules (letters, digits and
// single hyphens, a letter first, at most 255 characters).
func SnapshotID(instance, releaseKey, phase string) string {
	sum := sha256.Sum256([]byte(releaseKey + "\x00" + phase))
	clean := func(s string, max int) string {
		s = strings.Trim(notIDChars.ReplaceAllString(strings.ToLower(s), "-"), "-")
		if len(s) > max {
			s = strings.TrimRight(s[:max], "-")
		}
		return s
	}
	id := "golive-" + clean(instance, 60) + "-" + clean(phase, 20) + "-" + hex.EncodeToString(sum[:6])
	id = strings.ReplaceAll(id, "--", "-")
	if !idStartChar.MatchString(id) {
		id = "g" + id
	}
	return id
}

// Snapshot takes the manual snapshot id of instance unless it exists already
// (a retried attempt), tagged with the phase, and waits until it is available.
func (b *Backups) Snapshot(ctx context.Context, instance, id, phase string) (Result, error) {
	res := "DB snapshot " + id
	api, notConfigured, _ := b.client(ctx)
	if notConfigured != nil {
		return *notConfigured, nil
	}
	_, err := api.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	switch {
	case err == nil: // taken by an earlier attempt: wait for it
	case awsclient.Classify(err) == awsclient.NotFound:
		_, err = api.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String(instance), DBSnapshotIdentifier: aws.String(id),
			Tags: []types.Tag{{Key: aws.String("golive:phase"), Value: aws.String(phase)}, {Key: aws.String("created-by"), Value: aws.String("golive")}}})
		if err != nil && awsclient.Code(err) != "DBSnapshotAlreadyExists" {
			if awsclient.Code(err) == "InvalidDBInstanceState" { // e.g. backing-up: try again later
				return Result{}, fmt.Errorf("create %s: %s", res, awsclient.Describe(err, "DB instance "+instance))
			}
			return refusal(err, "DB instance "+instance)
		}
	default:
		return refusal(err, res)
	}
	wait := b.SnapshotWait
	if wait <= 0 {
		wait = DefaultSnapshotWait
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)-waitMargin < wait {
		wait = max(time.Until(dl)-waitMargin, time.Second)
	}
	var status string
	var progress int32
	w := rds.NewDBSnapshotAvailableWaiter(api, func(o *rds.DBSnapshotAvailableWaiterOptions) {
		b.Waits.Apply(&o.MinDelay, &o.MaxDelay)
		available := o.Retryable
		o.Retryable = func(ctx context.Context, in *rds.DescribeDBSnapshotsInput, out *rds.DescribeDBSnapshotsOutput, err error) (bool, error) {
			if out != nil && len(out.DBSnapshots) == 1 {
				status, progress = aws.ToString(out.DBSnapshots[0].Status), aws.ToInt32(out.DBSnapshots[0].PercentProgress)
			}
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, "snapshot "+id+" "+status)
			}
			return available(ctx, in, out, err)
		}
	})
	start := b.now()
	if err := w.Wait(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)}, wait); err != nil {
		switch {
		case ctx.Err() != nil:
			return Result{}, fmt.Errorf("waiting for %s: %w", res, ctx.Err())
		case awsclient.IsWaiterTimeout(err):
			return Result{State: record.ItemFailed, Value: fmt.Sprintf("%s %s (%d%%)", id, status, progress),
				Detail: fmt.Sprintf("%s not available within %s (status %s, %d%%)", res, wait.Round(time.Millisecond), status, progress)}, nil
		case awsclient.Action(err) != "":
			return refusal(err, res)
		}
		return Result{State: record.ItemFailed, Value: id + " " + status, Detail: fmt.Sprintf("%s: %v", res, err)}, nil
	}
	return Result{State: record.ItemPassed, Snapshot: id,
		Value: fmt.Sprintf("manual snapshot %s available (%s)", id, b.now().Sub(start).Round(time.Second))}, nil
}

// refusal turns an AWS error into a Result (access denied: unavailable; a
// missing instance or a refused request: failed) or, when a retry may cure
// it, an error.
func refusal(err error, resource string) (Result, error) {
	switch awsclient.Classify(err) {
	case awsclient.AccessDenied:
		return Result{State: record.ItemUnavailable, Detail: awsclient.Describe(err, resource)}, nil
	case awsclient.NotFound, awsclient.Rejected:
		return Result{State: record.ItemFailed, Detail: awsclient.Describe(err, resource)}, nil
	case awsclient.Canceled:
		return Result{}, err
	}
	return Result{}, errors.New(awsclient.Describe(err, resource))
}
