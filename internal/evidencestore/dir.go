package evidencestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golive/golive/internal/evidence"
)

// Dir keeps records as files under Root, named RELEASE-RUN.md, .html and
// -incident.md as before stores existed: the default, for dev and one
// worker. The digest lives only in the seal. List tells releases apart by
// file name only: a release whose ID is another's followed by "-" and more
// shares its prefix (golive's release IDs end in the environment, so this
// does not happen with IDs golive start makes).
type Dir struct{ Root string }

// Backend implements Store.
func (d Dir) Backend() Backend { return BackendDir }

var dirSuffix = map[evidence.Kind]string{evidence.KindMarkdown: ".md", evidence.KindHTML: ".html", evidence.KindIncident: "-incident.md"}

// Put implements Store; the reference is the file's path.
func (d Dir) Put(_ context.Context, r Record) (string, error) {
	path := filepath.Join(d.Root, fileStem(r.ReleaseID)+"-"+r.RunID+dirSuffix[r.Kind])
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return "", fmt.Errorf("evidence dir: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(r.Content), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// List implements Store: files of the release, oldest first.
func (d Dir) List(_ context.Context, releaseID string) ([]Record, error) {
	stem := fileStem(releaseID) + "-"
	entries, err := os.ReadDir(d.Root)
	if err != nil {
		return nil, fmt.Errorf("evidence dir: %w", err)
	}
	var out []Record
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), stem)
		if !ok || e.IsDir() {
			continue
		}
		kind, run := kindOfFile(rest)
		if kind == "" || strings.Contains(run, "_") {
			continue // another release whose ID extends this one's with ':' or '/'
		}
		path := filepath.Join(d.Root, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		_, head, _ := evidence.VerifySeal(string(b))
		out = append(out, Record{ReleaseID: releaseID, RunID: run, Kind: kind, Content: string(b), AuditHead: head, CreatedAt: info.ModTime().UTC(), Ref: path})
	}
	sortRecords(out)
	return out, nil
}

// kindOfFile splits RUN + suffix.
func kindOfFile(name string) (evidence.Kind, string) {
	for _, k := range []evidence.Kind{evidence.KindIncident, evidence.KindMarkdown, evidence.KindHTML} {
		if run, ok := strings.CutSuffix(name, dirSuffix[k]); ok && run != "" {
			return k, run
		}
	}
	return "", ""
}
