package promproc_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/golive/golive/internal/promproc"
)

// TestARelativeDirStartsAndStops: the demo passes a directory relative to its
// own working directory; the server, which runs inside it, must still find
// its configuration. Stop ends it and closes Exited.
func TestARelativeDirStartsAndStops(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus is not installed: apt-get install -y prometheus (make test-deps does)")
	}
	t.Chdir(t.TempDir())
	dir := filepath.Join("demo", "prometheus")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "global:\n  scrape_interval: " + promproc.Duration(1500*time.Millisecond) + "\nscrape_configs: []\n"
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := promproc.Start(context.Background(), promproc.Options{Bin: bin, Dir: dir, Retention: "1d"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(p.URL + "/-/ready")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("not ready after Start: %v %v", resp, err)
	}
	resp.Body.Close()
	p.Stop()
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited not closed after Stop")
	}
	p.Stop() // twice is fine
}
