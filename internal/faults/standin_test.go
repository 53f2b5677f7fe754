package faults_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// providers are stand-ins for Resend (api.resend.com) and Twilio
// (api.twilio.com) that keep a request log, as the real providers' dashboards
// do. The worker under test is the unmodified binary: it reaches them through
// its ordinary HTTPS_PROXY setting (a CONNECT proxy that tunnels to a local TLS
// server) and trusts them through SSL_CERT_FILE (a test CA). Resend semantics
// are kept: a repeated Idempotency-Key returns the first answer and sends
// nothing. Twilio's Messages API takes no key: every request is a message.
type providers struct {
	// ProxyURL is the HTTPS_PROXY value, CAFile the SSL_CERT_FILE value for the worker.
	ProxyURL, CAFile string

	mu     sync.Mutex
	emails []emailRequest // every POST /emails, in order
	sms    []smsRequest   // every POST .../Messages.json, in order
}

// emailRequest is one Resend API call.
type emailRequest struct {
	APIKey string // the bearer token: tells the cases apart
	Key    string // Idempotency-Key
	To     string
	Event  string // the golive_event tag
	// Replay: the key was seen before, nothing was sent.
	Replay bool
}

// smsRequest is one Twilio API call (one SMS sent).
type smsRequest struct {
	Account string // the account SID in the path: tells the cases apart
	To      string
	Body    string
}

func startProviders(t *testing.T) *providers {
	t.Helper()
	ca, caKey, caPEM := newCA(t)
	leaf := newLeaf(t, ca, caKey, "api.resend.com", "api.twilio.com")
	p := &providers{CAFile: filepath.Join(t.TempDir(), "ca.pem")}
	if err := os.WriteFile(p.CAFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	api := httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	api.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	api.StartTLS()
	t.Cleanup(api.Close)

	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		host, _, _ := net.SplitHostPort(r.Host)
		if host != "api.resend.com" && host != "api.twilio.com" {
			http.Error(w, "no stand-in for "+r.Host, http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", api.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() { _, _ = io.Copy(up, buf); up.Close() }()
		go func() { _, _ = io.Copy(conn, up); conn.Close() }()
	}))
	t.Cleanup(proxy.Close)
	p.ProxyURL = proxy.URL
	return p
}

func (p *providers) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/emails":
		var in struct {
			To   []string `json:"to"`
			Tags []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"tags"`
		}
		if err := json.Unmarshal(body, &in); err != nil || len(in.To) != 1 {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"statusCode":422,"name":"validation_error","message":"bad body"}`)
			return
		}
		req := emailRequest{APIKey: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), Key: r.Header.Get("Idempotency-Key"), To: in.To[0]}
		for _, tg := range in.Tags {
			if tg.Name == "golive_event" {
				req.Event = tg.Value
			}
		}
		p.mu.Lock()
		for _, e := range p.emails {
			if e.APIKey == req.APIKey && e.Key != "" && e.Key == req.Key {
				req.Replay = true
			}
		}
		p.emails = append(p.emails, req)
		p.mu.Unlock()
		fmt.Fprintf(w, `{"id":%q}`, "em-"+shortHash(req.APIKey+"|"+req.Key+"|"+req.To))
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") && strings.HasSuffix(r.URL.Path, "/Messages.json"):
		form, _ := url.ParseQuery(string(body))
		account := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/2010-04-01/Accounts/"), "/Messages.json")
		p.mu.Lock()
		p.sms = append(p.sms, smsRequest{Account: account, To: form.Get("To"), Body: form.Get("Body")})
		n := len(p.sms)
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid":"SM%032d","status":"queued"}`, n)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"message":"no such endpoint in the stand-in"}`)
	}
}

// emailsFor returns the Resend requests made with apiKey.
func (p *providers) emailsFor(apiKey string) []emailRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []emailRequest
	for _, e := range p.emails {
		if e.APIKey == apiKey {
			out = append(out, e)
		}
	}
	return out
}

// smsFor returns the Twilio requests made on account.
func (p *providers) smsFor(account string) []smsRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []smsRequest
	for _, s := range p.sms {
		if s.Account == account {
			out = append(out, s)
		}
	}
	return out
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "golive fault harness CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
