//go:build !nodevserver

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/internal/approvals/browser"
	"github.com/golive/golive/internal/directory"
)

// The demo's web sign-off: carol (compliance_officer) enrolls a passkey in
// headless Chromium with a virtual authenticator, the change to the team
// directory is signed by the two demo admins (olivia, henry: the same
// quorum-signed change a real team makes), and carol's slot is then approved
// on the approval page a notice links to. The releases pin that signed
// directory at their start, so the workflow judges her passkey by it.
const (
	demoWebPerson    = "carol"
	demoWebDirectory = ".golive/demo/directory.yaml"
)

// demoWeb is the headless browser holding carol's passkey, when there is one.
type demoWeb struct {
	b      *browser.Browser
	link   func(release, person string) string
	person string
}

// demoWebTools says whether the demo can sign in a browser; when it can, the
// demo's worker and pages read a copy of the demo directory that the
// enrollment will extend (the copy keeps the admins' signatures until then).
func demoWebTools(f *devFlags) (browser.Tools, bool) {
	if f.approvals.addr == "off" {
		fmt.Println("approval pages   off (--approvals off): every sign-off by CLI")
		return browser.Tools{}, false
	}
	tools, err := browser.Find(".tools")
	if err != nil {
		fmt.Printf("no headless browser (%v): every sign-off by CLI\n", err)
		return browser.Tools{}, false
	}
	for _, ext := range []string{"", ".sig"} {
		b, err := os.ReadFile(f.directory.file + ext)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(demoWebDirectory), 0o755)
		}
		if err == nil {
			err = os.WriteFile(demoWebDirectory+ext, b, 0o644)
		}
		if err != nil {
			fmt.Printf("no web sign-off (copy the directory: %v): every sign-off by CLI\n", err)
			return browser.Tools{}, false
		}
	}
	f.directory.file = demoWebDirectory
	return tools, true
}

// enrollDemoPasskey opens carol's invite in the browser, adds the passkey to
// the directory copy, has olivia and henry sign the change, and reloads the
// pages on it. Releases started afterwards pin it.
func (d *devStack) enrollDemoPasskey(ctx context.Context, tools browser.Tools, f devFlags) (*demoWeb, error) {
	p := d.pages
	if p == nil || p.srv == nil {
		return nil, nil
	}
	b, err := browser.Start(ctx, tools, "artifacts/demo")
	if err != nil {
		return nil, err
	}
	invite := p.base + approvals.InvitePath(p.key, approvals.NewInvite(demoWebPerson, time.Now(), time.Hour))
	fmt.Printf("\n$ golive directory invite %s   # opened in headless Chromium with a virtual authenticator\n", demoWebPerson)
	e, err := b.Enroll(invite, "Carol's phone (virtual)")
	if err != nil {
		b.Close()
		return nil, err
	}
	if err := addPasskey(demoWebDirectory, demoWebPerson, e.YAML); err != nil {
		b.Close()
		return nil, err
	}
	for _, admin := range []string{"olivia", "henry"} {
		key, closer, err := approval.OpenSigner(approval.KeySource{File: demoKey(admin)})
		if err != nil {
			b.Close()
			return nil, err
		}
		signed, err := directory.SignFile(demoWebDirectory, key, admin)
		closer.Close()
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("sign the directory change as %s: %w", admin, err)
		}
		fmt.Printf("$ golive directory sign %s --as %s --key %s   # %s\n", demoWebDirectory, admin, demoKey(admin), signed.Fingerprint)
	}
	dir, err := approvals.LoadDirectory(demoWebDirectory, f.directory.admins, f.directory.quorum, false)
	if err == nil {
		err = p.srv.Reload(dir)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	fmt.Printf("carol's passkey is in the team directory, signed by olivia and henry; the releases pin it\n")
	return &demoWeb{b: b, link: p.links(), person: demoWebPerson}, nil
}

// approve signs slot on the page carol's notice links to.
func (w *demoWeb) approve(release, slot string) error {
	link := w.link(release, w.person)
	fmt.Printf("$ open %s   # %s approves %s with her passkey, in headless Chromium (390x844)\n", link, w.person, slot)
	a, err := w.b.Approve(link, slot, "demo sign-off from the approval page")
	if err != nil {
		return err
	}
	fp := ""
	for _, l := range strings.Split(a.Text, "\n") {
		if strings.Contains(l, "passkey:SHA256:") {
			fp = strings.TrimSpace(l)
		}
	}
	fmt.Printf("  accepted by the release workflow %.0f ms after the click; %s\n", a.ClickToAcceptedMS, fp)
	return nil
}

func (w *demoWeb) close() {
	if w != nil {
		w.b.Close()
	}
}

// addPasskey puts an enrollment snippet under person's keys in the directory file.
func addPasskey(file, person, snippet string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	anchor := person + "@demo.golive\n"
	if !strings.Contains(string(b), anchor) {
		return fmt.Errorf("%s: no key line ending in %q to add the passkey after", file, strings.TrimSpace(anchor))
	}
	body := strings.Replace(string(b), anchor, anchor+"    passkeys:\n"+snippet, 1)
	return os.WriteFile(file, []byte(body), 0o644)
}
