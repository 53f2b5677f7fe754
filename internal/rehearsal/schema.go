package rehearsal

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/golive/golive/internal/pgutil"
)

// Schema is a deterministic text form of a database's catalog: pg_dump
// --schema-only (tables, columns with types, defaults and nullability,
// constraints, indexes, views, functions, triggers, policies, sequences,
// types) without owners, privileges, comments or session settings, so two
// dumps of the same schema are equal line for line. The migration version
// table is left out: its rows are the one thing up and down are meant to change.
type Schema struct {
	Lines []string
}

// Objects counts the schema's statements (lines ending a statement).
func (s Schema) Objects() int {
	n := 0
	for _, l := range s.Lines {
		if strings.HasSuffix(l, ";") {
			n++
		}
	}
	return n
}

// Snapshot dumps the schema of the database cfg points at.
func Snapshot(ctx context.Context, pgDump string, cfg *pgx.ConnConfig, versionTable string) (Schema, error) {
	args := []string{"--schema-only", "--no-owner", "--no-privileges", "--no-comments", "--no-password",
		"--exclude-table=" + versionTable}
	cmd := exec.CommandContext(ctx, pgDump, args...)
	cmd.Env = pgutil.Env(cfg)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return Schema{}, pgutil.Redact(fmt.Errorf("pg_dump --schema-only: %w: %s", err, strings.TrimSpace(stderr.String())), cfg)
	}
	return Schema{Lines: normalize(out.String())}, nil
}

// normalize drops what differs between two dumps of one schema: comment lines
// (they carry the server and tool versions), blank lines, session settings
// and the \restrict guard lines newer pg_dump releases add with a random key.
func normalize(dump string) []string {
	var lines []string
	for _, l := range strings.Split(dump, "\n") {
		l = strings.TrimRight(l, " \t\r")
		switch {
		case l == "", strings.HasPrefix(l, "--"), strings.HasPrefix(l, "SET "),
			strings.HasPrefix(l, "SELECT pg_catalog.set_config("), strings.HasPrefix(l, `\restrict `), strings.HasPrefix(l, `\unrestrict `):
			continue
		}
		lines = append(lines, l)
	}
	return lines
}
