package devserver

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"go.temporal.io/server/common/config"
)

// TLSConfig turns on TLS for the frontend (gRPC and HTTP API). The internal
// services (history, matching, worker) keep talking plain gRPC to each other
// on loopback, as in any single-host Temporal.
type TLSConfig struct {
	// CertFile and KeyFile are the frontend's certificate (PEM, leaf first,
	// then any intermediates) and its private key. Both are required.
	CertFile, KeyFile string
	// ClientCAFiles are PEM files of the CAs whose client certificates the
	// frontend accepts. Only meaningful, and then required, with RequireClientAuth.
	ClientCAFiles []string
	// RequireClientAuth refuses every client without a certificate signed by
	// one of ClientCAFiles (mutual TLS).
	RequireClientAuth bool
	// InternalCertFile and InternalKeyFile are the client certificate that the
	// server's own clients present when RequireClientAuth is on: its system
	// workers, the UI, the readiness check and whoever uses Server.ClientTLS.
	// Default CertFile and KeyFile, which then must be valid for client
	// authentication (extended key usage clientAuth) under ClientCAFiles.
	InternalCertFile, InternalKeyFile string
}

// ErrInternalCert is returned (wrapped) when RequireClientAuth is on and the
// certificate the server's own clients would present is not accepted by the
// frontend: without it the server's system workers could not connect.
var ErrInternalCert = errors.New("internal client certificate not accepted by the frontend")

// tlsSetup is a TLSConfig loaded and checked, in the forms the server config,
// the UI and in-process clients take.
type tlsSetup struct {
	conf TLSConfig
	// serverName is the name in-process clients verify: the dial host when the
	// certificate names it, else the certificate's first name.
	serverName string
	// leafPEM is the frontend's own certificate. In-process clients trust only
	// it (pinned), so they need no CA file and cannot be redirected.
	leafPEM []byte
	leaf    *x509.Certificate
	// client is the internal client certificate; nil unless RequireClientAuth.
	client                  *tls.Certificate
	clientPEM, clientKeyPEM []byte
}

// loadTLS reads and checks every file of c now, so a mistake is an error from
// Start rather than a failure (or an exit) inside the server.
func loadTLS(c TLSConfig, dialHost string) (*tlsSetup, error) {
	switch {
	case c.CertFile == "" || c.KeyFile == "":
		return nil, errors.New("TLS: CertFile and KeyFile are both required")
	case c.RequireClientAuth && len(c.ClientCAFiles) == 0:
		return nil, errors.New("TLS: RequireClientAuth needs at least one ClientCAFiles entry")
	case !c.RequireClientAuth && len(c.ClientCAFiles) > 0:
		// The server would ignore them; refusing says mTLS is not on.
		return nil, errors.New("TLS: ClientCAFiles without RequireClientAuth would not be checked")
	case (c.InternalCertFile == "") != (c.InternalKeyFile == ""):
		return nil, errors.New("TLS: InternalCertFile and InternalKeyFile go together")
	case c.InternalCertFile != "" && !c.RequireClientAuth:
		return nil, errors.New("TLS: InternalCertFile is only used with RequireClientAuth")
	}
	certPEM, keyPEM, pair, err := readKeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS: server certificate: %w", err)
	}
	t := &tlsSetup{conf: c, leaf: pair.Leaf, leafPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pair.Certificate[0]})}
	if t.serverName, err = nameFor(pair.Leaf, dialHost); err != nil {
		return nil, fmt.Errorf("TLS: server certificate %s: %w", c.CertFile, err)
	}
	if !c.RequireClientAuth {
		return t, nil
	}

	if err := t.loadClient(certPEM, keyPEM, pair); err != nil {
		return nil, err
	}
	return t, nil
}

// loadClient loads the internal client certificate (default the server's)
// and checks that the frontend will accept it.
func (t *tlsSetup) loadClient(certPEM, keyPEM []byte, pair tls.Certificate) error {
	c := t.conf
	cas := x509.NewCertPool()
	for _, f := range c.ClientCAFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("TLS: client CA: %w", err)
		}
		if !cas.AppendCertsFromPEM(data) {
			return fmt.Errorf("TLS: client CA %s: no PEM certificate in it", f)
		}
	}
	t.clientPEM, t.clientKeyPEM = certPEM, keyPEM
	client, clientFile := pair, c.CertFile
	if c.InternalCertFile != "" {
		var err error
		clientFile = c.InternalCertFile
		if t.clientPEM, t.clientKeyPEM, client, err = readKeyPair(c.InternalCertFile, c.InternalKeyFile); err != nil {
			return fmt.Errorf("TLS: internal client certificate: %w", err)
		}
	}
	inter := x509.NewCertPool()
	for _, der := range client.Certificate[1:] {
		if ic, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(ic)
		}
	}
	// The same check the frontend's TLS stack makes on every client.
	if _, err := client.Leaf.Verify(x509.VerifyOptions{
		Roots: cas, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return fmt.Errorf("TLS: %w: %s: %v", ErrInternalCert, clientFile, err)
	}
	t.client = &client
	return nil
}

// readKeyPair reads a PEM certificate (chain) and its key.
func readKeyPair(certFile, keyFile string) (certPEM, keyPEM []byte, pair tls.Certificate, err error) {
	if certPEM, err = os.ReadFile(certFile); err != nil {
		return nil, nil, pair, err
	}
	if keyPEM, err = os.ReadFile(keyFile); err != nil {
		return nil, nil, pair, err
	}
	if pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, nil, pair, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	if pair.Leaf == nil { // GODEBUG x509keypairleaf=0
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, nil, pair, fmt.Errorf("%s: %w", certFile, err)
		}
	}
	return certPEM, keyPEM, pair, nil
}

// nameFor picks the name in-process clients verify in the server certificate.
func nameFor(leaf *x509.Certificate, dialHost string) (string, error) {
	if leaf.VerifyHostname(dialHost) == nil {
		return dialHost, nil
	}
	if len(leaf.DNSNames) > 0 {
		return leaf.DNSNames[0], nil
	}
	if len(leaf.IPAddresses) > 0 {
		return leaf.IPAddresses[0].String(), nil
	}
	// Go (and so the SDK and the server) ignores the common name.
	return "", errors.New("names no host: add a DNS or IP subject alternative name")
}

// rootTLS is the server's TLS config: TLS on the frontend, and the settings
// the server's system workers need to reach it (they dial PublicClient).
func (t *tlsSetup) rootTLS() config.RootTLS {
	worker := config.WorkerTLS{Client: config.ClientTLS{
		ServerName: t.serverName,
		RootCAData: []string{base64.StdEncoding.EncodeToString(t.leafPEM)},
	}}
	if t.client != nil {
		worker.CertData = base64.StdEncoding.EncodeToString(t.clientPEM)
		worker.KeyData = base64.StdEncoding.EncodeToString(t.clientKeyPEM)
	}
	return config.RootTLS{
		Frontend: config.GroupTLS{Server: config.ServerTLS{
			CertFile:          t.conf.CertFile,
			KeyFile:           t.conf.KeyFile,
			ClientCAFiles:     t.conf.ClientCAFiles,
			RequireClientAuth: t.conf.RequireClientAuth,
		}},
		SystemWorker: worker,
	}
}

// clientTLS is the client config of in-process clients: the pinned server
// certificate and, with RequireClientAuth, the internal client certificate.
func (t *tlsSetup) clientTLS() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(t.leaf)
	c := &tls.Config{RootCAs: roots, ServerName: t.serverName, MinVersion: tls.VersionTLS12}
	if t.client != nil {
		c.Certificates = []tls.Certificate{*t.client}
	}
	return c
}

// uiTLS is the UI's connection to the frontend. Data rather than file fields:
// the UI's file loader logs a line on every handshake.
func (t *tlsSetup) uiTLS() uiconfig.TLS {
	c := uiconfig.TLS{
		CaData:                 base64.StdEncoding.EncodeToString(t.leafPEM),
		ServerName:             t.serverName,
		EnableHostVerification: true, // off would skip verifying the server altogether
	}
	if t.client != nil {
		c.CertData = base64.StdEncoding.EncodeToString(t.clientPEM)
		c.KeyData = base64.StdEncoding.EncodeToString(t.clientKeyPEM)
	}
	return c
}
