//go:build !nodevserver

package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/internal/directory"
)

// devApprovalsFlags are the approval pages `golive dev` and `golive demo`
// start beside the server (what `golive approvals serve` runs on its own).
type devApprovalsFlags struct {
	addr      string
	enrollDir string
	links     noticeLinkFlags
}

func (f *devApprovalsFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.addr, "approvals", approvals.DefaultAddr, "listen address of the approval pages (sign-offs with a passkey from a phone); off: none")
	cmd.Flags().StringVar(&f.enrollDir, "approvals-enroll-dir", ".golive/enrollments", "where the pages save each enrolled passkey's directory snippet")
	f.links.add(cmd, "")
	cmd.Flags().Lookup("approvals-url").Usage = "origin of the approval pages that notices link to, one of the directory's webauthn origins (default: the first) (GOLIVE_APPROVALS_URL)"
}

// devPages is what the approval pages need, resolved before the worker
// starts so that its notices carry their links.
type devPages struct {
	f    devApprovalsFlags
	dir  *directory.Directory
	base string
	key  []byte
	srv  *approvals.Server
}

// preparePages loads the directory the worker uses and the link key; nil
// when the pages are off or there is no directory to sign against.
func preparePages(f devApprovalsFlags, d directoryFlags) (*devPages, error) {
	if f.addr == "" || f.addr == "off" || d.file == "" {
		return nil, nil
	}
	dir, err := approvals.LoadDirectory(d.file, d.admins, d.quorum, d.unsigned)
	if err != nil {
		return nil, err
	}
	base, err := approvals.BaseURL(dir, f.links.url)
	if err != nil {
		return nil, fmt.Errorf("%w (--approvals-url)", err)
	}
	key, err := approvals.LoadOrCreateKey(f.links.keyFile)
	if err != nil {
		return nil, err
	}
	return &devPages{f: f, dir: dir, base: base, key: key}, nil
}

// links is what worker.Options.ApprovalLinks takes (nil without pages).
func (p *devPages) links() func(release, person string) string {
	if p == nil {
		return nil
	}
	return approvals.Linker(p.base, p.key, p.f.links.ttl, nil)
}

// startApprovals serves the approval pages on the dev stack's client until
// ctx ends, and says where (or why not).
func (d *devStack) startApprovals(ctx context.Context) error {
	p := d.pages
	if p == nil {
		fmt.Println("approval pages   off (--approvals, or no --directory)")
		return nil
	}
	s, err := approvals.New(approvals.Options{Client: d.client, Directory: p.dir, LinkKey: p.key, BaseURL: p.base, EnrollDir: p.f.enrollDir, Logger: d.log})
	if err != nil {
		return err
	}
	ready, failed := make(chan string, 1), make(chan error, 1)
	go func() { failed <- s.ListenAndServe(ctx, p.f.addr, func(a string) { ready <- a }) }()
	select {
	case a := <-ready:
		p.srv = s
		fmt.Printf("approval pages   %s (listening on %s; notices link here)\n", s.BaseURL(), a)
		return nil
	case err := <-failed:
		return fmt.Errorf("%w (--approvals off to run without them)", err)
	}
}
