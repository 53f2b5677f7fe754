package migrate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"
)

// Error is a migration that failed: the file and line of the failing statement
// and PostgreSQL's error.
type Error struct {
	File    string
	Line    int // 0 when unknown
	Version int64
	Up      bool
	Err     error
}

func (e *Error) Error() string {
	dir := "up"
	if !e.Up {
		dir = "down"
	}
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("migration %s (%s) failed: %v", where, dir, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// explain turns goose's error into an *Error naming file and line.
func (m *Migrator) explain(err error, up bool) error {
	var pe *goose.PartialError
	if !errors.As(err, &pe) || pe.Failed == nil || pe.Failed.Source == nil {
		return m.redact(err)
	}
	src := m.set.bySourcePath(pe.Failed.Source.Path)
	if src == nil {
		return m.redact(err)
	}
	e := &Error{File: src.File, Version: src.Version, Up: up, Err: pe.Err}
	text := src.up
	if !up {
		if src.Format == FormatUpDown {
			e.File, text = src.DownFile, src.down
		}
	}
	stmt, file := m.capture.last()
	if file == path.Base(pe.Failed.Source.Path) && stmt != "" {
		e.Line = lineOf(text, stmt, pe.Err, up, src.Format == FormatGoose)
	}
	return m.redact(e)
}

// lineOf finds the line of the error in the original file: the statement's first
// line plus the lines before the error position PostgreSQL reports.
func lineOf(text, stmt string, err error, up, goose bool) int {
	from := 0
	if goose {
		// Search in the direction's section so a statement repeated in up and down is found in the right one.
		name := "DOWN"
		if up {
			name = "UP"
		}
		lines := strings.Split(text, "\n")
		off := 0
		for _, l := range lines {
			if m := annotation.FindStringSubmatch(l); m != nil && strings.ToUpper(m[1]) == name {
				from = off
				break
			}
			off += len(l) + 1
		}
	}
	i := strings.Index(text[from:], stmt)
	if i < 0 {
		i = strings.Index(text, stmt)
		from = 0
		if i < 0 {
			return 0
		}
	}
	start := from + i
	line := 1 + strings.Count(text[:start], "\n")
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Position > 0 {
		r := []rune(stmt)
		if p := int(pgErr.Position) - 1; p <= len(r) {
			line += strings.Count(string(r[:p]), "\n")
		}
	}
	return line
}

// stmtCapture remembers the statement goose is running, from its verbose log.
type stmtCapture struct {
	mu         sync.Mutex
	stmt, file string
}

func (c *stmtCapture) last() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stmt, c.file
}

func (c *stmtCapture) handler(next slog.Handler) slog.Handler {
	return &captureHandler{c: c, next: next}
}

type captureHandler struct {
	c     *stmtCapture
	next  slog.Handler
	attrs []slog.Attr
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "executing statement" {
		var stmt, file string
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "statement":
				stmt = a.Value.String()
			case "source":
				file = a.Value.String()
			}
			return true
		})
		h.c.mu.Lock()
		h.c.stmt, h.c.file = stmt, file
		h.c.mu.Unlock()
		return nil // statements may hold data: never logged
	}
	r.Level = slog.LevelDebug
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.WithAttrs(h.attrs).Handle(ctx, r)
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{c: h.c, next: h.next, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }
