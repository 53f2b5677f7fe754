package devserver

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.temporal.io/server/common/api"
	"go.temporal.io/server/common/authorization"
)

// Access is what a client certificate may do on the dev server's namespace.
// The certificate's subject Common Name is the person (or worker) ID it maps
// from, through Options.ClientAccess.
type Access string

const (
	// AccessWorker is for the golive worker's own certificate: read and write
	// on the namespace, and the only access (besides the server's own
	// clients) that may poll task queues and complete tasks. Whoever polls
	// the task queue runs the workflow code that verifies every proof, so a
	// person's certificate must not be able to.
	AccessWorker Access = "worker"
	// AccessWriter is for people who may start and steer releases: start,
	// signal, update, cancel, terminate, plus everything AccessReader may.
	AccessWriter Access = "writer"
	// AccessReader is for read-only operations: list, describe, count,
	// query, read histories; nothing that changes state.
	AccessReader Access = "reader"
)

// accessRoles is each Access as Temporal roles on the namespace. Temporal's
// RoleWorker sorts below RoleReader in the default authorizer's comparison,
// so the worker also holds RoleWriter; the RoleWorker bit is what
// workerOnly checks.
var accessRoles = map[Access]authorization.Role{
	AccessWorker: authorization.RoleWorker | authorization.RoleWriter,
	AccessWriter: authorization.RoleWriter,
	AccessReader: authorization.RoleReader,
}

// accesses lists the valid Access values, most powerful first.
var accesses = []Access{AccessWorker, AccessWriter, AccessReader}

// valid reports whether a is one of accesses.
func (a Access) valid() bool { _, ok := accessRoles[a]; return ok }

// authTypeMTLS is the Claims.AuthType of a certificate mapped by Common Name.
const authTypeMTLS = "mtls"

// Reasons a call is refused, returned to the caller in the PermissionDenied
// error's reason.
const (
	reasonNoCertificate = "no verified client certificate"
	reasonUnknown       = "certificate %q has no access to this server (not in the client access list)"
	reasonNotWorker     = "%s needs worker access; certificate %q has %s access"
	reasonTooLow        = "%s needs %s access to namespace %q; certificate %q has %s"
)

// NewClaimMapper returns golive's claim mapper for the dev server. It maps
// the client certificate the frontend verified: the internal client
// certificate (compared byte for byte, so no other certificate can pass for
// it whatever its name) to the server's own identity with the system admin
// role, which its system workers, the UI and the readiness check need; any
// other certificate by its subject Common Name through access to a role on
// namespace only. A Common Name not in access, a subject with no or several
// Common Names, and a call without a certificate get claims with no role.
func NewClaimMapper(namespace string, access map[string]Access, internal *x509.Certificate) (authorization.ClaimMapper, error) {
	if internal == nil {
		return nil, errors.New("client access: no internal client certificate")
	}
	if err := checkAccess(access); err != nil {
		return nil, err
	}
	return &certClaimMapper{namespace: namespace, internal: internal.Raw, access: maps.Clone(access)}, nil
}

// certClaimMapper is the ClaimMapper NewClaimMapper returns.
type certClaimMapper struct {
	namespace string
	internal  []byte // DER of the internal client certificate
	access    map[string]Access
}

// GetClaims implements authorization.ClaimMapper. It never fails: a caller
// it cannot map gets claims without a role, which the authorizer refuses
// with a reason.
func (m *certClaimMapper) GetClaims(info *authorization.AuthInfo) (*authorization.Claims, error) {
	cert := authorization.PeerCert(info.TLSConnection)
	if cert == nil {
		return &authorization.Claims{}, nil
	}
	if bytes.Equal(cert.Raw, m.internal) {
		return &authorization.Claims{
			Subject:  authorization.InternalPrincipalName,
			AuthType: authorization.InternalPrincipalType,
			System:   authorization.RoleAdmin,
		}, nil
	}
	cn, ok := commonName(cert.Subject)
	if !ok {
		return &authorization.Claims{Subject: cert.Subject.String(), AuthType: authTypeMTLS}, nil
	}
	claims := &authorization.Claims{Subject: cn, AuthType: authTypeMTLS}
	if a, found := m.access[cn]; found {
		claims.Namespaces = map[string]authorization.Role{m.namespace: accessRoles[a]}
		claims.Extensions = a
	}
	return claims, nil
}

// oidCommonName is the X.500 attribute type of a Common Name.
var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// commonName is the subject's one Common Name. A subject with several is
// refused (ok false): which one Go reports depends on their order; so is
// an empty one.
func commonName(subject pkix.Name) (cn string, ok bool) {
	n := 0
	for _, attr := range subject.Names {
		if attr.Type.Equal(oidCommonName) {
			n++
		}
	}
	return subject.CommonName, n == 1 && subject.CommonName != ""
}

// NewAuthorizer returns golive's authorizer for the dev server, for claims
// from NewClaimMapper. It allows health checks to everyone; task-queue
// polling and task completion (workerOnly) only to the worker role and the
// server's own identity; everything else by role, as the server's default
// authorizer does (admin APIs need admin, writes writer, reads reader, on
// the call's namespace or system-wide). Every other call is refused with
// PermissionDenied and a reason.
func NewAuthorizer() authorization.Authorizer {
	return &accessAuthorizer{base: authorization.NewDefaultAuthorizer()}
}

// accessAuthorizer is the Authorizer NewAuthorizer returns.
type accessAuthorizer struct{ base authorization.Authorizer }

// Authorize implements authorization.Authorizer.
func (a *accessAuthorizer) Authorize(ctx context.Context, claims *authorization.Claims, target *authorization.CallTarget) (authorization.Result, error) {
	if authorization.IsHealthCheckAPI(target.APIName) {
		return authorization.Result{Decision: authorization.DecisionAllow}, nil
	}
	if claims == nil {
		return deny(reasonNoCertificate), nil
	}
	roles := claims.System | claims.Namespaces[target.Namespace]
	listed := claims.System != authorization.RoleUndefined || len(claims.Namespaces) > 0
	access, _ := claims.Extensions.(Access)
	switch {
	case !listed && claims.AuthType != authTypeMTLS:
		return deny(reasonNoCertificate), nil
	case !listed:
		return deny(fmt.Sprintf(reasonUnknown, claims.Subject)), nil
	case isWorkerOnly(target.APIName) && roles != authorization.RoleUndefined &&
		roles&(authorization.RoleWorker|authorization.RoleAdmin) == 0:
		return deny(fmt.Sprintf(reasonNotWorker, api.MethodName(target.APIName), claims.Subject, access)), nil
	}
	r, err := a.base.Authorize(ctx, claims, target)
	if err != nil || r.Decision == authorization.DecisionAllow {
		return r, err
	}
	held := "no access there"
	if claims.Namespaces[target.Namespace] != authorization.RoleUndefined {
		held = string(access) + " access"
	}
	return deny(fmt.Sprintf(reasonTooLow, api.MethodName(target.APIName), required(target.APIName), target.Namespace, claims.Subject, held)), nil
}

func deny(reason string) authorization.Result {
	return authorization.Result{Decision: authorization.DecisionDeny, Reason: reason}
}

// required names the access an API needs, for the refusal's reason.
func required(apiName string) string {
	switch api.GetMethodMetadata(apiName).Access {
	case api.AccessReadOnly:
		return string(AccessReader)
	case api.AccessWrite:
		return string(AccessWriter)
	default:
		return "admin"
	}
}

// isWorkerOnly reports whether apiName is one of workerOnly.
func isWorkerOnly(apiName string) bool {
	return strings.HasPrefix(apiName, api.WorkflowServicePrefix) && workerOnly[api.MethodName(apiName)]
}

// workerOnly are the WorkflowService methods through which a worker takes
// and completes tasks. Temporal rates them as plain writes; golive keeps
// them to the worker, since completing a workflow task decides what the
// release workflow does.
var workerOnly = map[string]bool{
	"PollWorkflowTaskQueue":            true,
	"RespondWorkflowTaskCompleted":     true,
	"RespondWorkflowTaskFailed":        true,
	"PollActivityTaskQueue":            true,
	"RecordActivityTaskHeartbeat":      true,
	"RecordActivityTaskHeartbeatById":  true,
	"RespondActivityTaskCompleted":     true,
	"RespondActivityTaskCompletedById": true,
	"RespondActivityTaskFailed":        true,
	"RespondActivityTaskFailedById":    true,
	"RespondActivityTaskCanceled":      true,
	"RespondActivityTaskCanceledById":  true,
	"RespondQueryTaskCompleted":        true,
	"PollNexusTaskQueue":               true,
	"RespondNexusTaskCompleted":        true,
	"RespondNexusTaskFailed":           true,
	"ResetStickyTaskQueue":             true,
	"ShutdownWorker":                   true,
	"RecordWorkerHeartbeat":            true,
}

// checkAccess fails on an empty Common Name or an unknown Access.
func checkAccess(access map[string]Access) error {
	var errs []error
	for _, cn := range slices.Sorted(maps.Keys(access)) {
		a := access[cn]
		switch {
		case strings.TrimSpace(cn) == "":
			errs = append(errs, errors.New("client access: empty Common Name"))
		case !a.valid():
			errs = append(errs, fmt.Errorf("client access: %q: unknown access %q (want one of %s)", cn, a, accessList()))
		}
	}
	return errors.Join(errs...)
}

// accessList is accesses as "worker, writer, reader".
func accessList() string {
	s := make([]string, len(accesses))
	for i, a := range accesses {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// accessControl checks the access options of o against the loaded TLS
// settings (nil without TLS) and, for ClientAccess, sets Authorizer and
// ClaimMapper to golive's pair.
func (o *Options) accessControl(t *tlsSetup) error {
	switch {
	case (o.Authorizer == nil) != (o.ClaimMapper == nil):
		return errors.New("Authorizer and ClaimMapper go together: an authorizer without a claim mapper sees no claims")
	case len(o.ClientAccess) == 0:
		return nil
	case o.Authorizer != nil:
		return errors.New("ClientAccess or Authorizer and ClaimMapper, not both")
	case t == nil || t.client == nil:
		return errors.New("ClientAccess needs TLS with RequireClientAuth: it maps client certificates")
	}
	m, err := NewClaimMapper(o.Namespace, o.ClientAccess, t.client.Leaf)
	if err != nil {
		return err
	}
	o.Authorizer, o.ClaimMapper = NewAuthorizer(), m
	return nil
}
