//go:build !nodevserver

package main

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/grpc/codes"

	"github.com/golive/golive/workflows"
)

// issueClient writes a client certificate for the Common Name cn, signed by
// the test CA, and returns the environment a golive command connects with.
func (p *pki) issueClient(t *testing.T, cn string) map[string]string {
	t.Helper()
	der, key := leaf(t, p.caCert, p.caKey, &x509.Certificate{Subject: pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return map[string]string{
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    p.write(t, cn+".pem", pemCert(der)),
		"TEMPORAL_TLS_CLIENT_KEY_PATH":     p.write(t, cn+"-key.pem", pemKey(t, key)),
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.caPEM,
	}
}

// isPermissionDenied: the frontend refused the call (the code, not its wording).
func isPermissionDenied(err error) bool {
	var pd *serviceerror.PermissionDenied
	return errors.As(err, &pd) && serviceerror.ToStatus(err).Code() == codes.PermissionDenied
}

// TestDevClientAccess starts `golive dev`'s stack from its flags, with
// --require-client-cert and --client-access, and connects through the
// environment as every golive command does: the worker certificate runs
// workflows, a writer starts them, a reader may not, a certificate the
// file does not name gets nothing, and the stack's own worker still polls.
func TestDevClientAccess(t *testing.T) {
	clearTemporalEnv(t)
	p := newPKI(t)
	access := p.write(t, "access.yaml", []byte("worker: golive-worker\npeople:\n  rosa: writer\n  ops: reader\n"))
	var f devFlags
	cmd := &cobra.Command{}
	f.add(cmd, "")
	f.tls.add(cmd)
	if err := cmd.ParseFlags([]string{"--ephemeral", "--listen", "127.0.0.1:0", "--ui", "127.0.0.1:0",
		"--tls-cert", p.serverCert, "--tls-key", p.serverKey, "--tls-client-ca", p.caPEM, "--require-client-cert",
		"--tls-internal-cert", p.internalCert, "--tls-internal-key", p.internalKey, "--client-access", access}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := startDev(t.Context(), f, log)
	if err != nil {
		t.Fatalf("start dev stack with client access: %v", err)
	}
	t.Cleanup(d.stop)
	base := map[string]string{"TEMPORAL_ADDRESS": d.srv.FrontendAddress(), "TEMPORAL_NAMESPACE": "default"}
	as := func(t *testing.T, env map[string]string) client.Client {
		t.Helper()
		setEnv(t, base)
		setEnv(t, env)
		c, _, err := dialEnv(t, &globals{})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(c.Close)
		return c
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	t.Run("worker runs what a writer starts", func(t *testing.T) {
		const queue = "golive-access-test"
		w := sdkworker.New(as(t, map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": p.clientCert,
			"TEMPORAL_TLS_CLIENT_KEY_PATH": p.clientKey, "TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.caPEM}), queue, sdkworker.Options{})
		w.RegisterWorkflow(tlsEcho)
		if err := w.Start(); err != nil {
			t.Fatalf("start worker with the golive-worker certificate: %v", err)
		}
		defer w.Stop()
		run, err := as(t, p.issueClient(t, "rosa")).ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "access-round-trip", TaskQueue: queue}, tlsEcho, "as rosa")
		if err != nil {
			t.Fatalf("writer starts: %v", err)
		}
		var got string
		if err := run.Get(ctx, &got); err != nil || got != "echo as rosa" {
			t.Fatalf("workflow result %q, %v", got, err)
		}
	})

	t.Run("reader may list but not start", func(t *testing.T) {
		c := as(t, p.issueClient(t, "ops"))
		if _, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{}); err != nil {
			t.Fatalf("reader lists: %v", err)
		}
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "access-by-reader", TaskQueue: workflows.TaskQueue}, tlsEcho, "x")
		if !isPermissionDenied(err) {
			t.Fatalf("reader starts: %v, want PermissionDenied", err)
		}
	})

	t.Run("certificate not in the file", func(t *testing.T) {
		c := as(t, p.issueClient(t, "mallory"))
		_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
		if !isPermissionDenied(err) {
			t.Fatalf("unknown certificate describes the namespace: %v, want PermissionDenied", err)
		}
	})

	// The stack's own worker connects with the internal certificate.
	t.Run("dev worker polls", func(t *testing.T) {
		c := as(t, p.issueClient(t, "ops"))
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := c.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
			if err == nil && len(resp.GetPollers()) > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("task queue %s: no poller (%v)", workflows.TaskQueue, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// TestDevClientAccessFlags: --client-access needs mutual TLS, and a bad file
// is refused before anything starts, at its line.
func TestDevClientAccessFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "access.yaml")
	if err := os.WriteFile(bad, []byte("people:\n  rosa: admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := newPKI(t)
	mtls := []string{"--tls-cert", p.serverCert, "--tls-key", p.serverKey, "--tls-client-ca", p.caPEM, "--require-client-cert",
		"--tls-internal-cert", p.internalCert, "--tls-internal-key", p.internalKey}
	devRefuses(t, []devRefusal{
		{[]string{"--client-access", bad}, []string{"--client-access", "--tls-require-client-cert"}},
		{[]string{"--tls-cert", p.serverCert, "--tls-key", p.serverKey, "--client-access", bad}, []string{"--client-access", "--require-client-cert"}},
		{append(mtls, "--client-access", bad), []string{bad + ":2:9:", `"admin"`}},
		{append(mtls, "--client-access", filepath.Join(dir, "none.yaml")), []string{"none.yaml"}},
	})
	// --require-client-cert is --tls-require-client-cert.
	var f devTLSFlags
	cmd := &cobra.Command{}
	f.add(cmd)
	if err := cmd.ParseFlags([]string{"--require-client-cert"}); err != nil || !f.requireClientCert {
		t.Fatalf("--require-client-cert: %v, requireClientCert %v", err, f.requireClientCert)
	}
}

// devRefusal is `golive dev` flags that must be refused, and what the error must name.
type devRefusal struct {
	args []string
	want []string
}

// devRefuses runs `golive dev --ephemeral` on free ports with each case's
// flags and checks the error names everything in want.
func devRefuses(t *testing.T, cases []devRefusal) {
	t.Helper()
	for _, tc := range cases {
		args := append([]string{"dev", "--ephemeral", "--listen", "127.0.0.1:0", "--ui", "127.0.0.1:0"}, tc.args...)
		err := runCmd(t, newRoot(), args...)
		if err == nil {
			t.Fatalf("golive %s: no error", strings.Join(args, " "))
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("golive %s: error %q does not name %s", strings.Join(args, " "), err, w)
			}
		}
	}
}
