package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/evidencestore"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/secrets"
)

// evidenceFlags choose the evidence store (worker and report).
type evidenceFlags struct {
	location   string
	retainDays int
	lockMode   string
}

func (f *evidenceFlags) add(cmd *cobra.Command, worker bool) {
	cmd.Flags().StringVar(&f.location, "evidence-store", os.Getenv(evidencestore.EnvStore),
		"where evidence is kept: dir (each release's evidence.dir on the worker's disk, one worker only), dir:PATH, "+
			"postgres (golive's database, "+activities.EnvAuditURL+") or s3://BUCKET/PREFIX (Object Lock) ("+evidencestore.EnvStore+")")
	if worker {
		cmd.Flags().IntVar(&f.retainDays, "evidence-retain-days", int(evidencestore.DefaultRetention/(24*time.Hour)),
			"S3 Object Lock retention of each evidence object, in days (default 6 years, HIPAA)")
		cmd.Flags().StringVar(&f.lockMode, "evidence-lock-mode", "COMPLIANCE", "S3 Object Lock mode: COMPLIANCE (nobody can shorten it) or GOVERNANCE")
	}
}

// open returns the store, nil for the per-release directory.
func (f *evidenceFlags) open(ctx context.Context) (evidencestore.Store, error) {
	if f.retainDays < 0 {
		return nil, fmt.Errorf("--evidence-retain-days %d: want a positive number of days", f.retainDays)
	}
	st, err := evidencestore.Open(ctx, evidencestore.Config{
		Location: f.location, DatabaseURL: "env://" + activities.EnvAuditURL, Secrets: &secrets.Resolver{},
		Retention: time.Duration(f.retainDays) * 24 * time.Hour, Mode: f.lockMode,
	})
	if err != nil {
		return nil, fmt.Errorf("--evidence-store: %w", err)
	}
	return st, nil
}

// logStore says where this worker keeps evidence; on its own disk, that only
// one worker should run.
func (f *evidenceFlags) logStore(log *slog.Logger, st evidencestore.Store) {
	if st == nil {
		log.Warn("evidence on this worker's disk (each release's evidence.dir): with several workers use --evidence-store postgres or s3://...")
		return
	}
	log.Info("evidence store", "backend", st.Backend(), "location", f.location)
}

// storedReport is what `golive report --evidence-store` prints with -o json.
type storedReport struct {
	Written map[string]string      `json:"written"`
	Records []evidencestore.Record `json:"records"`
}

// reportFromStore writes the latest run's stored documents of release to dir
// (formats: "md" the Markdown ones, the incident record among them; "html"),
// after checking each against its digest and seal: a mismatch is an error and
// nothing of that document is written. A document someone put a delete
// marker or a later version over (S3) is written from the version golive
// wrote, with a warning on stderr naming what sits above it (and, with -o
// json, the record's "shadowed").
func reportFromStore(ctx context.Context, st evidencestore.Store, release, dir string, formats []string, jsonOut bool, stdout, stderr io.Writer) error {
	all, err := st.List(ctx, release)
	if err != nil {
		return err
	}
	var rs []evidencestore.Record
	for _, r := range evidencestore.Latest(all) {
		f := "md"
		if r.Kind.HTML() {
			f = "html"
		}
		if slices.Contains(formats, f) {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return fmt.Errorf("no evidence of %s in the %s store (written at the review stage; is it finished?)", release, st.Backend())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	base := filepath.Join(dir, strings.NewReplacer(":", "_", "/", "_").Replace(release))
	out := storedReport{Written: map[string]string{}, Records: rs}
	var errs []error
	for _, r := range rs {
		if len(r.Shadowed) > 0 {
			fmt.Fprintln(stderr, shadowWarning(r))
		}
		if err := evidencestore.Verify(r); err != nil {
			errs = append(errs, err)
			continue
		}
		path := base + map[evidence.Kind]string{evidence.KindMarkdown: ".md", evidence.KindHTML: ".html", evidence.KindIncident: "-incident.md"}[r.Kind]
		if err := os.WriteFile(path, []byte(r.Content), 0o644); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		out.Written[string(r.Kind)] = path
		if !jsonOut {
			fmt.Fprintf(stdout, "wrote %s from %s (sha256 %s verified; audit chain head %s)\n", path, r.Ref, evidence.Digest(r.Content), r.AuditHead)
		}
	}
	if jsonOut {
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// shadowWarning says what someone put above the version golive wrote of r.
func shadowWarning(r evidencestore.Record) string {
	var markers, versions int
	var what []string
	for _, sh := range r.Shadowed {
		if sh.DeleteMarker {
			markers++
		} else {
			versions++
		}
		what = append(what, sh.String())
	}
	var counts []string
	if markers > 0 {
		counts = append(counts, render.Count(markers, "delete marker", "delete markers"))
	}
	if versions > 0 {
		counts = append(counts, render.Count(versions, "later version", "later versions"))
	}
	locked := "the locked record"
	if r.VersionID != "" {
		locked += " (version " + r.VersionID + ")"
	}
	return fmt.Sprintf("WARNING: %s: %s above %s, added by someone else: %s; the record shown is the one golive wrote",
		r.Ref, strings.Join(counts, " and "), locked, strings.Join(what, ", "))
}
