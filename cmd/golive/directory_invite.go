package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/approvals"
)

// newDirectoryInviteCmd is `golive directory invite PERSON`: a one-time
// enrollment link; the passkey it registers joins the directory through a
// signed directory change (docs/runbooks.md, "Lost passkey").
func newDirectoryInviteCmd() *cobra.Command {
	var f approvalsFlags
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "invite PERSON",
		Short: "Print a one-time link that enrolls a passkey for PERSON on the approval pages",
		Example: `  golive directory invite carol --directory examples/directory/demo.yaml --directory-admins examples/directory/admins
  # carol opens it, creates a passkey; add the printed YAML under her passkeys, then: golive directory sign`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := approvals.LoadDirectory(f.dir.file, f.dir.admins, f.dir.quorum, f.dir.unsigned)
			if err != nil {
				return err
			}
			p, ok := dir.Person(args[0])
			if !ok {
				return fmt.Errorf("%q is not a person of the team directory %s: add them first (a signed directory change)", args[0], dir.File)
			}
			base, key, err := linkBase(f)
			if err != nil {
				return err
			}
			in := approvals.NewInvite(p.ID, time.Now(), ttl)
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", base+approvals.InvitePath(key, in))
			fmt.Fprintf(cmd.ErrOrStderr(), "one-time enrollment link for %s (%s), valid until %s; send it to them only\n", p.Name, p.ID, in.Expires.UTC().Format(time.RFC3339))
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().DurationVar(&ttl, "ttl", approvals.DefaultInviteTTL, "how long the link is valid")
	return cmd
}
