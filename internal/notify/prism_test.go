package notify_test

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// prismVersion is the @stoplight/prism-cli the Makefile installs into $(GOLIVE_TOOLS).
const prismVersion = "5.14.2"

// repoRoot is the directory holding go.mod, found upwards from the test's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// prismBin is $GOLIVE_TOOLS/node_modules/.bin/prism (default GOLIVE_TOOLS: <repo>/.tools).
// A missing Prism fails the test: contract tests are not optional.
func prismBin(t testing.TB) string {
	t.Helper()
	tools := os.Getenv("GOLIVE_TOOLS")
	if tools == "" {
		tools = filepath.Join(repoRoot(t), ".tools")
	}
	bin := filepath.Join(tools, "node_modules", ".bin", "prism")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Prism (the contract mock) is not installed at %s: run `make tools`, or "+
			"`npm install --prefix %s @stoplight/prism-cli@%s`, or point GOLIVE_TOOLS at a directory that has it", bin, tools, prismVersion)
	}
	return bin
}

// contract is the path of an official provider spec in ../shared/contracts beside the repository.
func contract(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(repoRoot(t)), "shared", "contracts", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("provider contract %s is missing (expected in shared/contracts beside the repository): %v", p, err)
	}
	return p
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuffer collects a process's output for error messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	var out bytes.Buffer
	for _, s := range lines {
		out.WriteString(s + "\n")
	}
	return out.String()
}

// startPrism runs `prism mock` on a spec on a free loopback port and returns its
// base URL once it accepts connections. The process (and its process group) is
// stopped when the test ends.
func startPrism(t testing.TB, spec string) string {
	t.Helper()
	return launchPrism(t, spec)()
}

// launchPrism starts Prism and returns a function that waits until it listens,
// so several mocks can boot at once (each takes seconds).
func launchPrism(t testing.TB, spec string) (wait func() string) {
	t.Helper()
	bin := prismBin(t)
	port := freePort(t)
	cmd := exec.Command(bin, "mock", "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--errors", spec)
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Prism: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return func() string {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case err := <-exited:
				t.Fatalf("Prism exited before listening on %s (%v):\n%s", spec, err, out.tail())
			default:
			}
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				return "http://" + addr
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("Prism did not listen on %s within 90 s:\n%s", addr, out.tail())
		return ""
	}
}
