package activities

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
)

// tlsTarget picks host:port for a tls check: the check's host, the app's domain, or the https app URL's host.
func tlsTarget(c spec.Check, app spec.App) (host, port string, err error) {
	switch {
	case c.Host != "":
		return splitHostPort(c.Host, "443")
	case app.Domain != "":
		return splitHostPort(app.Domain, "443")
	case app.URL == "":
		return "", "", errors.New("no host, no app domain and no app url")
	}
	u, err := url.Parse(app.URL)
	if err != nil {
		return "", "", fmt.Errorf("app url %q: %w", app.URL, err)
	}
	if u.Scheme != "https" {
		return "", "", fmt.Errorf("app url %s is plain %s: there is no TLS certificate to check (set the check's host or app.domain)", app.URL, u.Scheme)
	}
	port = u.Port()
	if port == "" {
		port = "443"
	}
	return u.Hostname(), port, nil
}

func splitHostPort(s, defPort string) (string, string, error) {
	if h, p, err := net.SplitHostPort(s); err == nil {
		return h, p, nil
	}
	return strings.Trim(s, "[]"), defPort, nil
}

// rootCAs returns the roots of the prober's HTTP transport (nil = system roots).
func (p *Prober) rootCAs() *x509.CertPool {
	if t, ok := p.client().Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
		return t.TLSClientConfig.RootCAs
	}
	return nil
}

func (p *Prober) checkTLS(ctx context.Context, c spec.Check, app spec.App) Result {
	host, port, err := tlsTarget(c, app)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: "tls: " + err.Error()}
	}
	addr := net.JoinHostPort(host, port)
	// Verify after the handshake ourselves, so an untrusted or expired certificate still reports its expiry.
	d := tls.Dialer{Config: &tls.Config{ServerName: host, InsecureSkipVerify: true}} //nolint:gosec // verified below
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("tls %s: %v", addr, err)}
	}
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	conn.Close()
	if len(certs) == 0 {
		return Result{State: record.ItemFailed, Detail: fmt.Sprintf("tls %s: no certificate", addr)}
	}
	leaf := certs[0]
	days := int(time.Until(leaf.NotAfter) / (24 * time.Hour))
	r := Result{Value: fmt.Sprintf("expires %s (%d days)", leaf.NotAfter.UTC().Format(time.DateOnly), days)}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	minDays := c.MinDaysValid
	if minDays <= 0 {
		minDays = defaultMinDaysValid
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: p.rootCAs(), Intermediates: inter}); err != nil {
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("tls %s: certificate not valid: %v", addr, err)
	} else if days < minDays {
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("tls %s: certificate expires in %d days, want at least %d", addr, days, minDays)
	} else {
		r.State = record.ItemPassed
	}
	if r.State == record.ItemPassed && c.CheckKind() == spec.KindTLSRenewal {
		return renewal(ctx, c, leaf, r)
	}
	return r
}

// renewal judges "auto-renewal configured": a certificate that lives at most
// max_lifetime_days is renewed by automation (nobody renews 90-day
// certificates by hand for long); a longer one needs a renewal dry run that succeeds.
func renewal(ctx context.Context, c spec.Check, leaf *x509.Certificate, r Result) Result {
	lifetime := int(leaf.NotAfter.Sub(leaf.NotBefore).Hours() / 24)
	limit := c.MaxLifetimeDays
	if limit <= 0 {
		limit = spec.DefaultMaxLifetimeDays
	}
	r.Value += fmt.Sprintf(", lifetime %d days", lifetime)
	if lifetime <= limit {
		r.Value += fmt.Sprintf(" (at most %d: automated renewal)", limit)
		return r
	}
	if len(c.RenewCommand) == 0 {
		r.State, r.Detail = record.ItemFailed, fmt.Sprintf("certificate lives %d days, more than %d, and no renew_command proves renewal", lifetime, limit)
		return r
	}
	cr := checkCommand(ctx, c.RenewCommand, orDefault(c.Timeout.D(), defaultCheckTimeout))
	if cr.State != record.ItemPassed {
		r.State, r.Detail = record.ItemFailed, "renewal command failed: "+cr.Detail
		return r
	}
	r.Value += ", renewal command succeeded"
	return r
}
