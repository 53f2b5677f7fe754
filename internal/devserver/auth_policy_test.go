package devserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"testing"

	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
	"google.golang.org/grpc/credentials"

	"github.com/golive/golive/internal/devserver"
)

// verified is what the frontend's TLS stack hands the claim mapper for cert.
func verified(cert *x509.Certificate) *authorization.AuthInfo {
	if cert == nil {
		return &authorization.AuthInfo{AuthToken: "Bearer something"}
	}
	return &authorization.AuthInfo{TLSSubject: &cert.Subject, TLSConnection: &credentials.TLSInfo{
		State: tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{cert}}}}}
}

// TestClientAccessPolicy: which certificate may call which API, through
// golive's claim mapper and authorizer together.
func TestClientAccessPolicy(t *testing.T) {
	ca := newTestCA(t, "dev CA")
	n := 0
	issue := func(subject pkix.Name) *x509.Certificate {
		n++
		certFile, keyFile := ca.issue(fmt.Sprint("client", n), &x509.Certificate{Subject: subject})
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		return pair.Leaf
	}
	cn := func(s string) *x509.Certificate { return issue(pkix.Name{CommonName: s}) }
	internal := cn("golive-dev-internal")
	twoNames := issue(pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "ops"}, {Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "rosa"}}})
	mapper, err := devserver.NewClaimMapper("releases", map[string]devserver.Access{
		"golive-worker": devserver.AccessWorker, "rosa": devserver.AccessWriter, "ops": devserver.AccessReader,
	}, internal)
	if err != nil {
		t.Fatal(err)
	}
	authz := devserver.NewAuthorizer()
	const (
		wf, op = api.WorkflowServicePrefix, api.OperatorServicePrefix
		allow  = authorization.DecisionAllow
		deny   = authorization.DecisionDeny
	)
	for _, tc := range []struct {
		who       string
		cert      *x509.Certificate
		apiName   string
		namespace string
		want      authorization.Decision
	}{
		{"no certificate", nil, wf + "DescribeNamespace", "releases", deny},
		{"no certificate", nil, wf + "GetSystemInfo", "", allow},
		{"unknown", cn("mallory"), wf + "DescribeNamespace", "releases", deny},
		{"unknown", cn("mallory"), "/grpc.health.v1.Health/Check", "", allow},
		{"named like internal", cn("golive-dev-internal"), wf + "DescribeNamespace", "releases", deny},
		{"two common names", twoNames, wf + "DescribeNamespace", "releases", deny},
		{"reader", cn("ops"), wf + "DescribeWorkflowExecution", "releases", allow},
		{"reader", cn("ops"), wf + "ListWorkflowExecutions", "releases", allow},
		{"reader", cn("ops"), wf + "QueryWorkflow", "releases", allow},
		{"reader", cn("ops"), wf + "StartWorkflowExecution", "releases", deny},
		{"reader", cn("ops"), wf + "SignalWorkflowExecution", "releases", deny},
		{"reader", cn("ops"), wf + "UpdateWorkflowExecution", "releases", deny},
		{"reader", cn("ops"), wf + "DescribeNamespace", "other", deny},
		{"writer", cn("rosa"), wf + "StartWorkflowExecution", "releases", allow},
		{"writer", cn("rosa"), wf + "SignalWorkflowExecution", "releases", allow},
		{"writer", cn("rosa"), wf + "UpdateWorkflowExecution", "releases", allow},
		{"writer", cn("rosa"), wf + "StartWorkflowExecution", "other", deny},
		{"writer", cn("rosa"), wf + "PollWorkflowTaskQueue", "releases", deny},
		{"writer", cn("rosa"), wf + "RespondWorkflowTaskCompleted", "releases", deny},
		{"writer", cn("rosa"), wf + "RespondActivityTaskCompletedById", "releases", deny},
		{"writer", cn("rosa"), op + "AddSearchAttributes", "releases", deny},
		{"writer", cn("rosa"), wf + "ListNamespaces", "", deny},
		{"worker", cn("golive-worker"), wf + "PollWorkflowTaskQueue", "releases", allow},
		{"worker", cn("golive-worker"), wf + "RespondWorkflowTaskCompleted", "releases", allow},
		{"worker", cn("golive-worker"), wf + "PollActivityTaskQueue", "releases", allow},
		{"worker", cn("golive-worker"), wf + "StartWorkflowExecution", "releases", allow},
		{"worker", cn("golive-worker"), wf + "PollWorkflowTaskQueue", "other", deny},
		{"worker", cn("golive-worker"), op + "AddSearchAttributes", "releases", deny},
		{"internal", internal, op + "AddSearchAttributes", "releases", allow},
		{"internal", internal, wf + "PollWorkflowTaskQueue", "temporal-system", allow},
		{"internal", internal, wf + "ListNamespaces", "", allow},
	} {
		claims, err := mapper.GetClaims(verified(tc.cert))
		if err != nil {
			t.Fatalf("%s: GetClaims: %v", tc.who, err)
		}
		r, err := authz.Authorize(t.Context(), claims, &authorization.CallTarget{APIName: tc.apiName, Namespace: tc.namespace})
		if err != nil || r.Decision != tc.want {
			t.Errorf("%s %s on %q: decision %v (reason %q), %v; want %v", tc.who, api.MethodName(tc.apiName), tc.namespace, r.Decision, r.Reason, err, tc.want)
		}
		if r.Decision == deny && r.Reason == "" {
			t.Errorf("%s %s: refused without a reason", tc.who, api.MethodName(tc.apiName))
		}
	}
	// A call that carried no auth information at all reaches the authorizer without claims.
	if r, _ := authz.Authorize(t.Context(), nil, &authorization.CallTarget{APIName: wf + "DescribeNamespace", Namespace: "releases"}); r.Decision != deny {
		t.Errorf("nil claims: decision %v", r.Decision)
	}
}
