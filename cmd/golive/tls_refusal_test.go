//go:build !nodevserver

package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/golive/golive/internal/tlsprobe"
)

// refusalCause asserts why the server refused a client configured as opts: the
// dial failed with gRPC's Unavailable, and a tlsprobe of the same TLS settings
// shows the cause, whatever error text the timing of a TLS alert produced.
type refusalCause func(t *testing.T, addr string, opts client.Options)

// refusedUnavailable checks the dial error's status: a refused connection is Unavailable.
func refusedUnavailable(t *testing.T, err error) {
	t.Helper()
	var unavailable *serviceerror.Unavailable
	if !errors.As(err, &unavailable) {
		t.Fatalf("error %v (%T), want the gRPC status Unavailable", err, err)
	}
}

// noAcceptedCertificate: the server asked for a certificate from our CA, got
// none it accepts (forced: this one, sent anyway) and closed the connection;
// with the right certificate the same probe is accepted.
func noAcceptedCertificate(p *pki, forced *tls.Certificate) refusalCause {
	return func(t *testing.T, addr string, opts client.Options) {
		t.Helper()
		cfg := opts.ConnectionOptions.TLS
		if cfg == nil {
			t.Fatal("golive dialled without TLS")
		}
		ca := readCert(t, p.caPEM)
		got, err := tlsprobe.Dial(t.Context(), addr, cfg, tlsprobe.Options{Force: forced})
		if err != nil {
			t.Fatal(err)
		}
		if !got.CertRequested || !got.Names(ca) || got.CertSent != (forced != nil) || got.Verdict != tlsprobe.Refused {
			t.Fatalf("probe %+v: want a certificate asked for from %s, sent %v, refused", got, ca.Subject, forced != nil)
		}
		good := cfg.Clone()
		pair, err := tls.X509KeyPair(p.clientCertData, p.clientKeyData)
		if err != nil {
			t.Fatal(err)
		}
		good.Certificates = []tls.Certificate{pair}
		if ctl, err := tlsprobe.Dial(t.Context(), addr, good, tlsprobe.Options{}); err != nil || !ctl.CertSent || ctl.Verdict != tlsprobe.Accepted {
			t.Fatalf("control with the client certificate: %+v, %v", ctl, err)
		}
	}
}

// clientRefusesServer: the client's own verification of the server's
// certificate failed with the x509 error target points to.
func clientRefusesServer[E error](target *E) refusalCause {
	return func(t *testing.T, addr string, opts client.Options) {
		t.Helper()
		got, err := tlsprobe.Dial(t.Context(), addr, opts.ConnectionOptions.TLS, tlsprobe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.As(got.Handshake, target) {
			t.Fatalf("handshake: %v, want %T", got.Handshake, *target)
		}
	}
}

// plaintextToTLS: golive dialled without TLS and the server answers only TLS.
func plaintextToTLS(t *testing.T, addr string, opts client.Options) {
	t.Helper()
	if opts.ConnectionOptions.TLS != nil {
		t.Fatal("golive dialled with TLS")
	}
	if tlsOnly, err := tlsprobe.Plaintext(t.Context(), addr, 0); err != nil || !tlsOnly {
		t.Fatalf("the server answered a plaintext client in TLS: %v, %v", tlsOnly, err)
	}
}

// readCert reads the first certificate of a PEM file.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
