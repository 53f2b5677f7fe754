package devserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/golive/golive/internal/devserver"
	"github.com/golive/golive/internal/tlsprobe"
)

// testCA issues certificates into dir, as PEM files.
type testCA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	ca := &testCA{t: t, dir: t.TempDir()}
	ca.key = newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	if ca.cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	ca.file = ca.write(name+".pem", "CERTIFICATE", der)
	return ca
}

// issue writes a certificate for tmpl and its key; it returns both paths.
func (ca *testCA) issue(name string, tmpl *x509.Certificate) (cert, key string) {
	ca.t.Helper()
	k := newKey(ca.t)
	tmpl.SerialNumber = serial(ca.t)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &k.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		ca.t.Fatal(err)
	}
	return ca.write(name+".pem", "CERTIFICATE", der), ca.write(name+"-key.pem", "PRIVATE KEY", keyDER)
}

func (ca *testCA) write(name, typ string, der []byte) string {
	path := filepath.Join(ca.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return path
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// serverTmpl names localhost only (no IP): in-process clients then verify
// "localhost" while dialling 127.0.0.1.
func serverTmpl(usages ...x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{CommonName: "dev"}, DNSNames: []string{"localhost"}, ExtKeyUsage: usages}
}

// TestTLSServerCertAsInternalClient: with mutual TLS and no separate internal
// certificate, the server certificate (valid for client auth too) serves its
// system workers, the readiness check, ClientTLS and the UI.
func TestTLSServerCertAsInternalClient(t *testing.T) {
	ca := newTestCA(t, "dev CA")
	cert, key := ca.issue("server", serverTmpl(x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth))
	s := start(t, devserver.Options{Address: "127.0.0.1:0", UIAddress: "127.0.0.1:0", Ephemeral: true,
		TLS: &devserver.TLSConfig{CertFile: cert, KeyFile: key, ClientCAFiles: []string{ca.file}, RequireClientAuth: true}})

	ctls := s.ClientTLS()
	if ctls == nil || ctls.ServerName != "localhost" || len(ctls.Certificates) != 1 {
		t.Fatalf("ClientTLS = %+v", ctls)
	}
	c, err := client.DialContext(t.Context(), client.Options{HostPort: s.FrontendAddress(),
		ConnectionOptions: client.ConnectionOptions{TLS: ctls}, Logger: sdklog.NewStructuredLogger(testLogger(t))})
	if err != nil {
		t.Fatalf("dial with ClientTLS: %v", err)
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(t.Context(),
		&workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
		t.Fatalf("describe namespace: %v", err)
	}
	eventually(t, "UI reaches the frontend", func() error {
		return get(s.UIURL()+"/api/v1/namespaces/default", "NAMESPACE_STATE_REGISTERED")
	})
	// Schedules run on the server's per-namespace system worker, which dials
	// the frontend like any client: an action taken proves it got through mTLS.
	begin := time.Now()
	h, err := c.ScheduleClient().Create(t.Context(), client.ScheduleOptions{
		ID: "tls-schedule", Spec: client.ScheduleSpec{}, TriggerImmediately: true,
		Action: &client.ScheduleWorkflowAction{ID: "tls-scheduled", Workflow: "nothing", TaskQueue: taskQueue},
	})
	if err != nil {
		t.Fatalf("create schedule: %v", err)
	}
	eventually(t, "schedule takes an action", func() error {
		d, err := h.Describe(t.Context())
		if err != nil {
			return err
		}
		if len(d.Info.RecentActions) == 0 {
			return errors.New("no action yet")
		}
		return nil
	})
	t.Logf("schedule acted after %s", time.Since(begin).Round(time.Millisecond))

	// Trusting the server is not enough: it wants a client certificate. The
	// dial fails with gRPC's Unavailable; why is asserted from the handshake
	// (tlsprobe), not from the error's wording, which the race of the server's
	// TLS 1.3 alert against the client's first write decides.
	noCert := s.ClientTLS()
	noCert.Certificates = nil
	c2, err := client.DialContext(t.Context(), client.Options{HostPort: s.FrontendAddress(),
		ConnectionOptions: client.ConnectionOptions{TLS: noCert}, Logger: sdklog.NewStructuredLogger(testLogger(t))})
	if err == nil {
		c2.Close()
		t.Fatal("connected without a client certificate")
	}
	var unavailable *serviceerror.Unavailable
	if !errors.As(err, &unavailable) {
		t.Fatalf("error without a client certificate: %v, want the gRPC status Unavailable", err)
	}
	refused, err := tlsprobe.Dial(t.Context(), s.FrontendAddress(), noCert, tlsprobe.Options{})
	if err != nil || !refused.CertRequested || refused.CertSent || refused.Verdict != tlsprobe.Refused {
		t.Fatalf("probe without a client certificate: %+v, %v; want one asked for, none sent, refused", refused, err)
	}
	accepted, err := tlsprobe.Dial(t.Context(), s.FrontendAddress(), s.ClientTLS(), tlsprobe.Options{})
	if err != nil || !accepted.CertSent || accepted.Verdict != tlsprobe.Accepted {
		t.Fatalf("probe with the client certificate: %+v, %v", accepted, err)
	}
}

// TestTLSBadOptions: TLS mistakes are errors from Start, before the server
// runs, rather than failures inside it.
func TestTLSBadOptions(t *testing.T) {
	ca := newTestCA(t, "dev CA")
	other := newTestCA(t, "other CA")
	cert, key := ca.issue("server", serverTmpl(x509.ExtKeyUsageServerAuth))
	noName, noNameKey := ca.issue("noname", &x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}})
	foreign, foreignKey := other.issue("foreign", &x509.Certificate{Subject: pkix.Name{CommonName: "x"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	for _, tc := range []struct {
		name string
		tls  devserver.TLSConfig
		want string
		is   error
	}{
		{"key missing", devserver.TLSConfig{CertFile: cert}, "CertFile and KeyFile", nil},
		{"unreadable cert", devserver.TLSConfig{CertFile: filepath.Join(t.TempDir(), "none.pem"), KeyFile: key}, "none.pem", nil},
		{"cert and key mismatch", devserver.TLSConfig{CertFile: cert, KeyFile: foreignKey}, "private key does not match", nil},
		{"no subject alternative name", devserver.TLSConfig{CertFile: noName, KeyFile: noNameKey}, "names no host", nil},
		{"client auth without CA", devserver.TLSConfig{CertFile: cert, KeyFile: key, RequireClientAuth: true}, "ClientCAFiles", nil},
		{"CA without client auth", devserver.TLSConfig{CertFile: cert, KeyFile: key, ClientCAFiles: []string{ca.file}}, "RequireClientAuth", nil},
		{"CA file not PEM", devserver.TLSConfig{CertFile: cert, KeyFile: key, RequireClientAuth: true, ClientCAFiles: []string{key}}, "no PEM certificate", nil},
		// serverAuth only: the server's own clients could not authenticate.
		{"server cert not for client auth", devserver.TLSConfig{CertFile: cert, KeyFile: key, RequireClientAuth: true, ClientCAFiles: []string{ca.file}},
			"incompatible key usage", devserver.ErrInternalCert},
		{"internal cert from another CA", devserver.TLSConfig{CertFile: cert, KeyFile: key, RequireClientAuth: true, ClientCAFiles: []string{ca.file},
			InternalCertFile: foreign, InternalKeyFile: foreignKey}, "unknown authority", devserver.ErrInternalCert},
		{"internal cert without key", devserver.TLSConfig{CertFile: cert, KeyFile: key, RequireClientAuth: true, ClientCAFiles: []string{ca.file},
			InternalCertFile: foreign}, "InternalKeyFile", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := devserver.Start(t.Context(), devserver.Options{Address: "127.0.0.1:0", NoUI: true, Ephemeral: true, TLS: &tc.tls})
			if err == nil {
				s.Stop()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("error %q, want it to contain %q (is %v)", err, tc.want, tc.is)
			}
		})
	}
}

// TestTLSPlaintextRefused: with TLS on (no client auth) a plaintext client
// gets nowhere, and ClientTLS trusts only the server's own certificate.
func TestTLSPlaintextRefused(t *testing.T) {
	ca := newTestCA(t, "dev CA")
	cert, key := ca.issue("server", serverTmpl(x509.ExtKeyUsageServerAuth))
	s := start(t, devserver.Options{Address: "127.0.0.1:0", NoUI: true, Ephemeral: true,
		TLS: &devserver.TLSConfig{CertFile: cert, KeyFile: key}})
	if ctls := s.ClientTLS(); ctls == nil || len(ctls.Certificates) != 0 {
		t.Fatalf("ClientTLS = %+v, want a config without client certificate", ctls)
	}
	conn, err := tls.Dial("tcp", s.FrontendAddress(), s.ClientTLS())
	if err != nil {
		t.Fatalf("TLS handshake with ClientTLS: %v", err)
	}
	if got := conn.ConnectionState().PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != "localhost" {
		t.Fatalf("server certificate names %v", got)
	}
	conn.Close()
	_, err = client.DialContext(t.Context(), client.Options{HostPort: s.FrontendAddress(),
		Logger: sdklog.NewStructuredLogger(testLogger(t))})
	if err == nil {
		t.Fatal("plaintext client connected")
	}
	t.Logf("plaintext refused: %v", err)
}
