package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"golang.org/x/crypto/ssh"
	"golang.org/x/term"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

// signOptions say how a command signs the human input it sends (every one does).
// addSignFlags binds them to flags.
type signOptions struct {
	// Key is the approver's private key file; empty means ssh-agent ($SSH_AUTH_SOCK).
	Key string
	// PublicKey is the approver's registered public key: an OpenSSH public key
	// line, or the path of a file holding one (~/.ssh/id_ed25519.pub) or
	// allowed_signers entries. It picks the agent's key when the agent holds
	// several, and refuses a --key file that is not the registered key.
	PublicKey string
	// Unsigned sends the sign-off without a signature (refused where the spec
	// sets require_signed).
	Unsigned bool
}

// addSignFlags adds --key, --public-key and --unsigned to a command that sends a human input.
// GOLIVE_SIGNING_KEY and GOLIVE_PUBLIC_KEY give their defaults.
func addSignFlags(cmd *cobra.Command, o *signOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Key, "key", os.Getenv("GOLIVE_SIGNING_KEY"), "private key file to sign with (default: ssh-agent via SSH_AUTH_SOCK) (GOLIVE_SIGNING_KEY)")
	f.StringVar(&o.PublicKey, "public-key", os.Getenv("GOLIVE_PUBLIC_KEY"), "your registered public key, or a file holding it; picks the ssh-agent key (GOLIVE_PUBLIC_KEY)")
	f.BoolVar(&o.Unsigned, "unsigned", false, "send without a signature (accepted only where the team directory's policy allows unsigned inputs)")
}

// signStatement signs the sign-off s for release (a workflow ID or "svc:env")
// in place: it sets s.Signature and s.SignedAt, and returns the run ID it
// signed for. Send the Update to exactly that run (UpdateWorkflowOptions.RunID),
// so a release restarted in between refuses the sign-off instead of counting
// it. With o.Unsigned it changes nothing and returns "".
//
// It reads the release's current run (DescribeWorkflowExecution) and its status
// (the status query on that run) to fill the approval.Statement the workflow
// will rebuild: workflow ID, run ID, the open sign-off block (the block of the
// slot named by s.Slot, or of the waiting slots), s.Slot as given (empty stays
// empty), person, decision, comment, the release's version and spec digest,
// and the signing time (now, UTC, whole seconds). The key comes from o.Key or
// ssh-agent; an encrypted key file asks for its passphrase on the terminal.
func signStatement(ctx context.Context, c client.Client, release string, s *workflows.Signoff, o signOptions) (runID string, err error) {
	if !o.wantSignature() {
		return "", nil
	}
	st, err := buildStatement(ctx, c, release, *s, time.Now())
	if err != nil {
		return "", err
	}
	sig, err := o.signWith("sign-off "+string(s.Decision), st.Person, func(signer ssh.Signer) (string, error) { return approval.Sign(signer, st) })
	if err != nil {
		return "", err
	}
	s.Signature, s.SignedAt = sig, st.SignedAt
	return st.RunID, nil
}

// buildStatement fills the statement the workflow will verify for s, signed at now.
func buildStatement(ctx context.Context, c client.Client, release string, s workflows.Signoff, now time.Time) (approval.Statement, error) {
	ref, status, err := releaseRef(ctx, c, release)
	if err != nil {
		return approval.Statement{}, err
	}
	block, err := openBlock(status, s.Slot)
	if err != nil {
		return approval.Statement{}, err
	}
	s.SignedAt = now.UTC().Truncate(time.Second)
	st := s.SignoffStatement(ref, block)
	return st, st.Validate()
}

// releaseRef reads the release's current run (DescribeWorkflowExecution) and
// its status (the status query on that run): what every statement names.
func releaseRef(ctx context.Context, c client.Client, release string) (workflows.ReleaseRef, record.Status, error) {
	id := releaseID(release)
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return workflows.ReleaseRef{}, record.Status{}, fmt.Errorf("find release %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return workflows.ReleaseRef{}, record.Status{}, fmt.Errorf("release %s is not running (%s)", id, strings.ToLower(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")))
	}
	runID := info.GetExecution().GetRunId()
	v, err := c.QueryWorkflow(ctx, id, runID, workflows.StatusQuery)
	if err != nil {
		return workflows.ReleaseRef{}, record.Status{}, fmt.Errorf("query %s: %w", id, err)
	}
	var status record.Status
	if err := v.Get(&status); err != nil {
		return workflows.ReleaseRef{}, record.Status{}, fmt.Errorf("decode status of %s: %w", id, err)
	}
	return workflows.ReleaseRef{WorkflowID: id, RunID: runID, Version: status.Version, SpecDigest: status.SpecDigest}, status, nil
}

// statementOf is an input other than a sign-off: it names what its signer signs.
type statementOf interface {
	Statement(workflows.ReleaseRef) approval.InputStatement
}

// signInput signs an input for the release's current run, as o says, and
// returns the run ID it signed for ("" when it sends the input unsigned).
// stamp sets the signing time in the input (before the statement is built)
// and then the signature.
func signInput[T statementOf](ctx context.Context, c client.Client, release string, in *T, o signOptions, stamp func(*T, string, time.Time)) (string, error) {
	if !o.wantSignature() {
		return "", nil
	}
	ref, _, err := releaseRef(ctx, c, release)
	if err != nil {
		return "", err
	}
	at := time.Now().UTC().Truncate(time.Second)
	stamp(in, "", at)
	sig, err := o.sign((*in).Statement(ref))
	if err != nil {
		return "", err
	}
	stamp(in, sig, at)
	return ref.RunID, nil
}

// wantSignature says whether to sign: not with --unsigned, and not when no key
// is anywhere (then the input goes unsigned, said on stderr; the workflow
// refuses it where the team directory requires signatures).
func (o signOptions) wantSignature() bool {
	if o.Unsigned {
		return false
	}
	if o.Key == "" && os.Getenv(approval.AgentSocketEnv) == "" {
		fmt.Fprintln(os.Stderr, "golive: no signing key (--key, GOLIVE_SIGNING_KEY or ssh-agent): sending unsigned")
		return false
	}
	return true
}

// sign signs an input statement with the key o names, and prints the key's
// fingerprint to stderr so the person sees what signed.
func (o signOptions) sign(st approval.InputStatement) (string, error) {
	if err := st.Validate(); err != nil {
		return "", err
	}
	return o.signWith(st.Input, st.Person, func(signer ssh.Signer) (string, error) { return approval.SignInput(signer, st) })
}

// signWith opens the key o names (file or ssh-agent), signs with it, and
// prints which key signed what for whom.
func (o signOptions) signWith(what, person string, sign func(ssh.Signer) (string, error)) (string, error) {
	pub, err := readPublicKey(o.PublicKey)
	if err != nil {
		return "", err
	}
	signer, closer, err := approval.OpenSigner(approval.KeySource{File: o.Key, PublicKey: pub, Passphrase: terminalPassphrase(o.Key)})
	if err != nil {
		return "", fmt.Errorf("sign the %s: %w (or pass --unsigned where the team directory allows it)", what, err)
	}
	defer closer.Close()
	sig, err := sign(signer)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "golive: %s signed by %s with %s\n", what, person, ssh.FingerprintSHA256(signer.PublicKey()))
	return sig, nil
}

// openBlock names the sign-off block a sign-off goes to: the block of the
// named slot, or the block whose slots are waiting.
func openBlock(st record.Status, slot string) (string, error) {
	var open []string
	for _, sl := range st.Slots {
		if sl.State != record.ItemWaiting {
			continue
		}
		if slot != "" && sl.ID == slot {
			return sl.Block, nil
		}
		open = append(open, sl.ID)
		if slot == "" {
			return sl.Block, nil
		}
	}
	if slot != "" && len(open) > 0 {
		return "", fmt.Errorf("slot %q is not open in %s; open slots: %s", slot, st.ReleaseID, strings.Join(open, ", "))
	}
	return "", fmt.Errorf("no sign-off is open in %s now (stage %s)", st.ReleaseID, st.Stage)
}

// readPublicKey returns v itself when it is a key line, or the content of the file it names.
func readPublicKey(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" || strings.Contains(v, " ") {
		return v, nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("--public-key: %w", err)
	}
	return string(b), nil
}

// terminalPassphrase asks for a key file's passphrase on the terminal, if there is one.
func terminalPassphrase(file string) func() ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	return func() ([]byte, error) {
		fmt.Fprintf(os.Stderr, "Passphrase for %s: ", file)
		pw, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		if len(pw) == 0 {
			return nil, errors.New("empty passphrase")
		}
		return pw, nil
	}
}
