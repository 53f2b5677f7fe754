package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/workflows"
)

// approvalsFlags are what the approval pages and their links need.
type approvalsFlags struct {
	dir     directoryFlags
	linkKey string
	baseURL string
}

func (f *approvalsFlags) add(cmd *cobra.Command) {
	f.dir.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.linkKey, "link-key", envOr("GOLIVE_APPROVALS_KEY", ".golive/approvals.key"), "file of the key that signs page links and enrollment invites, made when missing (GOLIVE_APPROVALS_KEY)")
	fl.StringVar(&f.baseURL, "base-url", os.Getenv("GOLIVE_APPROVALS_URL"), "origin the links point at, one of the directory's webauthn origins (default: the first) (GOLIVE_APPROVALS_URL)")
}

func newApprovalsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "approvals", Short: "Approval web pages: sign-offs, attestations, acks and rollbacks from a phone, signed with a passkey"}
	cmd.AddCommand(newApprovalsServeCmd(g), newApprovalsLinkCmd())
	return cmd
}

func newApprovalsServeCmd(g *globals) *cobra.Command {
	var f approvalsFlags
	var addr, enrollDir string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the approval pages (127.0.0.1:8234 by default)",
		Example: `  golive approvals serve --directory examples/directory/demo.yaml --directory-admins examples/directory/admins
  golive approvals serve --directory team.yaml --directory-admins admins --base-url https://approvals.example.org --addr 127.0.0.1:8234`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := approvals.LoadDirectory(f.dir.file, f.dir.admins, f.dir.quorum, f.dir.unsigned)
			if err != nil {
				return err
			}
			key, err := approvals.LoadOrCreateKey(f.linkKey)
			if err != nil {
				return err
			}
			c, err := g.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			s, err := approvals.New(approvals.Options{Client: c, Directory: dir, LinkKey: key, BaseURL: f.baseURL, EnrollDir: enrollDir, Logger: g.logger()})
			if err != nil {
				return err
			}
			return s.ListenAndServe(cmd.Context(), addr, func(a string) {
				fmt.Fprintf(cmd.OutOrStdout(), "approval pages listening on %s (links: %s)\n", a, s.BaseURL())
			})
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&addr, "addr", approvals.DefaultAddr, "listen address")
	cmd.Flags().StringVar(&enrollDir, "enroll-dir", ".golive/enrollments", "where each enrolled passkey's directory snippet is saved (it also marks the invite used)")
	return cmd
}

func newApprovalsLinkCmd() *cobra.Command {
	var f approvalsFlags
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:     "link RELEASE PERSON",
		Short:   "Print the signed, expiring link to a release's page for one person (what notices carry)",
		Example: "  golive approvals link demo-portal:demo carol --directory examples/directory/demo.yaml --directory-unsigned",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, key, err := linkBase(f)
			if err != nil {
				return err
			}
			l := approvals.Link{Release: workflows.ParseRelease(args[0]), Person: args[1], Expires: time.Now().Add(ttl)}
			fmt.Fprintln(cmd.OutOrStdout(), base+approvals.ReleasePath(key, l))
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().DurationVar(&ttl, "ttl", approvals.DefaultLinkTTL, "how long the link is valid")
	return cmd
}

// linkBase loads the directory (for its origins) and the link key.
func linkBase(f approvalsFlags) (string, []byte, error) {
	dir, err := approvals.LoadDirectory(f.dir.file, f.dir.admins, f.dir.quorum, f.dir.unsigned)
	if err != nil {
		return "", nil, err
	}
	base, err := approvals.BaseURL(dir, f.baseURL)
	if err != nil {
		return "", nil, err
	}
	key, err := approvals.LoadOrCreateKey(f.linkKey)
	return base, key, err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// noticeLinkFlags put links to the approval pages in the worker's notices.
type noticeLinkFlags struct {
	url     string
	keyFile string
	ttl     time.Duration
}

func (f *noticeLinkFlags) add(cmd *cobra.Command, defaultURL string) {
	fl := cmd.Flags()
	fl.StringVar(&f.url, "approvals-url", envOr("GOLIVE_APPROVALS_URL", defaultURL), "origin of the approval pages that notices link to (golive approvals serve --base-url); empty: notices carry no links (GOLIVE_APPROVALS_URL)")
	fl.StringVar(&f.keyFile, "approvals-link-key-file", envOr("GOLIVE_APPROVALS_KEY", ".golive/approvals.key"), "the approval pages' link key (their --link-key), which signs each notice's link (GOLIVE_APPROVALS_KEY)")
	fl.DurationVar(&f.ttl, "approvals-link-ttl", approvals.DefaultLinkTTL, "how long a notice's link stays valid")
}

// linker is what worker.Options.ApprovalLinks takes; nil without --approvals-url.
func (f noticeLinkFlags) linker() (func(release, person string) string, error) {
	if f.url == "" {
		return nil, nil
	}
	key, err := approvals.LoadOrCreateKey(f.keyFile)
	if err != nil {
		return nil, fmt.Errorf("--approvals-link-key-file: %w", err)
	}
	return approvals.Linker(f.url, key, f.ttl, nil), nil
}
