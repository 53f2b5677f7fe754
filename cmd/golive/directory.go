package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/directory"
)

// newDirectoryCmd groups the team directory commands: the operator's file of
// people, roles, keys and per-environment policy (docs/directory.md).
func newDirectoryCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "directory",
		Short: "Verify, sign and review the team directory (people, roles, keys, per-environment policy)",
		Long: `The team directory is the worker operator's reviewed YAML file of people, roles,
SSH public keys and per-environment policy. Separation of duties and signed
inputs rest on it, never on the release spec. A change takes effect once a
quorum of admins has signed it: FILE.sig holds their signatures (SSHSIG,
namespace golive-directory, the format of ssh-keygen -Y sign).`,
	}
	cmd.AddCommand(newDirectoryVerifyCmd(g), newDirectorySignCmd(g), newDirectoryShowCmd(g))
	cmd.AddCommand(newDirectoryInviteCmd())
	return cmd
}

func newDirectoryVerifyCmd(g *globals) *cobra.Command {
	var admins string
	var quorum int
	cmd := &cobra.Command{
		Use:   "verify FILE --admins ALLOWED_SIGNERS",
		Short: "Check a directory and that a quorum of trusted admins signed it (FILE.sig)",
		Example: `  golive directory verify examples/directory/demo.yaml --admins examples/directory/admins
  golive directory verify /etc/golive/directory.yaml --admins /etc/golive/directory-admins --quorum 3 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if admins == "" {
				return fmt.Errorf("--admins is required: the allowed_signers file of the admin keys you trust")
			}
			anchor, err := os.ReadFile(admins)
			if err != nil {
				return fmt.Errorf("read admin keys: %w", err)
			}
			v, err := directory.LoadVerified(args[0], directory.VerifyOptions{Admins: string(anchor), Quorum: quorum})
			if err != nil {
				return err
			}
			return printVerified(g, cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().StringVar(&admins, "admins", os.Getenv("GOLIVE_DIRECTORY_ADMINS"), "allowed_signers file of the trusted admin keys, principal = person ID (GOLIVE_DIRECTORY_ADMINS)")
	cmd.Flags().IntVar(&quorum, "quorum", 0, "distinct admin signatures required at least (the file's quorum applies when higher; 0 means 2)")
	return cmd
}

// printVerified reports a verified directory.
func printVerified(g *globals, out io.Writer, v directory.Verified) error {
	d := v.Dir
	o, err := d.Overview()
	if err != nil {
		return err
	}
	if g.json() {
		return json.NewEncoder(out).Encode(map[string]any{
			"file": d.File, "digest": d.Digest, "signed": v.Signed, "signers": v.Signers, "fingerprints": v.Fingerprints,
			"people": len(d.People), "roles": o.RoleNames(), "environments": o.EnvironmentNames(),
		})
	}
	fmt.Fprintf(out, "%s: ok, signed by %s\n", d.File, strings.Join(v.Signers, ", "))
	fmt.Fprintf(out, "  sha256 %s\n", d.Digest)
	fmt.Fprintf(out, "  %d people, %d roles, %d environments (%s)\n", len(d.People), len(o.Roles), len(o.Environments), strings.Join(o.EnvironmentNames(), ", "))
	fmt.Fprintf(out, "  signing keys: %s\n", strings.Join(v.Fingerprints, ", "))
	return nil
}

func newDirectorySignCmd(g *globals) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "sign FILE [--key PRIVKEY] [--as ADMIN]",
		Short: "Add your admin signature to FILE.sig (replacing your earlier one)",
		Long: `sign checks FILE, signs its exact bytes with your key (namespace golive-directory)
and appends the signature to FILE.sig, replacing an earlier signature by the same
key and dropping signatures made before FILE last changed. Without --key it uses
ssh-agent and picks the key FILE lists for you (or for any admin). --as says which
admin you sign as; by default, the admin whose key it is.`,
		Example: `  golive directory sign /etc/golive/directory.yaml --key ~/.ssh/id_ed25519
  chmod 600 examples/directory/keys/*   # ssh-keygen and ssh-add insist; golive does not
  golive directory sign examples/directory/demo.yaml --key examples/directory/keys/olivia --as olivia`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			admin := os.Getenv("GOLIVE_USER")
			if cmd.Flags().Changed("as") {
				admin = g.as
			}
			d, err := directory.Load(args[0])
			if err != nil {
				return fmt.Errorf("refusing to sign an invalid directory:\n%w", err)
			}
			src := approval.KeySource{File: key, Passphrase: terminalPassphrase(key)}
			if key == "" {
				src.PublicKey = adminKeys(d, admin) // picks the agent's admin key; SignFile judges a key file
			}
			signer, closer, err := approval.OpenSigner(src)
			if err != nil {
				return fmt.Errorf("sign %s: %w", args[0], err)
			}
			defer closer.Close()
			res, err := directory.SignFile(args[0], signer, admin)
			if err != nil {
				return fmt.Errorf("sign %s: %w", args[0], err)
			}
			out := cmd.OutOrStdout()
			if g.json() {
				return json.NewEncoder(out).Encode(map[string]any{
					"file": args[0], "digest": res.Dir.Digest, "admin": res.Admin, "fingerprint": res.Fingerprint,
					"sig_file": res.SigFile, "replaced": res.Replaced, "dropped": res.Dropped, "others": res.Others,
				})
			}
			fmt.Fprintf(out, "%s: signed by %s with %s into %s\n", args[0], res.Admin, res.Fingerprint, res.SigFile)
			if res.Replaced {
				fmt.Fprintln(out, "  replaced your earlier signature")
			}
			if res.Dropped > 0 {
				fmt.Fprintf(out, "  dropped %d signature(s) made before the file last changed: those admins sign again\n", res.Dropped)
			}
			fmt.Fprintf(out, "  %d other signature(s) kept; the file needs %d distinct admins\n", res.Others, res.Dir.Quorum)
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", os.Getenv("GOLIVE_SIGNING_KEY"), "private key file to sign with (default: ssh-agent via SSH_AUTH_SOCK) (GOLIVE_SIGNING_KEY)")
	return cmd
}

// adminKeys returns the key lines d lists for admin, or for every admin when
// admin is empty: they pick the ssh-agent key to sign with.
func adminKeys(d *directory.Directory, admin string) string {
	var lines []string
	for _, a := range d.Admins {
		if p, ok := d.Person(a); ok && (admin == "" || a == admin) {
			lines = append(lines, p.Keys...)
		}
	}
	return strings.Join(lines, "\n")
}

func newDirectoryShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE",
		Short: "Show each environment's resolved policy and who holds which role, for review",
		Example: `  golive directory show examples/directory/demo.yaml
  golive directory show examples/directory/healthcare.yaml -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := directory.Load(args[0])
			if err != nil {
				return err
			}
			o, err := d.Overview()
			if err != nil {
				return err
			}
			if g.json() {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(o)
			}
			fmt.Fprint(cmd.OutOrStdout(), renderOverview(o))
			return nil
		},
	}
}

// renderOverview prints a directory for a reviewer: people, roles, then each environment.
func renderOverview(o directory.Overview) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  sha256 %s  (signatures not checked: golive directory verify)\n", o.File, o.Digest)
	fmt.Fprintf(&b, "admins: %s (quorum %d)\n\npeople\n", strings.Join(o.Admins, ", "), o.Quorum)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, p := range o.People {
		var fps []string
		for _, k := range p.Keys {
			fps = append(fps, k.Fingerprint)
		}
		for _, k := range p.Passkeys {
			fps = append(fps, k.Fingerprint+" ("+k.Label+")")
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", p.ID, p.Name, strings.Join(p.Roles, ", "), strings.Join(fps, " "))
	}
	w.Flush()
	b.WriteString("\nroles\n")
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range o.RoleNames() {
		fmt.Fprintf(w, "  %s\t%s\n", r, strings.Join(o.Roles[r], ", "))
	}
	w.Flush()
	for _, env := range o.EnvironmentNames() {
		v := o.Environments[env]
		fmt.Fprintf(&b, "\nenvironment %s\n", env)
		renderPolicy(&b, o, v.Policy, "  ")
		for _, svc := range slices.Sorted(maps.Keys(v.Services)) {
			fmt.Fprintf(&b, "  service %s\n", svc)
			renderPolicy(&b, o, v.Services[svc], "    ")
		}
	}
	return b.String()
}

func renderPolicy(b *strings.Builder, o directory.Overview, p directory.Policy, indent string) {
	w := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "%ssignatures\t%s\n", indent, p.Signatures)
	for _, f := range []struct {
		name  string
		roles []string
	}{{"start", p.Start}, {"steer", p.Steer}, {"rollback", p.Rollback}} {
		fmt.Fprintf(w, "%s%s\t%s\n", indent, f.name, holders(o, f.roles))
	}
	for _, block := range slices.Sorted(maps.Keys(p.Signoffs)) {
		for _, slot := range slices.Sorted(maps.Keys(p.Signoffs[block])) {
			fmt.Fprintf(w, "%ssign-off %s.%s\t%s\n", indent, block, slot, holders(o, []string{p.Signoffs[block][slot]}))
		}
	}
	w.Flush()
}

// holders writes "role (id, id); role (id)".
func holders(o directory.Overview, roles []string) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = fmt.Sprintf("%s (%s)", r, strings.Join(o.Roles[r], ", "))
	}
	return strings.Join(parts, "; ")
}
