package tlsprobe_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/golive/golive/internal/tlsprobe"
)

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) *ca {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &ca{cert, key, pool}
}

func (c *ca) issue(t *testing.T, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// mtlsServer requires a client certificate from ca; an accepted client gets one byte and an open connection.
func mtlsServer(t *testing.T, serverCA, clientCA *ca) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCA.issue(t, x509.ExtKeyUsageServerAuth)},
		ClientCAs: clientCA.pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				if err := c.(*tls.Conn).Handshake(); err != nil {
					c.Close()
					return
				}
				_, _ = c.Write([]byte("x"))
				t.Cleanup(func() { c.Close() })
			}()
		}
	}()
	return ln.Addr().String()
}

func TestAProbeShowsWhyTheServerRefusedOrAccepted(t *testing.T) {
	good, rogue := newCA(t, "good CA"), newCA(t, "rogue CA")
	addr := mtlsServer(t, good, good)
	base := &tls.Config{RootCAs: good.pool, ServerName: "127.0.0.1"}
	withCert := base.Clone()
	withCert.Certificates = []tls.Certificate{good.issue(t, x509.ExtKeyUsageClientAuth)}
	rogueCert := rogue.issue(t, x509.ExtKeyUsageClientAuth)
	untrusting := base.Clone()
	untrusting.RootCAs = rogue.pool
	ctx := context.Background()
	for _, tc := range []struct {
		name           string
		cfg            *tls.Config
		o              tlsprobe.Options
		sent           bool
		verdict        tlsprobe.Verdict
		untrustedCAErr bool
	}{
		{"no certificate", base, tlsprobe.Options{}, false, tlsprobe.Refused, false},
		{"a certificate of the CA asked for", withCert, tlsprobe.Options{}, true, tlsprobe.Accepted, false},
		{"a certificate of another CA, forced", base, tlsprobe.Options{Force: &rogueCert}, true, tlsprobe.Refused, false},
		{"the server's CA not trusted", untrusting, tlsprobe.Options{}, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 20 { // the same answer every time, whatever the timing
				p, err := tlsprobe.Dial(ctx, addr, tc.cfg, tc.o)
				if err != nil {
					t.Fatal(err)
				}
				var unknown x509.UnknownAuthorityError
				if tc.untrustedCAErr {
					if !errors.As(p.Handshake, &unknown) {
						t.Fatalf("handshake: %v, want x509.UnknownAuthorityError", p.Handshake)
					}
					continue
				}
				if !p.CertRequested || !p.Names(good.cert) || p.CertSent != tc.sent || p.Verdict != tc.verdict {
					t.Fatalf("%+v, want requested from the good CA, sent %v, %s", p, tc.sent, tc.verdict)
				}
			}
		})
	}
	t.Run("plaintext", func(t *testing.T) {
		answeredTLS, err := tlsprobe.Plaintext(ctx, addr, 0)
		if err != nil || !answeredTLS {
			t.Fatalf("answered in TLS: %v, %v", answeredTLS, err)
		}
	})
}
