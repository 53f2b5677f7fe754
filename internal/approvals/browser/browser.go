// Package browser drives the approval pages in headless Chromium through
// playwright-core, with a CDP virtual authenticator standing in for a
// phone's passkey: the approvals test and `golive demo` use it to enroll a
// passkey from an invite and sign a slot on a 390x844 page, by keyboard.
package browser

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

//go:embed passkey.js
var script []byte

// Tools are the programs a Browser needs.
type Tools struct {
	Node, Playwright, Chromium string
}

// Find locates node (PATH), playwright-core (toolsDir/node_modules, as
// `make tools` installs it; GOLIVE_TOOLS overrides toolsDir) and Chromium
// (GOLIVE_CHROMIUM, else /usr/bin/chromium), or says which is missing.
func Find(toolsDir string) (Tools, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return Tools{}, errors.New("node is not installed")
	}
	if v := os.Getenv("GOLIVE_TOOLS"); v != "" {
		toolsDir = v
	}
	pw, _ := filepath.Abs(filepath.Join(toolsDir, "node_modules", "playwright-core"))
	if _, err := os.Stat(filepath.Join(pw, "package.json")); err != nil {
		return Tools{}, fmt.Errorf("playwright-core is not in %s (make tools)", toolsDir)
	}
	chromium := os.Getenv("GOLIVE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		return Tools{}, fmt.Errorf("chromium is not at %s (apt-get install chromium)", chromium)
	}
	return Tools{Node: node, Playwright: pw, Chromium: chromium}, nil
}

// Browser is one headless Chromium page with one virtual authenticator that
// keeps every passkey it enrolls.
type Browser struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr bytes.Buffer
	dir    string
}

// Start launches the browser; screenshots go to artifacts.
func Start(ctx context.Context, t Tools, artifacts string) (*Browser, error) {
	dir, err := os.MkdirTemp("", "golive-browser-")
	if err != nil {
		return nil, err
	}
	js := filepath.Join(dir, "passkey.js")
	if err := os.WriteFile(js, script, 0o600); err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]any{"playwright": t.Playwright, "chromium": t.Chromium, "artifacts": artifacts})
	b := &Browser{cmd: exec.CommandContext(ctx, t.Node, js, string(cfg)), dir: dir}
	b.cmd.Stderr = &b.stderr
	if b.in, err = b.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := b.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start the browser: %w", err)
	}
	b.out = bufio.NewScanner(stdout)
	b.out.Buffer(make([]byte, 1<<20), 1<<20)
	return b, nil
}

// Close ends the browser and returns what it wrote to stderr.
func (b *Browser) Close() string {
	_, _ = b.in.Write([]byte(`{"cmd":"quit"}` + "\n"))
	_ = b.in.Close()
	_ = b.cmd.Wait()
	os.RemoveAll(b.dir)
	return strings.TrimSpace(b.stderr.String())
}

// Enrolled is what the invite page showed.
type Enrolled struct {
	YAML        string `json:"yaml"`
	Credentials int    `json:"credentials"`
}

// Enroll opens an invite link and creates a passkey named label.
func (b *Browser) Enroll(invite, label string) (Enrolled, error) {
	var e Enrolled
	err := b.do("enrolled", map[string]any{"cmd": "enroll", "invite": invite, "label": label}, &e)
	return e, err
}

// Approved is the confirmation page and the timings of one sign-off.
type Approved struct {
	URL  string `json:"url"`
	Text string `json:"text"`
	// PlanMS is the plan page's load; ClickToAcceptedMS the time from the
	// keypress on "Approve with passkey" to the confirmation of the accepted Update.
	PlanMS            float64 `json:"plan_ms"`
	ClickToAcceptedMS float64 `json:"click_to_accepted_ms"`
}

// Approve opens a release link and approves slot with comment, by keyboard.
func (b *Browser) Approve(link, slot, comment string) (Approved, error) {
	var a Approved
	err := b.do("approved", map[string]any{"cmd": "approve", "link": link, "slot": slot, "comment": comment}, &a)
	return a, err
}

// NoJS is the page read with JavaScript off, and what sending its form says.
type NoJS struct {
	Text      string `json:"text"`
	Submitted string `json:"submitted"`
}

// ReadWithoutJS reads a release link with JavaScript off.
func (b *Browser) ReadWithoutJS(link string) (NoJS, error) {
	var n NoJS
	err := b.do("nojs", map[string]any{"cmd": "nojs", "link": link}, &n)
	return n, err
}

// do sends one command and decodes the step that answers it.
func (b *Browser) do(step string, cmd map[string]any, out any) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	msg, _ := json.Marshal(cmd)
	if _, err := b.in.Write(append(msg, '\n')); err != nil {
		return fmt.Errorf("browser: %w", err)
	}
	for b.out.Scan() {
		var m map[string]any
		if err := json.Unmarshal(b.out.Bytes(), &m); err != nil {
			return fmt.Errorf("browser: %s", b.out.Text())
		}
		if m["step"] == step {
			return json.Unmarshal(b.out.Bytes(), out)
		}
	}
	_ = b.cmd.Wait()
	return fmt.Errorf("browser ended before %q: %s", step, strings.TrimSpace(b.stderr.String()))
}
