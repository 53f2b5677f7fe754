package telemetry

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/activity"
)

// KeyRelease is the log key that carries the release (workflow) ID on every line.
const KeyRelease = "release"

// keyWorkflowID is the key the Temporal SDK's workflow and activity loggers
// (workflow.GetLogger, activity.GetLogger, the worker's own task logs) add.
const keyWorkflowID = "WorkflowID"

type releaseKey struct{}

// WithRelease returns ctx carrying a release ID for log lines written with it
// (for code that runs outside an activity, such as a CLI command).
func WithRelease(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, releaseKey{}, id)
}

// ReleaseFrom returns the release ID ctx carries: one set by WithRelease, else
// the workflow ID of the activity running on ctx, else "".
func ReleaseFrom(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	if id, ok := ctx.Value(releaseKey{}).(string); ok && id != "" {
		return id
	}
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).WorkflowExecution.ID
	}
	return ""
}

// Logger returns base with release=<ID> attached when ctx carries one (see
// ReleaseFrom), for handing a logger to code that logs without a context.
func Logger(ctx context.Context, base *slog.Logger) *slog.Logger {
	if base == nil {
		base = slog.Default()
	}
	if id := ReleaseFrom(ctx); id != "" {
		return base.With(KeyRelease, id)
	}
	return base
}

// LogHandler wraps a slog.Handler so that every record that belongs to a
// release carries release=<workflow ID>, once. The ID comes from, in order:
// a release attribute already on the logger or the record (kept as is); the
// SDK's WorkflowID attribute (workflow.GetLogger, activity.GetLogger); the
// context the record was logged with (an activity's context, or WithRelease).
// Records that belong to no release pass through unchanged.
type LogHandler struct {
	inner slog.Handler
	// release is a WorkflowID seen in WithAttrs, added at Handle unless the record has its own.
	release string
	// has is set when WithAttrs already attached a release attribute.
	has bool
}

// NewLogHandler wraps inner; see LogHandler.
func NewLogHandler(inner slog.Handler) *LogHandler {
	return &LogHandler{inner: inner}
}

// Enabled reports whether the inner handler handles level.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// WithAttrs remembers a release or WorkflowID attribute and passes attrs on.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	for _, a := range attrs {
		switch a.Key {
		case KeyRelease:
			n.has = true
		case keyWorkflowID:
			if n.release == "" {
				n.release = a.Value.String()
			}
		}
	}
	n.inner = h.inner.WithAttrs(attrs)
	return &n
}

// WithGroup opens a group on the inner handler.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	n := *h
	n.inner = h.inner.WithGroup(name)
	return &n
}

// Handle adds release=<ID> to r when it belongs to a release and has none yet.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.has {
		return h.inner.Handle(ctx, r)
	}
	id := h.release
	present, empty := false, false
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case KeyRelease:
			if a.Value.String() == "" {
				empty = true
			} else {
				present = true
				return false
			}
		case keyWorkflowID:
			if id == "" {
				id = a.Value.String()
			}
		}
		return true
	})
	if present {
		return h.inner.Handle(ctx, r)
	}
	if id == "" {
		id = ReleaseFrom(ctx)
	}
	if id == "" {
		return h.inner.Handle(ctx, r)
	}
	// release goes first among the record's attributes, so it reads at a glance;
	// an empty release attribute is replaced, not repeated.
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(slog.String(KeyRelease, id))
	r.Attrs(func(a slog.Attr) bool {
		if !(empty && a.Key == KeyRelease) {
			out.AddAttrs(a)
		}
		return true
	})
	return h.inner.Handle(ctx, out)
}
