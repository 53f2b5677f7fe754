// Package tlsprobe tells tests why a TLS server accepts or refuses a client,
// from what the handshake itself shows rather than from the wording of an
// error. Under TLS 1.3 a client's handshake is over before the server has
// judged its certificate, so the server's alert races the client's next write:
// the client may see "remote error: tls: certificate required", a broken pipe
// or a reset, depending on the machine's load. A probe instead records what the
// server asked for (a client certificate, from which CAs), what the client
// sent, and whether the server then kept the connection or closed it.
package tlsprobe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Verdict is what the server did with the connection once the handshake was over.
type Verdict string

const (
	// Accepted: the server kept the connection open, or sent application data.
	Accepted Verdict = "accepted"
	// Refused: the server closed the connection (with an alert or not) before sending anything.
	Refused Verdict = "refused"
)

// Probe is what one TLS connection showed.
type Probe struct {
	// CertRequested is true when the server asked for a client certificate.
	CertRequested bool
	// AcceptableCAs are the subjects (DER) of the CAs the server named in its request.
	AcceptableCAs [][]byte
	// CertSent is true when the client answered with a certificate.
	CertSent bool
	// Handshake is the client side's handshake error (nil when it completed):
	// an untrusted or misnamed server certificate shows here, typed (x509.*).
	Handshake error
	// Verdict is the server's: set when the handshake completed, and when the
	// server broke it off (TLS 1.2 judges the client's certificate within it).
	Verdict Verdict
}

// Options change what the probing client does.
type Options struct {
	// Force sends this certificate whatever CAs the server names (a Go client
	// otherwise sends none from a CA the server did not ask for).
	Force *tls.Certificate
	// Wait bounds how long the server may take to show its verdict (default 10 s);
	// a server that keeps the connection that long has accepted it.
	Wait time.Duration
}

// Dial makes one TLS connection to addr with a copy of cfg and reports what it
// showed; without NextProtos in cfg it offers ALPN h2, as a gRPC client does.
// Only a failure to reach addr at all is an error.
func Dial(ctx context.Context, addr string, cfg *tls.Config, o Options) (Probe, error) {
	var p Probe
	c := cfg.Clone()
	if c.ServerName == "" {
		c.ServerName, _, _ = net.SplitHostPort(addr)
	}
	if len(c.NextProtos) == 0 {
		c.NextProtos = []string{"h2"} // as a gRPC client offers it: gRPC servers refuse a client without
	}
	certs := c.Certificates
	c.Certificates = nil
	c.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		p.CertRequested, p.AcceptableCAs = true, cri.AcceptableCAs
		if o.Force != nil {
			p.CertSent = true
			return o.Force, nil
		}
		for i := range certs {
			if cri.SupportsCertificate(&certs[i]) == nil {
				p.CertSent = true
				return &certs[i], nil
			}
		}
		return &tls.Certificate{}, nil
	}
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return p, fmt.Errorf("probe %s: %w", addr, err)
	}
	defer raw.Close()
	conn := tls.Client(raw, c)
	if p.Handshake = conn.HandshakeContext(ctx); p.Handshake != nil {
		var mine *tls.CertificateVerificationError
		if !errors.As(p.Handshake, &mine) {
			p.Verdict = Refused // not the client's own refusal of the server: the server's
		}
		return p, nil
	}
	p.Verdict = verdict(conn, o.Wait)
	return p, nil
}

// verdict reads until the server shows what it decided.
func verdict(conn *tls.Conn, wait time.Duration) Verdict {
	if wait <= 0 {
		wait = 10 * time.Second
	}
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	n, err := conn.Read(make([]byte, 1))
	if n > 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		return Accepted
	}
	return Refused
}

// Names reports whether the server's certificate request named the CA ca.
func (p Probe) Names(ca *x509.Certificate) bool {
	for _, s := range p.AcceptableCAs {
		if bytes.Equal(s, ca.RawSubject) {
			return true
		}
	}
	return false
}

// Plaintext writes the HTTP/2 client preface in clear to addr, as a client
// without TLS would, and reports whether the server answered in TLS: with a
// TLS alert record, or by closing the connection, never with HTTP/2.
func Plaintext(ctx context.Context, addr string, wait time.Duration) (answeredTLS bool, err error) {
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, fmt.Errorf("probe %s: %w", addr, err)
	}
	defer raw.Close()
	if wait <= 0 {
		wait = 10 * time.Second
	}
	_ = raw.SetDeadline(time.Now().Add(wait))
	if _, err := raw.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")); err != nil {
		return true, nil // closed on us already
	}
	b := make([]byte, 1)
	n, err := raw.Read(b)
	switch {
	case n == 1:
		return b[0] == 0x15, nil // 0x15: a TLS alert record
	case errors.Is(err, os.ErrDeadlineExceeded):
		return false, nil
	}
	return true, nil
}
