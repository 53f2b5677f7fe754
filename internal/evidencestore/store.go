// Package evidencestore keeps the documents a release writes (the evidence
// pack as Markdown and HTML, the incident record) where every worker and
// `golive report` reach them: a directory (dev, one worker), golive's
// PostgreSQL database (an append-only table), or S3 with Object Lock
// retention. Every document is sealed (evidence.Seal: its own digest and the
// audit chain head at writing); stores keep the sha256 of the exact bytes
// beside it, and Verify checks both.
package evidencestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golive/golive/internal/evidence"
)

// Backend names a kind of store, as the worker's --evidence-store chooses it.
type Backend string

// The stores.
const (
	BackendDir      Backend = "dir"
	BackendPostgres Backend = "postgres"
	BackendS3       Backend = "s3"
)

// Record is one stored document of one release run.
type Record struct {
	ReleaseID string        `json:"release_id"`
	RunID     string        `json:"run_id"`
	Kind      evidence.Kind `json:"kind"`
	// Content is the sealed document.
	Content string `json:"-"`
	// Digest is the hex sha256 of Content as stored.
	Digest string `json:"sha256"`
	// AuditHead is the audit chain head at writing (also inside the seal).
	AuditHead string    `json:"audit_head"`
	CreatedAt time.Time `json:"created_at"`
	// Ref says where the record is (a path, postgres:TABLE/ID, s3://bucket/key).
	Ref string `json:"ref"`
	// VersionID is the S3 version read: the one golive wrote (S3 only; not
	// set for "null", a bucket that never had versioning).
	VersionID string `json:"version_id,omitempty"`
	// Shadowed is what someone added above that version (S3 only), oldest
	// first: delete markers, which hide the record from a plain read, and later
	// versions, which replace it there. golive writes each key once, so each
	// entry is someone else's doing; the record is still the version golive wrote.
	Shadowed []Shadow `json:"shadowed,omitempty"`
}

// Shadow is a delete marker or a version above a record's version in S3.
type Shadow struct {
	VersionID    string    `json:"version_id"`
	DeleteMarker bool      `json:"delete_marker,omitempty"`
	At           time.Time `json:"at"`
}

// String is "delete marker VID at TIME" or "version VID at TIME".
func (s Shadow) String() string {
	what := "version"
	if s.DeleteMarker {
		what = "delete marker"
	}
	return fmt.Sprintf("%s %s at %s", what, s.VersionID, s.At.UTC().Format(time.RFC3339))
}

// Store keeps records. Put never replaces what is stored: writing the same
// release, run and kind again returns the first record's reference.
type Store interface {
	Put(ctx context.Context, r Record) (ref string, err error)
	// List returns the records of a release (every run), oldest first.
	List(ctx context.Context, releaseID string) ([]Record, error)
	Backend() Backend
}

// New seals content and makes the record to Put.
func New(releaseID, runID string, kind evidence.Kind, content, auditHead string) Record {
	sealed, _ := evidence.Seal(kind, content, auditHead)
	return Record{ReleaseID: releaseID, RunID: runID, Kind: kind, Content: sealed, Digest: evidence.Digest(sealed), AuditHead: auditHead}
}

// ErrTampered is a record whose bytes no longer match its stored digest or seal.
var ErrTampered = errors.New("evidence does not match its digest")

// Verify checks a record read back: the sha256 of its bytes against the
// digest the store kept (when it kept one), and the seal inside the document.
func Verify(r Record) error {
	if got := evidence.Digest(r.Content); r.Digest != "" && got != r.Digest {
		return fmt.Errorf("%w: %s: stored sha256 %s, content hashes to %s", ErrTampered, r.Ref, r.Digest, got)
	}
	if _, _, err := evidence.VerifySeal(r.Content); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrTampered, r.Ref, err)
	}
	return nil
}

// Latest returns, per kind, the records of the last run in rs (List's order).
func Latest(rs []Record) []Record {
	if len(rs) == 0 {
		return nil
	}
	run := rs[len(rs)-1].RunID
	var out []Record
	for _, r := range rs {
		if r.RunID == run {
			out = append(out, r)
		}
	}
	return out
}

// fileStem is how a release ID appears in file names and object keys.
func fileStem(releaseID string) string {
	return strings.NewReplacer(":", "_", "/", "_").Replace(releaseID)
}

// sortRecords orders records oldest first, then by kind (Kinds' order).
func sortRecords(rs []Record) {
	slices.SortStableFunc(rs, func(a, b Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return slices.Index(evidence.Kinds, a.Kind) - slices.Index(evidence.Kinds, b.Kind)
	})
}
