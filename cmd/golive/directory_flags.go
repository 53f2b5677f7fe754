package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/directory"
)

// directoryFlags point a worker at the team directory (worker and dev).
type directoryFlags struct {
	file     string
	admins   string
	quorum   int
	unsigned bool
}

func (f *directoryFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.file, "directory", os.Getenv("GOLIVE_DIRECTORY"), "team directory file: people, roles, keys and the policy per environment (GOLIVE_DIRECTORY); see docs/directory.md")
	fl.StringVar(&f.admins, "directory-admins", os.Getenv("GOLIVE_DIRECTORY_ADMINS"), "allowed_signers file of the directory admins whose quorum must sign --directory (its FILE.sig) (GOLIVE_DIRECTORY_ADMINS)")
	fl.IntVar(&f.quorum, "directory-quorum", 0, "distinct admin signatures the directory needs (default: the file's quorum, at least 2)")
	fl.BoolVar(&f.unsigned, "directory-unsigned", false, "accept a directory without its admins' signatures (local trials only; the record says so)")
}

// open checks the directory once at start, so a worker never runs with one it
// would refuse, and returns the activity that re-reads it for every release.
func (f *directoryFlags) open(log *slog.Logger) (*activities.Directory, error) {
	if f.file == "" {
		log.Warn("no team directory (--directory): every release will be refused at its plan stage")
		return nil, nil
	}
	d := &activities.Directory{Path: f.file, AdminsFile: f.admins, Verify: directory.VerifyOptions{Quorum: f.quorum, AllowUnsigned: f.unsigned}}
	o := d.Verify
	if f.admins != "" {
		b, err := os.ReadFile(f.admins)
		if err != nil {
			return nil, fmt.Errorf("--directory-admins: %w", err)
		}
		o.Admins = string(b)
	} else if !f.unsigned {
		return nil, fmt.Errorf("--directory %s needs --directory-admins (the admin keys whose quorum signs it), or --directory-unsigned for a local trial", f.file)
	}
	v, err := directory.LoadVerified(f.file, o)
	if err != nil {
		return nil, fmt.Errorf("team directory %s refused: %w", f.file, err)
	}
	log.Info("team directory", "file", f.file, "digest", v.Dir.Digest, "signed_by", v.Signers, "environments", len(v.Dir.Environments))
	return d, nil
}
