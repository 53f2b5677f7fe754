package main

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperProcessMain runs main() with the arguments after "--" when the
// signal tests start this test binary as a child process; otherwise it does nothing.
func TestHelperProcessMain(t *testing.T) {
	if os.Getenv("GOLIVE_HELPER_MAIN") != "1" {
		return
	}
	for i, a := range os.Args {
		if a == "--" {
			os.Args = append([]string{"golive"}, os.Args[i+1:]...)
			break
		}
	}
	main()
	os.Exit(0)
}

// blackHole accepts TCP connections and never answers, like a Temporal frontend
// behind a dead load balancer: a dial to it waits until it is given up.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestStartAndValidateStopAtOnceOnSIGTERMAndCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	addr := blackHole(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		args []string
	}{
		{"start waiting for Temporal, SIGTERM", syscall.SIGTERM, []string{"start", "../../examples/demo.yaml", "--version", "1.0.0", "--as", "erin", "--address", addr}},
		{"start waiting for Temporal, Ctrl-C", syscall.SIGINT, []string{"start", "../../examples/demo.yaml", "--version", "1.0.0", "--as", "erin", "--address", addr}},
		{"validate reading a pipe nobody writes, SIGTERM", syscall.SIGTERM, []string{"validate", fifo(t)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcessMain$", "--"}, tc.args...)...)
			cmd.Env = append(os.Environ(), "GOLIVE_HELPER_MAIN=1", "TEMPORAL_ADDRESS=", "GOLIVE_CODEC_KEYS=")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // let it reach the wait
			sent := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 1 {
					t.Errorf("exit: %v, want status 1; stderr:\n%s", err, stderr.String())
				}
				if out := stderr.String(); !strings.Contains(out, "context canceled") && !strings.Contains(out, "signal received") {
					t.Errorf("stderr does not say it was cancelled:\n%s", stderr.String())
				}
				t.Logf("stopped %v after the signal", time.Since(sent).Round(time.Millisecond))
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("still running 20 s after %v; stderr:\n%s", tc.sig, stderr.String())
			}
		})
	}
}

// fifo is a named pipe: opening it for reading blocks until a writer comes, which never does.
func fifo(t *testing.T) string {
	t.Helper()
	p := t.TempDir() + "/spec.yaml"
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}
