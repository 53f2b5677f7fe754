package approvals_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/passkey/passkeytest"
)

// BenchmarkPasskeyClickToAcceptedUpdate measures what follows the click on
// "Approve with passkey": the page's challenge request, the authenticator's
// assertion (the software one of passkeytest, in place of the browser's), and
// the submission that the approval server checks and sends as an Update,
// which the release workflow verifies and accepts; through the real
// in-process approval server, Temporal server, worker and a production
// release. Each round fills one of the four approval slots; a new release is
// started (outside the timer) when all four are filled. Run with
// -benchtime=8x or more: it reports p50 and p95 in milliseconds.
func BenchmarkPasskeyClickToAcceptedUpdate(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tmp := b.TempDir()
	dirFile := filepath.Join(tmp, "directory.yaml")
	c, _ := startTemporal(b, &activities.Directory{Path: dirFile, Verify: directory.VerifyOptions{AllowUnsigned: true}})
	h := &swap{}
	hs := httptest.NewServer(h)
	b.Cleanup(hs.Close)
	origin := "http://localhost:" + hs.URL[strings.LastIndex(hs.URL, ":")+1:]
	soft := passkeytest.New("localhost", origin)
	creds := map[string]passkey.Credential{}
	entries := map[string][]string{}
	for _, a := range approvers {
		creds[a.person] = soft.Register(passkey.AlgES256, a.label)
		entries[a.person] = []string{softEntry(creds[a.person])}
	}
	d := writeDirectory(b, dirFile, origin, entries)
	s, err := approvals.New(approvals.Options{Client: c, Directory: d, LinkKey: linkKey, BaseURL: origin, EnrollDir: tmp, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	h.set(s.Handler())

	var rel release
	next := len(approvers)
	var ds []time.Duration
	for b.Loop() {
		if next == len(approvers) {
			b.StopTimer()
			if rel.id != "" {
				_ = c.TerminateWorkflow(ctx, rel.id, rel.run, "benchmark: next release")
			}
			rel, next = startRelease(b, ctx, c, "production"), 0
			b.StartTimer()
		}
		a := approvers[next]
		next++
		start := time.Now()
		code, m := signThroughPage(b, s, hs.URL, rel.id, a.person, a.slot, func(ch []byte) passkey.Assertion { return soft.Assert(creds[a.person], ch, passkeytest.Options{}) })
		ds = append(ds, time.Since(start))
		if code != 200 || !strings.Contains(m["message"], a.slot) {
			b.Fatalf("%s: %d %v", a.slot, code, m)
		}
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[min(len(ds)-1, len(ds)*95/100)].Microseconds())/1000, "p95-ms")
	b.Logf("%d rounds, click to accepted Update: min %s, p50 %s, max %s", len(ds), ds[0].Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond))
}
