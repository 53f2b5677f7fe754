package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // the SDK client compresses with gzip
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// pki is a throwaway certificate authority with a server and a client certificate, as PEM files.
type pki struct {
	dir                             string
	caPEM, serverCert, serverKey    string
	clientCert, clientKey           string
	rogueClientCert, rogueClientKey string // signed by another CA
	serverTLS                       tls.Certificate
	caPool                          *x509.CertPool
	clientCertData, clientKeyData   []byte
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), caPool: x509.NewCertPool()}
	caCert, caKey := newCA(t, "golive test CA")
	rogueCert, rogueKey := newCA(t, "rogue CA")
	p.caPool.AddCert(caCert)
	p.caPEM = p.write(t, "ca.pem", pemCert(caCert.Raw))

	srvDER, srvKey := leaf(t, caCert, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "temporal.test"},
		DNSNames:    []string{"temporal.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.serverCert = p.write(t, "server.pem", pemCert(srvDER))
	p.serverKey = p.write(t, "server-key.pem", pemKey(t, srvKey))
	var err error
	if p.serverTLS, err = tls.LoadX509KeyPair(p.serverCert, p.serverKey); err != nil {
		t.Fatal(err)
	}
	client := &x509.Certificate{Subject: pkix.Name{CommonName: "golive-worker"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	cliDER, cliKey := leaf(t, caCert, caKey, client)
	p.clientCertData, p.clientKeyData = pemCert(cliDER), pemKey(t, cliKey)
	p.clientCert = p.write(t, "client.pem", p.clientCertData)
	p.clientKey = p.write(t, "client-key.pem", p.clientKeyData)
	rogueDER, rogueCliKey := leaf(t, rogueCert, rogueKey, client)
	p.rogueClientCert = p.write(t, "rogue.pem", pemCert(rogueDER))
	p.rogueClientKey = p.write(t, "rogue-key.pem", pemKey(t, rogueCliKey))
	return p
}

func (p *pki) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var serial int64

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func pemKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// frontend is the part of Temporal's frontend a client needs to connect
// (GetSystemInfo and the gRPC health service), behind mTLS. It records who called.
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	mu    sync.Mutex
	calls []call
}

type call struct{ clientCN, authorization string }

func (f *frontend) GetSystemInfo(ctx context.Context, _ *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	var c call
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.PeerCertificates) > 0 {
			c.clientCN = ti.State.PeerCertificates[0].Subject.CommonName
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	c.authorization = strings.Join(md.Get("authorization"), ",")
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	return &workflowservice.GetSystemInfoResponse{ServerVersion: "1.32.0", Capabilities: &workflowservice.GetSystemInfoResponse_Capabilities{}}, nil
}

func (f *frontend) last() call {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return call{}
	}
	return f.calls[len(f.calls)-1]
}

// startMTLSFrontend serves frontend on a loopback port, requiring a client
// certificate signed by the test CA.
func startMTLSFrontend(t *testing.T, p *pki) (string, *frontend) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{p.serverTLS},
		ClientCAs:    p.caPool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	srv := grpc.NewServer(grpc.Creds(creds))
	fe := &frontend{}
	workflowservice.RegisterWorkflowServiceServer(srv, fe)
	hs := health.NewServer()
	hs.SetServingStatus("temporal.api.workflowservice.v1.WorkflowService", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), fe
}

// clearTemporalEnv unsets every TEMPORAL_* variable for the test (restored after it).
func clearTemporalEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TEMPORAL_") {
			t.Setenv(k, "")
			_ = os.Unsetenv(k)
		}
	}
	// No config file from the machine running the test.
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "absent.toml"))
}

// connect builds client options exactly as every golive command does and dials.
func connect(t *testing.T, g *globals) error {
	t.Helper()
	opts, err := g.clientOptions()
	if err != nil {
		return err
	}
	connectedNamespace = opts.Namespace
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// connectedNamespace is the namespace of the last connect.
var connectedNamespace string

// TestMTLSFromEnv connects with mTLS and an API key configured only through
// TEMPORAL_* environment variables (envconfig), as a worker in a container would.
func TestMTLSFromEnv(t *testing.T) {
	p := newPKI(t)
	addr, fe := startMTLSFrontend(t, p)
	for _, tc := range []struct {
		name string
		env  map[string]string
	}{
		{"paths", map[string]string{
			"TEMPORAL_TLS_CLIENT_CERT_PATH": p.clientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH": p.clientKey,
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.caPEM,
		}},
		{"inline PEM", map[string]string{
			"TEMPORAL_TLS_CLIENT_CERT_DATA": string(p.clientCertData), "TEMPORAL_TLS_CLIENT_KEY_DATA": string(p.clientKeyData),
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.caPEM,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearTemporalEnv(t)
			t.Setenv("TEMPORAL_ADDRESS", addr)
			t.Setenv("TEMPORAL_NAMESPACE", "golive-prod")
			t.Setenv("TEMPORAL_API_KEY", "test-api-key")
			t.Setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.test")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if err := connect(t, &globals{}); err != nil {
				t.Fatalf("connect with mTLS: %v", err)
			}
			got := fe.last()
			if got.clientCN != "golive-worker" || got.authorization != "Bearer test-api-key" || connectedNamespace != "golive-prod" {
				t.Fatalf("server saw %+v", got)
			}
		})
	}
}

// TestMTLSFromProfile connects with a TOML profile (--profile), the address
// overridden by --address as the CLI allows.
func TestMTLSFromProfile(t *testing.T) {
	p := newPKI(t)
	addr, fe := startMTLSFrontend(t, p)
	clearTemporalEnv(t)
	cfg := filepath.Join(p.dir, "temporal.toml")
	toml := `[profile.default]
address = "127.0.0.1:1"

[profile.prod]
address = "127.0.0.1:2"
namespace = "golive-prod"
api_key = "profile-api-key"

[profile.prod.tls]
client_cert_path = "` + p.clientCert + `"
client_key_path = "` + p.clientKey + `"
server_ca_cert_path = "` + p.caPEM + `"
server_name = "temporal.test"
`
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", cfg)
	if err := connect(t, &globals{profile: "prod", address: addr}); err != nil {
		t.Fatalf("connect with the prod profile: %v", err)
	}
	if got := fe.last(); got.clientCN != "golive-worker" || got.authorization != "Bearer profile-api-key" || connectedNamespace != "golive-prod" {
		t.Fatalf("server saw %+v", got)
	}
	if err := connect(t, &globals{profile: "staging", address: addr}); err == nil || !strings.Contains(err.Error(), "staging") {
		t.Fatalf("unknown profile: %v", err)
	}
}

// TestMTLSRefused: the connection fails without a client certificate, with one
// from another CA, without trusting the server's CA, and with a wrong server name.
func TestMTLSRefused(t *testing.T) {
	p := newPKI(t)
	addr, _ := startMTLSFrontend(t, p)
	base := map[string]string{
		"TEMPORAL_ADDRESS":                 addr,
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    p.clientCert,
		"TEMPORAL_TLS_CLIENT_KEY_PATH":     p.clientKey,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.caPEM,
		"TEMPORAL_TLS_SERVER_NAME":         "temporal.test",
	}
	for _, tc := range []struct {
		name   string
		change map[string]string
		want   string
	}{
		{"no client certificate", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "", "TEMPORAL_TLS_CLIENT_KEY_PATH": "", "TEMPORAL_TLS": "true"}, ""},
		{"client certificate from another CA", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": p.rogueClientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH": p.rogueClientKey}, ""},
		{"server CA not trusted", map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": ""}, "certificate"},
		{"wrong server name", map[string]string{"TEMPORAL_TLS_SERVER_NAME": "other.test"}, "certificate"},
		{"plaintext", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "", "TEMPORAL_TLS_CLIENT_KEY_PATH": "", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": "", "TEMPORAL_TLS_SERVER_NAME": ""}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearTemporalEnv(t)
			for k, v := range base {
				if c, ok := tc.change[k]; ok {
					v = c
				}
				if v != "" {
					t.Setenv(k, v)
				}
			}
			for k, v := range tc.change {
				if _, inBase := base[k]; !inBase {
					t.Setenv(k, v)
				}
			}
			err := connect(t, &globals{})
			if err == nil {
				t.Fatal("connected")
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to mention %q", err, tc.want)
			}
			t.Logf("refused: %v", err)
		})
	}
}
