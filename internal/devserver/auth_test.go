package devserver_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/common/authorization"
	"google.golang.org/grpc/codes"

	"github.com/golive/golive/internal/devserver"
)

// clientTmpl is a client certificate for the Common Name cn.
func clientTmpl(cn string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
}

// dialAs connects to s with a new certificate for tmpl issued by ca.
func dialAs(t *testing.T, s *devserver.Server, ca *testCA, name string, tmpl *x509.Certificate) client.Client {
	t.Helper()
	certFile, keyFile := ca.issue(name, tmpl)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	conf := s.ClientTLS()
	conf.Certificates = []tls.Certificate{pair}
	c, err := client.DialContext(t.Context(), client.Options{HostPort: s.FrontendAddress(), Namespace: s.Namespace(),
		ConnectionOptions: client.ConnectionOptions{TLS: conf}, Logger: sdklog.NewStructuredLogger(testLogger(t))})
	if err != nil {
		t.Fatalf("dial as %s: %v", name, err)
	}
	t.Cleanup(c.Close)
	return c
}

// denied fails the test unless err is the frontend's PermissionDenied.
func denied(t *testing.T, what string, err error) {
	t.Helper()
	var pd *serviceerror.PermissionDenied
	if !errors.As(err, &pd) || serviceerror.ToStatus(err).Code() != codes.PermissionDenied {
		t.Fatalf("%s: error %v (%T), want PermissionDenied", what, err, err)
	}
	t.Logf("%s refused: %s", what, pd.Reason)
}

// signalAndWait sends awaitThenUpsert's "go" signal with stage through c and
// waits for the run to return that stage.
func signalAndWait(ctx context.Context, t *testing.T, c client.Client, run client.WorkflowRun, stage string) {
	t.Helper()
	if err := c.SignalWorkflow(ctx, run.GetID(), "", "go", stage); err != nil {
		t.Fatalf("signal: %v", err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != stage {
		t.Fatalf("result %q, %v; want %q", got, err, stage)
	}
}

// TestClientAccessByCertificateCommonName runs one dev server with mutual
// TLS and a client access list, and calls it with certificates of the
// same CA for each access, for a name the list does not hold, and with the
// server's own internal certificate.
func TestClientAccessByCertificateCommonName(t *testing.T) {
	ca := newTestCA(t, "dev CA")
	srvCert, srvKey := ca.issue("server", serverTmpl(x509.ExtKeyUsageServerAuth))
	intCert, intKey := ca.issue("internal", clientTmpl("golive-dev-internal"))
	s := start(t, devserver.Options{Address: "127.0.0.1:0", UIAddress: "127.0.0.1:0", Ephemeral: true,
		SearchAttributes: []string{"GoliveService", "GoliveStage"},
		TLS: &devserver.TLSConfig{CertFile: srvCert, KeyFile: srvKey, ClientCAFiles: []string{ca.file}, RequireClientAuth: true,
			InternalCertFile: intCert, InternalKeyFile: intKey},
		ClientAccess: map[string]devserver.Access{
			"golive-worker": devserver.AccessWorker, "rosa": devserver.AccessWriter, "ops": devserver.AccessReader,
		}})
	ns := s.Namespace()
	workerC := dialAs(t, s, ca, "worker", clientTmpl("golive-worker"))
	writer := dialAs(t, s, ca, "rosa", clientTmpl("rosa"))
	reader := dialAs(t, s, ca, "ops", clientTmpl("ops"))
	w := worker.New(workerC, taskQueue, worker.Options{})
	w.RegisterWorkflow(upsertStage)
	w.RegisterWorkflow(awaitThenUpsert)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker with the worker certificate: %v", err)
	}
	t.Cleanup(w.Stop)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	t.Run("writer starts and signals, the worker runs it", func(t *testing.T) {
		run, err := writer.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "access-writer", TaskQueue: taskQueue}, awaitThenUpsert)
		if err != nil {
			t.Fatalf("writer starts: %v", err)
		}
		signalAndWait(ctx, t, writer, run, "deploy")
	})

	t.Run("reader lists, describes and queries but may not start or signal", func(t *testing.T) {
		run, err := writer.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "access-reader", TaskQueue: taskQueue}, awaitThenUpsert)
		if err != nil {
			t.Fatalf("writer starts: %v", err)
		}
		eventually(t, "reader lists it", func() error { return listed(ctx, reader, "WorkflowId = 'access-reader'", "access-reader") })
		if _, err := reader.DescribeWorkflowExecution(ctx, run.GetID(), ""); err != nil {
			t.Fatalf("reader describes: %v", err)
		}
		v, err := reader.QueryWorkflow(ctx, run.GetID(), "", "state")
		var state string
		if err != nil || v.Get(&state) != nil || state != "waiting" {
			t.Fatalf("reader queries: %q, %v", state, err)
		}
		_, err = reader.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "access-by-reader", TaskQueue: taskQueue}, awaitThenUpsert)
		denied(t, "reader StartWorkflowExecution", err)
		denied(t, "reader SignalWorkflowExecution", reader.SignalWorkflow(ctx, run.GetID(), "", "go", "by reader"))
		signalAndWait(ctx, t, writer, run, "by writer") // the writer's stage, not the reader's
	})

	t.Run("only the worker polls task queues", func(t *testing.T) {
		for name, c := range map[string]client.Client{"writer": writer, "reader": reader} {
			_, err := c.WorkflowService().PollWorkflowTaskQueue(ctx, &workflowservice.PollWorkflowTaskQueueRequest{
				Namespace: ns, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue}, Identity: name})
			denied(t, name+" PollWorkflowTaskQueue", err)
			_, err = c.WorkflowService().PollActivityTaskQueue(ctx, &workflowservice.PollActivityTaskQueueRequest{
				Namespace: ns, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue}, Identity: name})
			denied(t, name+" PollActivityTaskQueue", err)
		}
		// The worker's polls got through: the task queue shows it as a poller.
		resp, err := reader.DescribeTaskQueue(ctx, taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err != nil || len(resp.GetPollers()) == 0 {
			t.Fatalf("describe task queue: %d pollers, %v", len(resp.GetPollers()), err)
		}
	})

	t.Run("unknown certificates are refused", func(t *testing.T) {
		for name, tmpl := range map[string]*x509.Certificate{
			"mallory": clientTmpl("mallory"),
			// Named like the internal certificate, but not it.
			"fake-internal": clientTmpl("golive-dev-internal"),
			"no-name":       clientTmpl(""),
		} {
			c := dialAs(t, s, ca, name, tmpl)
			_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
			denied(t, name+" DescribeNamespace", err)
			_, err = c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{})
			denied(t, name+" ListWorkflowExecutions", err)
			_, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "access-" + name, TaskQueue: taskQueue}, upsertStage, "x")
			denied(t, name+" StartWorkflowExecution", err)
		}
	})

	t.Run("admin calls need the internal certificate", func(t *testing.T) {
		add := &operatorservice.AddSearchAttributesRequest{Namespace: ns,
			SearchAttributes: map[string]enumspb.IndexedValueType{"GoliveExtra": enumspb.INDEXED_VALUE_TYPE_KEYWORD}}
		for name, c := range map[string]client.Client{"worker": workerC, "writer": writer} {
			_, err := c.OperatorService().AddSearchAttributes(ctx, add)
			denied(t, name+" AddSearchAttributes", err)
		}
		internal, err := client.DialContext(ctx, client.Options{HostPort: s.FrontendAddress(), Namespace: ns,
			ConnectionOptions: client.ConnectionOptions{TLS: s.ClientTLS()}, Logger: sdklog.NewStructuredLogger(testLogger(t))})
		if err != nil {
			t.Fatal(err)
		}
		defer internal.Close()
		if _, err := internal.OperatorService().AddSearchAttributes(ctx, add); err != nil {
			t.Fatalf("internal AddSearchAttributes: %v", err)
		}
	})

	// The server's own clients: Start returning proves the readiness check;
	// the UI reaches the frontend; a schedule's action proves the server's
	// system worker does.
	t.Run("internal clients keep working", func(t *testing.T) {
		eventually(t, "UI reaches the frontend", func() error {
			return get(s.UIURL()+"/api/v1/namespaces/default", "NAMESPACE_STATE_REGISTERED")
		})
		h, err := writer.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID: "access-schedule", Spec: client.ScheduleSpec{}, TriggerImmediately: true,
			Action: &client.ScheduleWorkflowAction{ID: "access-scheduled", Workflow: upsertStage, Args: []any{"scheduled"}, TaskQueue: taskQueue},
		})
		if err != nil {
			t.Fatalf("writer creates a schedule: %v", err)
		}
		eventually(t, "schedule takes an action", func() error {
			d, err := h.Describe(ctx)
			if err != nil {
				return err
			}
			if len(d.Info.RecentActions) == 0 {
				return errors.New("no action yet")
			}
			return nil
		})
	})
}

// TestClientAccessOptionsRefused: access options that cannot work are
// errors from Start, before the server runs.
func TestClientAccessOptionsRefused(t *testing.T) {
	ca := newTestCA(t, "dev CA")
	cert, key := ca.issue("server", serverTmpl(x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth))
	mtls := &devserver.TLSConfig{CertFile: cert, KeyFile: key, ClientCAFiles: []string{ca.file}, RequireClientAuth: true}
	access := map[string]devserver.Access{"rosa": devserver.AccessWriter}
	for _, tc := range []struct {
		name string
		o    devserver.Options
		want string
	}{
		{"without TLS", devserver.Options{ClientAccess: access}, "RequireClientAuth"},
		{"without client certificates", devserver.Options{ClientAccess: access, TLS: &devserver.TLSConfig{CertFile: cert, KeyFile: key}}, "RequireClientAuth"},
		{"unknown access", devserver.Options{TLS: mtls, ClientAccess: map[string]devserver.Access{"rosa": "admin"}}, `unknown access "admin"`},
		{"empty name", devserver.Options{TLS: mtls, ClientAccess: map[string]devserver.Access{" ": devserver.AccessReader}}, "empty Common Name"},
		{"with an authorizer", devserver.Options{TLS: mtls, ClientAccess: access,
			Authorizer: devserver.NewAuthorizer(), ClaimMapper: authorization.NewNoopClaimMapper()}, "not both"},
		{"authorizer alone", devserver.Options{Authorizer: devserver.NewAuthorizer()}, "go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Address, tc.o.NoUI, tc.o.Ephemeral = "127.0.0.1:0", true, true
			s, err := devserver.Start(t.Context(), tc.o)
			if err == nil {
				s.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
