// Package promproc runs a Prometheus server as a child process on a free
// loopback port, with its configuration, storage and log in one directory:
// the one launcher behind `golive demo` (cmd/golive/demo_prom.go) and the
// tests' internal/promtest.
package promproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options are one server.
type Options struct {
	// Bin is the prometheus binary.
	Bin string
	// Dir holds prometheus.yml (written by the caller); the storage (data/)
	// and the log (prometheus.log) are kept beside it.
	Dir string
	// Retention is the storage retention (--storage.tsdb.retention.time), e.g. "1d".
	Retention string
	// Args are further flags.
	Args []string
	// ReadyTimeout bounds the wait for /-/ready (default 60 s).
	ReadyTimeout time.Duration
}

// Process is one running server.
type Process struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// Dir is Options.Dir.
	Dir string

	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts the server and returns once it answers /-/ready. A free port
// can be taken between choosing it and Prometheus binding it: then it tries
// again, three times in all.
func Start(ctx context.Context, o Options) (*Process, error) {
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	// The server runs in Dir: its paths must not be relative to ours.
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	o.Dir = dir
	if err := os.MkdirAll(filepath.Join(o.Dir, "data"), 0o755); err != nil {
		return nil, err
	}
	for range 3 {
		var p *Process
		if p, err = launch(ctx, o); err == nil {
			return p, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, err
}

func launch(ctx context.Context, o Options) (*Process, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logf, err := os.Create(filepath.Join(o.Dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--config.file=" + filepath.Join(o.Dir, "prometheus.yml"),
		"--storage.tsdb.path=" + filepath.Join(o.Dir, "data"),
		"--storage.tsdb.retention.time=" + o.Retention,
		"--web.listen-address=" + addr,
	}, o.Args...)
	cmd := exec.Command(o.Bin, args...)
	cmd.Dir = o.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	p := &Process{URL: "http://" + addr, Dir: o.Dir, cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started the child
		// ends, not the process: hold this thread for the child's lifetime.
		runtime.LockOSThread()
		defer logf.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(p.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", o.Bin, err)
	}
	if err := p.waitReady(ctx, o.ReadyTimeout); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// waitReady polls /-/ready until the server answers 200.
func (p *Process) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-p.exited:
			if strings.Contains(p.Log(), "address already in use") {
				return fmt.Errorf("prometheus on %s: %w", p.URL, syscall.EADDRINUSE)
			}
			return fmt.Errorf("prometheus exited during start-up (%v)%s", p.cmd.ProcessState, p.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("prometheus at %s not ready: %w%s", p.URL, ctx.Err(), p.LogTail())
		case <-tick.C:
		}
		if resp, err := client.Get(p.URL + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
}

// Exited is closed when the server has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stop ends the server (SIGTERM, SIGKILL after 10 s) and waits for it. Safe
// to call more than once, and on nil.
func (p *Process) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Log is what the server has logged so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "prometheus.log"))
	return string(b)
}

// LogTail is the end of the server's log, for errors.
func (p *Process) LogTail() string {
	lines := strings.Split(strings.TrimSpace(p.Log()), "\n")
	lines = lines[max(0, len(lines)-8):]
	return "\n--- " + filepath.Join(p.Dir, "prometheus.log") + " ---\n" + strings.Join(lines, "\n")
}

// Duration formats d as Prometheus durations are written ("1s", "500ms").
func Duration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.Itoa(int(d/time.Second)) + "s"
	}
	return strconv.Itoa(int(d/time.Millisecond)) + "ms"
}
