package activities

import (
	"context"
	"fmt"
	"os"

	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/internal/directory"
)

// ErrDirectoryRefused is the error type of a team directory the worker will
// not use: unsigned by its admin quorum, malformed, or without the release's
// environment.
const ErrDirectoryRefused = "DirectoryRefused"

// ResolveInput asks which team directory a release of Service to Environment runs under.
type ResolveInput struct {
	ReleaseID   string `json:"release_id"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
}

// Directory reads the team directory the worker's operator keeps: people,
// roles, keys and the policy per environment. It reads and verifies the file
// on every call, so a key removed or rotated there stops counting for new
// releases at once; a running release keeps the snapshot it pinned.
type Directory struct {
	// Path is the directory file (golive worker --directory); empty means none.
	Path string
	// AdminsFile is the trust anchor (golive worker --directory-admins): an
	// allowed_signers file of the admin keys whose quorum must sign the
	// directory. It is read on every call too, into Verify.Admins.
	AdminsFile string
	// Verify holds the quorum and whether an unsigned directory is accepted.
	Verify directory.VerifyOptions
}

// Resolve returns what a release pins: the directory's digest, who signed it,
// the environment's policy and every person with roles and key fingerprints.
func (d *Directory) Resolve(ctx context.Context, in ResolveInput) (directory.Snapshot, error) {
	if d == nil || d.Path == "" {
		return directory.Snapshot{}, temporal.NewNonRetryableApplicationError(
			"not configured: this worker has no team directory; start it with golive worker --directory FILE --directory-admins FILE", ErrNotConfigured, nil)
	}
	o := d.Verify
	if d.AdminsFile != "" {
		b, err := os.ReadFile(d.AdminsFile)
		if err != nil {
			return directory.Snapshot{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("team directory admins: %v", err), ErrDirectoryRefused, nil)
		}
		o.Admins = string(b)
	}
	v, err := directory.LoadVerified(d.Path, o)
	if err != nil {
		return directory.Snapshot{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("team directory refused: %v", err), ErrDirectoryRefused, nil)
	}
	snap, err := v.Dir.Resolve(in.Service, in.Environment)
	if err != nil {
		return directory.Snapshot{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrDirectoryRefused, nil)
	}
	snap.Signers = v.Signers
	return snap, nil
}
