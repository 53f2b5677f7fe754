package approvals

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/record"
)

// A link is an address, not a credential: it names one person and one
// release (or one enrollment), expires, and is signed with the server's link
// key so a notice's link cannot be edited into another person's or release's.
// Nothing happens on the page it opens without that person's passkey.

// Errors of links.
var (
	// ErrLinkExpired: the link's exp is past.
	ErrLinkExpired = errors.New("the link has expired")
	// ErrLinkInvalid: the link was altered or made with another key.
	ErrLinkInvalid = errors.New("the link is not one this server made (altered, or another server's)")
	// ErrInviteUsed: the enrollment link was already used.
	ErrInviteUsed = errors.New("the enrollment link was already used")
)

// DefaultLinkTTL is how long a notice's release link stays valid.
const DefaultLinkTTL = 72 * time.Hour

// DefaultInviteTTL is how long an enrollment link stays valid.
const DefaultInviteTTL = 24 * time.Hour

// Link is the signed part of a release link.
type Link struct {
	Release string
	Person  string
	Expires time.Time
}

// ReleasePath is the path and query of a signed link to release for person,
// "/r/<release>?p=<person>&exp=<unix>&sig=<mac>".
func ReleasePath(key []byte, l Link) string {
	exp := strconv.FormatInt(l.Expires.Unix(), 10)
	q := url.Values{"p": {l.Person}, "exp": {exp}, "sig": {mac(key, "release", l.Release, l.Person, exp)}}
	return "/r/" + url.PathEscape(l.Release) + "?" + q.Encode()
}

// ShortPath is the short form of the same link, for SMS and email:
// "/l/<release ref>/<person>/<exp base36>.<mac>", about 75 characters with
// the origin. The server checks it and redirects to ReleasePath's page.
func ShortPath(key []byte, l Link) string {
	exp := strconv.FormatInt(l.Expires.Unix(), 36)
	ref := record.ShortRelease(l.Release)
	return "/l/" + url.PathEscape(ref) + "/" + url.PathEscape(l.Person) + "/" + exp + "." + mac(key, "short", l.Release, l.Person, exp)[:16]
}

// CheckShort verifies a short link's code for release and person at now.
func CheckShort(key []byte, release, person, code string, now time.Time) (Link, error) {
	exp, sig, ok := strings.Cut(code, ".")
	unix, err := strconv.ParseInt(exp, 36, 64)
	if !ok || err != nil || !hmac.Equal([]byte(sig), []byte(mac(key, "short", release, person, exp)[:16])) {
		return Link{}, ErrLinkInvalid
	}
	l := Link{Release: release, Person: person, Expires: time.Unix(unix, 0).UTC()}
	if !now.Before(l.Expires) {
		return l, fmt.Errorf("%w (at %s)", ErrLinkExpired, l.Expires.Format(time.RFC3339))
	}
	return l, nil
}

// Linker makes the links notices carry: base (an origin of the approval
// pages) and the short signed path for one person and one release, valid for
// ttl from now (time.Now when nil). It is what activities.Notifier.Link takes.
func Linker(base string, key []byte, ttl time.Duration, now func() time.Time) func(release, person string) string {
	if now == nil {
		now = time.Now
	}
	base = strings.TrimSuffix(base, "/")
	return func(release, person string) string {
		return base + ShortPath(key, Link{Release: release, Person: person, Expires: now().Add(ttl)})
	}
}

// CheckLink verifies the p, exp and sig of a release link at now.
func CheckLink(key []byte, release string, q url.Values, now time.Time) (Link, error) {
	l, err := checkSigned(key, q, now, "release", release, q.Get("p"))
	if err != nil {
		return Link{}, err
	}
	return Link{Release: release, Person: q.Get("p"), Expires: l}, nil
}

// Invite is a one-time enrollment link for person.
type Invite struct {
	Person  string
	Nonce   string
	Expires time.Time
}

// NewInvite makes an invite for person, valid for ttl from now.
func NewInvite(person string, now time.Time, ttl time.Duration) Invite {
	n := make([]byte, 12)
	_, _ = rand.Read(n)
	return Invite{Person: person, Nonce: passkey.EncodeB64(n), Expires: now.Add(ttl).Truncate(time.Second)}
}

// InvitePath is "/enroll/<person>?n=<nonce>&exp=<unix>&sig=<mac>".
func InvitePath(key []byte, in Invite) string {
	exp := strconv.FormatInt(in.Expires.Unix(), 10)
	q := url.Values{"n": {in.Nonce}, "exp": {exp}, "sig": {mac(key, "enroll", in.Person, in.Nonce, exp)}}
	return "/enroll/" + url.PathEscape(in.Person) + "?" + q.Encode()
}

// CheckInvite verifies an enrollment link's n, exp and sig (not whether it was used).
func CheckInvite(key []byte, person string, q url.Values, now time.Time) (Invite, error) {
	exp, err := checkSigned(key, q, now, "enroll", person, q.Get("n"))
	if err != nil {
		return Invite{}, err
	}
	if q.Get("n") == "" {
		return Invite{}, ErrLinkInvalid
	}
	return Invite{Person: person, Nonce: q.Get("n"), Expires: exp}, nil
}

func checkSigned(key []byte, q url.Values, now time.Time, kind, a, b string) (time.Time, error) {
	exp := q.Get("exp")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("sig")), []byte(mac(key, kind, a, b, exp))) {
		return time.Time{}, ErrLinkInvalid
	}
	t := time.Unix(unix, 0).UTC()
	if !now.Before(t) {
		return t, fmt.Errorf("%w (at %s)", ErrLinkExpired, t.Format(time.RFC3339))
	}
	return t, nil
}

// mac is a short HMAC-SHA256 (128 bits, base64url) over the link's fields.
func mac(key []byte, fields ...string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("golive-link-v1\n" + strings.Join(fields, "\n")))
	return passkey.EncodeB64(h.Sum(nil)[:16])
}

// LoadOrCreateKey reads the link key (hex) at path, making a random one
// (mode 0600) when the file does not exist. `golive approvals serve` and
// `golive directory invite` share it.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 16 {
			return nil, fmt.Errorf("link key %s: want at least 16 bytes in hex", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("link key: %w", err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("link key: %w", err)
	}
	return key, nil
}
