//go:build !nodevserver

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
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // the SDK client compresses with gzip
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// pki is a throwaway certificate authority with a server and client
// certificates, as PEM files, plus a second ("rogue") CA nobody trusts.
type pki struct {
	dir                             string
	caPEM, rogueCAPEM               string
	serverCert, serverKey           string // SANs localhost, temporal.test, 127.0.0.1; serverAuth only
	clientCert, clientKey           string // CN golive-worker
	internalCert, internalKey       string // CN golive-dev-internal: the dev server's own clients
	rogueClientCert, rogueClientKey string // signed by the rogue CA
	serverTLS                       tls.Certificate
	caPool                          *x509.CertPool
	clientCertData, clientKeyData   []byte
	caCert                          *x509.Certificate // for issueClient
	caKey                           *ecdsa.PrivateKey
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), caPool: x509.NewCertPool()}
	caCert, caKey := newCA(t, "golive test CA")
	rogueCert, rogueKey := newCA(t, "rogue CA")
	p.caCert, p.caKey = caCert, caKey
	p.caPool.AddCert(caCert)
	p.caPEM = p.write(t, "ca.pem", pemCert(caCert.Raw))
	p.rogueCAPEM = p.write(t, "rogue-ca.pem", pemCert(rogueCert.Raw))

	srvDER, srvKey := leaf(t, caCert, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "temporal.test"},
		DNSNames:    []string{"localhost", "temporal.test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.serverCert = p.write(t, "server.pem", pemCert(srvDER))
	p.serverKey = p.write(t, "server-key.pem", pemKey(t, srvKey))
	var err error
	if p.serverTLS, err = tls.LoadX509KeyPair(p.serverCert, p.serverKey); err != nil {
		t.Fatal(err)
	}
	clientTmpl := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	}
	cliDER, cliKey := leaf(t, caCert, caKey, clientTmpl("golive-worker"))
	p.clientCertData, p.clientKeyData = pemCert(cliDER), pemKey(t, cliKey)
	p.clientCert = p.write(t, "client.pem", p.clientCertData)
	p.clientKey = p.write(t, "client-key.pem", p.clientKeyData)
	intDER, intKey := leaf(t, caCert, caKey, clientTmpl("golive-dev-internal"))
	p.internalCert = p.write(t, "internal.pem", pemCert(intDER))
	p.internalKey = p.write(t, "internal-key.pem", pemKey(t, intKey))
	rogueDER, rogueCliKey := leaf(t, rogueCert, rogueKey, clientTmpl("golive-worker"))
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

// serialNumber is a random 128-bit certificate serial, as RFC 5280 suggests.
func serialNumber(t *testing.T) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(t), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func leaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serialNumber(t)
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

// clearTemporalEnv unsets every TEMPORAL_* variable and GOLIVE_CODEC_KEYS for
// the test (restored after it).
func clearTemporalEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "TEMPORAL_") || k == "GOLIVE_CODEC_KEYS" {
			t.Setenv(k, "")
			_ = os.Unsetenv(k)
		}
	}
	// No config file from the machine running the test.
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "absent.toml"))
}

// setEnv sets each variable with a value; an empty value leaves it unset.
func setEnv(t *testing.T, env map[string]string) {
	for k, v := range env {
		if v != "" {
			t.Setenv(k, v)
		}
	}
}

// dialEnv dials with client options built exactly as every golive command
// builds them (envconfig, then flags), and checks the connection's health.
func dialEnv(t *testing.T, g *globals) (client.Client, client.Options, error) {
	t.Helper()
	g.logLevel = "warn"
	opts, err := g.clientOptions()
	if err != nil {
		return nil, opts, err
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, opts, err
	}
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		c.Close()
		return nil, opts, err
	}
	return c, opts, nil
}

// tlsEcho is the workflow of the round trip through the mTLS server.
func tlsEcho(_ workflow.Context, s string) (string, error) { return "echo " + s, nil }

// TestTLSDevServer starts `golive dev`'s stack (server, UI, golive worker)
// with mutual TLS required, then connects the way a worker in a container
// would: configured only through TEMPORAL_* variables (envconfig).
func TestTLSDevServer(t *testing.T) {
	clearTemporalEnv(t)
	p := newPKI(t)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	begin := time.Now()
	d, err := startDev(t.Context(), devFlags{ephemeral: true, address: "127.0.0.1:0", ui: "127.0.0.1:0", tls: devTLSFlags{
		cert: p.serverCert, key: p.serverKey, clientCAs: []string{p.caPEM}, requireClientCert: true,
		internalCert: p.internalCert, internalKey: p.internalKey,
	}}, log)
	if err != nil {
		t.Fatalf("start dev stack with mTLS: %v", err)
	}
	t.Cleanup(d.stop)
	t.Logf("dev stack with mTLS up in %s on %s", time.Since(begin).Round(time.Millisecond), d.srv.FrontendAddress())
	ok := map[string]string{
		"TEMPORAL_ADDRESS":                 d.srv.FrontendAddress(),
		"TEMPORAL_NAMESPACE":               "default",
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    p.clientCert,
		"TEMPORAL_TLS_CLIENT_KEY_PATH":     p.clientKey,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.caPEM,
	}

	t.Run("workflow round trip", func(t *testing.T) {
		setEnv(t, ok)
		c, opts, err := dialEnv(t, &globals{})
		if err != nil {
			t.Fatalf("connect with mTLS from the environment: %v", err)
		}
		defer c.Close()
		if opts.ConnectionOptions.TLS == nil || len(opts.ConnectionOptions.TLS.Certificates) != 1 {
			t.Fatalf("envconfig gave no client certificate: %+v", opts.ConnectionOptions)
		}
		const queue = "golive-tls-test"
		w := sdkworker.New(c, queue, sdkworker.Options{})
		w.RegisterWorkflow(tlsEcho)
		if err := w.Start(); err != nil {
			t.Fatalf("start worker over mTLS: %v", err)
		}
		defer w.Stop()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "tls-round-trip", TaskQueue: queue}, tlsEcho, "over mTLS")
		if err != nil {
			t.Fatalf("start workflow: %v", err)
		}
		var got string
		if err := run.Get(ctx, &got); err != nil || got != "echo over mTLS" {
			t.Fatalf("workflow result %q, %v", got, err)
		}
	})

	t.Run("server name", func(t *testing.T) {
		setEnv(t, ok)
		_, port, _ := net.SplitHostPort(d.srv.FrontendAddress())
		t.Setenv("TEMPORAL_ADDRESS", net.JoinHostPort("127.0.0.1", port))
		t.Setenv("TEMPORAL_TLS_SERVER_NAME", "temporal.test")
		c, _, err := dialEnv(t, &globals{})
		if err != nil {
			t.Fatalf("connect verifying the name temporal.test: %v", err)
		}
		defer c.Close()
		if _, err := c.WorkflowService().DescribeNamespace(t.Context(),
			&workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
			t.Fatalf("describe namespace: %v", err)
		}
	})

	// The UI reaches the frontend with the internal client certificate.
	t.Run("UI", func(t *testing.T) {
		url := d.srv.UIURL() + "/api/v1/namespaces/default"
		deadline := time.Now().Add(20 * time.Second)
		for {
			body, err := httpGet(t.Context(), url)
			if err == nil && strings.Contains(body, "NAMESPACE_STATE_REGISTERED") {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v %.300s", url, err, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// Each case changes the working settings. A refusal is asserted by its
	// cause (refusalCause, from what the handshake shows) and by the gRPC status of
	// the dial, never by the wording of the error: under TLS 1.3 the server's
	// alert races the client's first write, so the same refusal reads
	// "certificate required", "broken pipe" or "connection reset" by the load.
	rogue, err := tls.X509KeyPair([]byte(mustRead(t, p.rogueClientCert)), []byte(mustRead(t, p.rogueClientKey)))
	if err != nil {
		t.Fatal(err)
	}
	var unknownCA x509.UnknownAuthorityError
	var wrongName x509.HostnameError
	for _, tc := range []struct {
		name   string
		change map[string]string
		cause  refusalCause
	}{
		{"no client certificate",
			map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "", "TEMPORAL_TLS_CLIENT_KEY_PATH": "", "TEMPORAL_TLS": "true"},
			noAcceptedCertificate(p, nil)},
		// A Go client only sends a certificate from a CA the server asks for, so
		// the server sees none; the probe also sends it anyway, and is refused.
		{"client certificate from another CA",
			map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": p.rogueClientCert, "TEMPORAL_TLS_CLIENT_KEY_PATH": p.rogueClientKey},
			noAcceptedCertificate(p, &rogue)},
		{"client trusts another CA",
			map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.rogueCAPEM}, clientRefusesServer(&unknownCA)},
		{"wrong server name",
			map[string]string{"TEMPORAL_TLS_SERVER_NAME": "other.test"}, clientRefusesServer(&wrongName)},
		{"plaintext",
			map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "", "TEMPORAL_TLS_CLIENT_KEY_PATH": "", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": ""},
			plaintextToTLS},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range ok {
				env[k] = v
			}
			for k, v := range tc.change {
				env[k] = v
			}
			setEnv(t, env)
			c, opts, err := dialEnv(t, &globals{})
			if err == nil {
				c.Close()
				t.Fatal("connected")
			}
			refusedUnavailable(t, err)
			tc.cause(t, d.srv.FrontendAddress(), opts)
			t.Logf("refused: %v", err)
		})
	}

	t.Run("still serving", func(t *testing.T) {
		setEnv(t, ok)
		c, _, err := dialEnv(t, &globals{})
		if err != nil {
			t.Fatalf("connect after the refusals: %v", err)
		}
		c.Close()
	})
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func httpGet(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("status %s", resp.Status)
	}
	return string(body), nil
}

// TestTLSDevFlags: `golive dev` refuses inconsistent --tls-* flags before
// starting anything, naming the flags involved.
func TestTLSDevFlags(t *testing.T) {
	devRefuses(t, []devRefusal{
		{[]string{"--tls-cert", "server.pem"}, []string{"--tls-cert", "--tls-key"}},
		{[]string{"--tls-key", "server-key.pem"}, []string{"--tls-cert", "--tls-key"}},
		{[]string{"--tls-client-ca", "ca.pem"}, []string{"--tls-client-ca", "--tls-cert"}},
		{[]string{"--tls-cert", "s.pem", "--tls-key", "k.pem", "--tls-require-client-cert"}, []string{"--tls-require-client-cert", "--tls-client-ca"}},
		{[]string{"--tls-cert", "s.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem"}, []string{"--tls-client-ca", "--tls-require-client-cert"}},
		{[]string{"--tls-cert", "s.pem", "--tls-key", "k.pem", "--tls-client-ca", "a.pem,b.pem", "--tls-require-client-cert", "--tls-internal-cert", "i.pem"},
			[]string{"--tls-internal-cert", "--tls-internal-key"}},
	})
	// --tls-client-ca is repeatable and takes comma lists.
	var f devTLSFlags
	cmd := &cobra.Command{}
	f.add(cmd)
	if err := cmd.ParseFlags([]string{"--tls-cert", "s.pem", "--tls-key", "k.pem", "--tls-require-client-cert",
		"--tls-client-ca", "a.pem,b.pem", "--tls-client-ca", "c.pem"}); err != nil {
		t.Fatal(err)
	}
	conf, err := f.config()
	if err != nil || strings.Join(conf.ClientCAFiles, " ") != "a.pem b.pem c.pem" || !conf.RequireClientAuth {
		t.Fatalf("config %+v, %v", conf, err)
	}
}

// frontend is the part of Temporal's frontend a client needs to connect
// (GetSystemInfo and the gRPC health service), behind mTLS. It records who
// called and with which authorization header: the real server's default
// authorizer ignores API keys, so this is where TEMPORAL_API_KEY is checked.
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

// TestMTLSFromEnv passes mTLS and an API key through TEMPORAL_* variables
// (envconfig): the server sees the client certificate and
// "Authorization: Bearer <TEMPORAL_API_KEY>".
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
			setEnv(t, tc.env)
			c, opts, err := dialEnv(t, &globals{})
			if err != nil {
				t.Fatalf("connect with mTLS: %v", err)
			}
			c.Close()
			got := fe.last()
			if got.clientCN != "golive-worker" || got.authorization != "Bearer test-api-key" || opts.Namespace != "golive-prod" {
				t.Fatalf("server saw %+v, namespace %q", got, opts.Namespace)
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
	c, opts, err := dialEnv(t, &globals{profile: "prod", address: addr})
	if err != nil {
		t.Fatalf("connect with the prod profile: %v", err)
	}
	c.Close()
	if got := fe.last(); got.clientCN != "golive-worker" || got.authorization != "Bearer profile-api-key" || opts.Namespace != "golive-prod" {
		t.Fatalf("server saw %+v, namespace %q", got, opts.Namespace)
	}
	if _, _, err := dialEnv(t, &globals{profile: "staging", address: addr}); err == nil || !strings.Contains(err.Error(), "staging") {
		t.Fatalf("unknown profile: %v", err)
	}
}
