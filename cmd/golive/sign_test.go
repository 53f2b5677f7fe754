package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/temporaltest"
	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/codec"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

// stubInput starts signoffStub: the status it reports and each person's registered key.
type stubInput struct {
	Status record.Status     `json:"status"`
	Keys   map[string]string `json:"keys"`
}

// signoffStub stands in for the release workflow's sign-off handling: it answers
// the status query and verifies each signed sign-off the way the release
// workflow is meant to, with a statement it builds from its own knowledge.
func signoffStub(ctx workflow.Context, in stubInput) error {
	if err := workflow.SetQueryHandler(ctx, workflows.StatusQuery, func() (record.Status, error) { return in.Status, nil }); err != nil {
		return err
	}
	info := workflow.GetInfo(ctx)
	err := workflow.SetUpdateHandler(ctx, workflows.SignoffName, func(ctx workflow.Context, s workflows.Signoff) (workflows.InputResult, error) {
		st := approval.Statement{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, Block: "approvals",
			Slot: s.Slot, Person: s.Person, Decision: string(s.Decision), Comment: s.Comment,
			Version: in.Status.Version, SpecDigest: in.Status.SpecDigest, SignedAt: s.SignedAt,
		}
		v, err := approval.Verify(st, s.Signature, in.Keys[s.Person])
		if err == nil {
			err = approval.CheckFreshness(s.SignedAt, workflow.Now(ctx), time.Hour, 5*time.Minute)
		}
		if err != nil {
			return workflows.InputResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "SignoffRefused", nil)
		}
		return workflows.InputResult{Message: "signed by " + v.Fingerprint}, nil
	})
	if err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "stop").Receive(ctx, nil)
	return nil
}

func writeKey(t *testing.T, name string) (file, line string) {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, err := ssh.MarshalPrivateKey(priv, name)
	if err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "id_"+name)
	if err := os.WriteFile(file, pem.EncodeToMemory(blk), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(priv.Public())
	_ = os.WriteFile(file+".pub", ssh.MarshalAuthorizedKey(pub), 0o644)
	return file, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

// TestSignStatement signs with signStatement against a real in-process Temporal
// server (payloads encrypted by the codec) and has the workflow verify: the
// signed sign-off is accepted; replayed on another release, altered, signed with
// someone else's key or unsigned, it is refused.
func TestSignStatement(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	carolKey, carolPub := writeKey(t, "carol")
	malloryKey, _ := writeKey(t, "mallory")

	dc := codec.NewDataConverter(setCodecKeys(t))
	discard := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc), Logger: discard,
	}))
	ts.NewWorker("sign-test", func(r worker.Registry) { r.RegisterWorkflow(signoffStub) })
	c := ts.GetDefaultClient()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	start := func(id string) {
		in := stubInput{
			Status: record.Status{ReleaseID: id, Version: "2.4.0", SpecDigest: "sha256:abc", Stage: "approvals", Slots: []record.SlotState{
				{Block: "approvals", ID: "development_lead", State: record.ItemPassed},
				{Block: "approvals", ID: "compliance_officer", State: record.ItemWaiting},
				{Block: "completion", ID: "operations_lead", State: record.ItemPending},
			}},
			Keys: map[string]string{"carol": carolPub},
		}
		if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "sign-test"}, signoffStub, in); err != nil {
			t.Fatal(err)
		}
	}
	start("release:portal:prod")
	start("release:billing:prod")

	send := func(id, runID string, s workflows.Signoff) (workflows.InputResult, error) {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, RunID: runID, UpdateName: workflows.SignoffName, Args: []any{s}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var res workflows.InputResult
		if err == nil {
			err = h.Get(ctx, &res)
		}
		return res, err
	}
	refused := func(name string, err error, want string) {
		t.Helper()
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || !strings.Contains(app.Message(), want) {
			t.Errorf("%s: got %v, want a refusal mentioning %q", name, err, want)
			return
		}
		t.Logf("%s refused: %s", name, app.Message())
	}

	// Signed with the registered key (key file, public key given as a .pub path): accepted.
	s := workflows.Signoff{Slot: "compliance_officer", Person: "carol", Decision: workflows.Approve, Comment: "BAAs on file"}
	runID, err := signStatement(ctx, c, "portal:prod", &s, signOptions{Key: carolKey, PublicKey: carolKey + ".pub"})
	if err != nil {
		t.Fatal(err)
	}
	if runID == "" || s.Signature == "" || s.SignedAt.IsZero() {
		t.Fatalf("signStatement left run %q, signature %q, time %v", runID, s.Signature, s.SignedAt)
	}
	if res, err := send("release:portal:prod", runID, s); err != nil || !strings.Contains(res.Message, "SHA256:") {
		t.Fatalf("signed sign-off: %v %v", res, err)
	}

	// The same signed sign-off replayed on another release.
	_, err = send("release:billing:prod", "", s)
	refused("replay on another release", err, "signature does not match")

	// Altered after signing.
	altered := s
	altered.Comment = "BAAs on file, all of them"
	_, err = send("release:portal:prod", runID, altered)
	refused("altered comment", err, "signature does not match")

	// Signed by someone else's key, claiming to be carol.
	forged := workflows.Signoff{Slot: "compliance_officer", Person: "carol", Decision: workflows.Approve}
	if _, err := signStatement(ctx, c, "portal:prod", &forged, signOptions{Key: malloryKey}); err != nil {
		t.Fatal(err)
	}
	_, err = send("release:portal:prod", runID, forged)
	refused("someone else's key", err, "not a key registered for carol")

	// Unsigned.
	unsigned := workflows.Signoff{Slot: "compliance_officer", Person: "carol", Decision: workflows.Approve}
	if r, err := signStatement(ctx, c, "portal:prod", &unsigned, signOptions{Unsigned: true}); err != nil || r != "" || unsigned.Signature != "" {
		t.Fatalf("--unsigned: %q %v %q", r, err, unsigned.Signature)
	}
	_, err = send("release:portal:prod", "", unsigned)
	refused("unsigned", err, "no signature")

	// The CLI refuses early what it can see.
	bad := workflows.Signoff{Slot: "operations_lead", Person: "carol", Decision: workflows.Approve}
	if _, err := signStatement(ctx, c, "portal:prod", &bad, signOptions{Key: carolKey}); err == nil || !strings.Contains(err.Error(), "not open") {
		t.Errorf("slot of a block not open: %v", err)
	}
	if _, err := signStatement(ctx, c, "portal:prod", &workflows.Signoff{Person: "carol", Decision: workflows.Approve}, signOptions{Key: carolKey, PublicKey: strings.TrimSpace(mustRead(t, malloryKey+".pub"))}); err == nil || !strings.Contains(err.Error(), "not the key registered") {
		t.Errorf("key file that is not the registered key: %v", err)
	}
	if _, err := signStatement(ctx, c, "nothing:here", &workflows.Signoff{Person: "carol", Decision: workflows.Approve}, signOptions{Key: carolKey}); err == nil {
		t.Error("signed for a release that does not exist")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOpenBlock(t *testing.T) {
	st := record.Status{ReleaseID: "release:a:b", Stage: "approvals", Slots: []record.SlotState{
		{Block: "approvals", ID: "dev", State: record.ItemPassed},
		{Block: "approvals", ID: "ops", State: record.ItemWaiting},
		{Block: "completion", ID: "ops2", State: record.ItemPending},
	}}
	if b, err := openBlock(st, ""); err != nil || b != "approvals" {
		t.Errorf("no slot: %q %v", b, err)
	}
	if b, err := openBlock(st, "ops"); err != nil || b != "approvals" {
		t.Errorf("open slot: %q %v", b, err)
	}
	if _, err := openBlock(st, "dev"); err == nil || !strings.Contains(err.Error(), "open slots: ops") {
		t.Errorf("filled slot: %v", err)
	}
	st.Slots[1].State = record.ItemPassed
	if _, err := openBlock(st, ""); err == nil || !strings.Contains(err.Error(), "no sign-off is open") {
		t.Errorf("nothing open: %v", err)
	}
}
