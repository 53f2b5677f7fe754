package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// catalogEntry is one successful backup a catalog lists.
type catalogEntry struct {
	name string
	at   time.Time
}

// checkCatalog is "Backup schedule configured (daily automated backups)" read
// from the backup tool's own catalog: backup.catalog_command runs without a
// shell, its stdout is pgbackrest info --output=json or wal-g backup-list
// --json, and the newest successful backup must be younger than max_age
// (default 24h). Its stderr is never kept (it may name hosts and paths).
func checkCatalog(ctx context.Context, c spec.Check) Result {
	if c.Backup == nil || len(c.Backup.CatalogCommand) == 0 {
		return Result{State: record.ItemUnavailable, Detail: "not configured: backup.catalog_command is not set"}
	}
	argv := c.Backup.CatalogCommand
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("%s: %v", argv[0], err)}
	}
	entries, tool, err := parseCatalog(out.Bytes())
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("%s: %v", argv[0], err)}
	}
	maxAge := c.MaxAge.D()
	if maxAge <= 0 {
		maxAge = spec.DefaultReportMaxAge
	}
	if len(entries) == 0 {
		return Result{State: record.ItemFailed, Value: tool + ": no successful backup", Detail: "the catalog lists no successful backup"}
	}
	newest := entries[0]
	for _, e := range entries[1:] {
		if e.at.After(newest.at) {
			newest = e
		}
	}
	age := time.Since(newest.at)
	v := fmt.Sprintf("%s: newest of %d backups %s, finished %s (%s ago)", tool, len(entries), newest.name,
		newest.at.UTC().Format(time.RFC3339), age.Round(time.Minute))
	if age > maxAge {
		return Result{State: record.ItemFailed, Value: v, Detail: fmt.Sprintf("the newest backup is older than %s: the daily schedule is not running", maxAge)}
	}
	return Result{State: record.ItemPassed, Value: v}
}

// parseCatalog reads pgbackrest's or wal-g's JSON catalog into its successful backups.
func parseCatalog(b []byte) ([]catalogEntry, string, error) {
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, "", errors.New("the output is not a JSON list (want pgbackrest info --output=json or wal-g backup-list --json)")
	}
	if len(list) == 0 {
		return nil, "wal-g", nil // wal-g prints [] without backups
	}
	if _, ok := list[0]["backup"]; ok {
		var stanzas []struct {
			Name   string `json:"name"`
			Backup []struct {
				Label     string `json:"label"`
				Error     bool   `json:"error"`
				Timestamp struct {
					Stop int64 `json:"stop"`
				} `json:"timestamp"`
			} `json:"backup"`
		}
		if err := json.Unmarshal(b, &stanzas); err != nil {
			return nil, "", fmt.Errorf("pgbackrest info: %w", err)
		}
		var out []catalogEntry
		for _, s := range stanzas {
			for _, bk := range s.Backup {
				if !bk.Error && bk.Timestamp.Stop > 0 {
					out = append(out, catalogEntry{name: s.Name + "/" + bk.Label, at: time.Unix(bk.Timestamp.Stop, 0)})
				}
			}
		}
		return out, "pgbackrest", nil
	}
	if _, ok := list[0]["backup_name"]; ok {
		var backups []struct {
			Name       string    `json:"backup_name"`
			Time       time.Time `json:"time"`
			FinishTime time.Time `json:"finish_time"`
		}
		if err := json.Unmarshal(b, &backups); err != nil {
			return nil, "", fmt.Errorf("wal-g backup-list: %w", err)
		}
		var out []catalogEntry
		for _, bk := range backups {
			at := bk.FinishTime
			if at.IsZero() {
				at = bk.Time
			}
			out = append(out, catalogEntry{name: bk.Name, at: at})
		}
		return out, "wal-g", nil
	}
	return nil, "", errors.New("neither a pgbackrest nor a wal-g catalog")
}
