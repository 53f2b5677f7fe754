package approvals_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// browser is testdata/passkey.js in headless Chromium: one phone-sized page
// with one CDP virtual authenticator, driven one JSON command per line.
type browser struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     interface{ Write([]byte) (int, error) }
	out    *bufio.Scanner
	stderr *bytes.Buffer
}

func startBrowser(t *testing.T, ctx context.Context, arts string) *browser {
	node, playwright, chromium := browserTools(t)
	cfg, _ := json.Marshal(map[string]any{"playwright": playwright, "chromium": chromium, "artifacts": arts})
	b := &browser{t: t, cmd: exec.CommandContext(ctx, node, "testdata/passkey.js", string(cfg)), stderr: &bytes.Buffer{}}
	stdin, _ := b.cmd.StdinPipe()
	stdout, _ := b.cmd.StdoutPipe()
	b.cmd.Stderr = b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.in = stdin
	b.out = bufio.NewScanner(stdout)
	b.out.Buffer(make([]byte, 1<<20), 1<<20)
	t.Cleanup(func() {
		_, _ = stdin.Write([]byte(`{"cmd":"quit"}` + "\n"))
		_ = b.cmd.Wait()
		for _, l := range strings.Split(strings.TrimSpace(b.stderr.String()), "\n") {
			if l != "" {
				t.Logf("browser: %s", l)
			}
		}
	})
	return b
}

// do sends one command and returns the step it answers with.
func (b *browser) do(step string, cmd map[string]any) map[string]any {
	b.t.Helper()
	msg, _ := json.Marshal(cmd)
	if _, err := b.in.Write(append(msg, '\n')); err != nil {
		b.t.Fatal(err)
	}
	for b.out.Scan() {
		var m map[string]any
		if err := json.Unmarshal(b.out.Bytes(), &m); err != nil {
			b.t.Fatalf("browser: %s", b.out.Text())
		}
		if m["step"] == step {
			return m
		}
	}
	_ = b.cmd.Wait()
	b.t.Fatalf("browser ended before %q:\n%s", step, b.stderr.String())
	return nil
}
