package approvals_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/approvals"
)

var linkKey = []byte("0123456789abcdef0123456789abcdef")

func query(t *testing.T, path string) url.Values {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestAReleaseLinkNamesOnePersonAndOneReleaseAndExpires(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	l := approvals.Link{Release: "release:demo-portal:demo", Person: "carol", Expires: now.Add(time.Hour)}
	path := approvals.ReleasePath(linkKey, l)
	if !strings.HasPrefix(path, "/r/release:demo-portal:demo?") || len(path) > 120 {
		t.Fatalf("link %q: want a short /r/<release>?p=&exp=&sig=", path)
	}
	q := query(t, path)
	got, err := approvals.CheckLink(linkKey, l.Release, q, now)
	if err != nil || got.Person != "carol" {
		t.Fatalf("valid link: %+v %v", got, err)
	}
	if _, err := approvals.CheckLink(linkKey, l.Release, q, now.Add(time.Hour)); !errors.Is(err, approvals.ErrLinkExpired) {
		t.Errorf("expired link: %v", err)
	}
	if _, err := approvals.CheckLink(linkKey, "release:billing:demo", q, now); !errors.Is(err, approvals.ErrLinkInvalid) {
		t.Errorf("link for another release: %v", err)
	}
	for name, edit := range map[string]func(url.Values){
		"another person":   func(v url.Values) { v.Set("p", "dave") },
		"a later expiry":   func(v url.Values) { v.Set("exp", "9999999999") },
		"no signature":     func(v url.Values) { v.Del("sig") },
		"a forged sig":     func(v url.Values) { v.Set("sig", "AAAAAAAAAAAAAAAAAAAAAA") },
		"a non-number exp": func(v url.Values) { v.Set("exp", "soon") },
	} {
		v := query(t, path)
		edit(v)
		if _, err := approvals.CheckLink(linkKey, l.Release, v, now); !errors.Is(err, approvals.ErrLinkInvalid) {
			t.Errorf("link edited to %s: %v", name, err)
		}
	}
	if _, err := approvals.CheckLink([]byte("another key of the same length.."), l.Release, q, now); !errors.Is(err, approvals.ErrLinkInvalid) {
		t.Errorf("another server's key: %v", err)
	}
}

func TestAnInviteIsForOnePersonAndExpires(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	in := approvals.NewInvite("carol", now, time.Hour)
	path := approvals.InvitePath(linkKey, in)
	q := query(t, path)
	if got, err := approvals.CheckInvite(linkKey, "carol", q, now); err != nil || got.Nonce != in.Nonce {
		t.Fatalf("invite: %+v %v", got, err)
	}
	if _, err := approvals.CheckInvite(linkKey, "dave", q, now); !errors.Is(err, approvals.ErrLinkInvalid) {
		t.Errorf("carol's invite used for dave: %v", err)
	}
	if _, err := approvals.CheckInvite(linkKey, "carol", q, now.Add(2*time.Hour)); !errors.Is(err, approvals.ErrLinkExpired) {
		t.Errorf("expired invite: %v", err)
	}
	// A release link is no invite, and the other way round.
	rl := query(t, approvals.ReleasePath(linkKey, approvals.Link{Release: "carol", Person: in.Nonce, Expires: in.Expires}))
	rl.Set("n", in.Nonce)
	if _, err := approvals.CheckInvite(linkKey, "carol", rl, now); !errors.Is(err, approvals.ErrLinkInvalid) {
		t.Errorf("release link as an invite: %v", err)
	}
}

func TestANoticesShortLinkNamesOnePersonAndOneReleaseExpiresAndOpensTheirPage(t *testing.T) {
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	link := approvals.Linker("http://localhost:8234", linkKey, time.Hour, func() time.Time { return now })("release:demo-portal:production", "carol")
	if !strings.HasPrefix(link, "http://localhost:8234/l/demo-portal:production/carol/") || len(link) > 80 {
		t.Fatalf("short link %q: want http://localhost:8234/l/<ref>/<person>/<code>, at most 80 characters", link)
	}
	code := link[strings.LastIndex(link, "/")+1:]
	if l, err := approvals.CheckShort(linkKey, "release:demo-portal:production", "carol", code, now); err != nil || !l.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("check: %+v %v", l, err)
	}
	for name, c := range map[string]struct{ release, person string }{"another person": {"release:demo-portal:production", "dave"}, "another release": {"release:demo-portal:demo", "carol"}} {
		if _, err := approvals.CheckShort(linkKey, c.release, c.person, code, now); !errors.Is(err, approvals.ErrLinkInvalid) {
			t.Errorf("%s: %v, want ErrLinkInvalid", name, err)
		}
	}
	if _, err := approvals.CheckShort(linkKey, "release:demo-portal:production", "carol", code, now.Add(2*time.Hour)); !errors.Is(err, approvals.ErrLinkExpired) {
		t.Errorf("expired: %v", err)
	}
	// The server redirects a valid short link to the person's release page.
	s, h := pageServer(t, bigStatus())
	short := approvals.Linker(s.BaseURL(), linkKey, time.Hour, nil)("release:demo-portal:demo", "carol")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", strings.TrimPrefix(short, s.BaseURL()), nil))
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/r/release:demo-portal:demo?") || !strings.Contains(loc, "p=carol") {
		t.Errorf("short link: %d to %q", rec.Code, loc)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", strings.Replace(strings.TrimPrefix(short, s.BaseURL()), "/carol/", "/dave/", 1), nil))
	if rec.Code != http.StatusForbidden {
		t.Errorf("short link edited to name dave: %d, want 403", rec.Code)
	}
}
