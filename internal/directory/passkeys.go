package directory

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/golive/golive/internal/passkey"
)

// WebAuthn is the relying party the team's passkeys belong to: the approval
// pages' domain and the exact origins they are served from. A release pins it
// with the people, so an assertion is judged by the RP the release started with.
type WebAuthn struct {
	// RPID is the WebAuthn relying party ID: a domain, e.g. approvals.example.org or localhost.
	RPID string `yaml:"rp_id" json:"rp_id"`
	// Origins are the origins of the approval pages (https://approvals.example.org),
	// each on RPID or one of its subdomains.
	Origins []string `yaml:"origins" json:"origins"`
	// UserVerification is required (default: the authenticator must verify
	// the person, PIN or biometrics) or preferred (presence is enough).
	UserVerification string `yaml:"user_verification,omitempty" json:"user_verification,omitempty"`
}

// User verification modes of WebAuthn.UserVerification.
const (
	UserVerificationRequired  = "required"
	UserVerificationPreferred = "preferred"
)

// Passkey is one WebAuthn credential of a person, as `golive directory
// invite` enrollment prints it for the directory change.
type Passkey struct {
	// CredentialID is the credential ID, base64url.
	CredentialID string `yaml:"credential_id" json:"credential_id"`
	// PublicKey is the credential's COSE_Key, base64url (ES256 or EdDSA).
	PublicKey string `yaml:"public_key" json:"public_key"`
	// Label says which authenticator it is ("Carol's phone").
	Label string `yaml:"label" json:"label"`
	// Added is the enrollment date, YYYY-MM-DD.
	Added string `yaml:"added" json:"added"`
}

// PinnedPasskey is a passkey as a snapshot holds it, with its fingerprint:
// what passkey.VerifyAssertion takes.
type PinnedPasskey = passkey.Credential

// rpIDPattern is a lower-case DNS name (localhost included).
var rpIDPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// webauthn decodes the top-level webauthn block.
func (d *decoder) webauthn(n *yaml.Node, path string) *WebAuthn {
	w := &WebAuthn{}
	d.mapping(n, path, map[string]fieldFunc{
		"rp_id":             func(v *yaml.Node, p string) { w.RPID = d.str(v, p) },
		"origins":           func(v *yaml.Node, p string) { w.Origins = d.strings(v, p) },
		"user_verification": func(v *yaml.Node, p string) { w.UserVerification = d.str(v, p) },
	})
	return w
}

// passkeys decodes a person's passkeys list.
func (d *decoder) passkeys(n *yaml.Node, path string) []Passkey {
	if !d.isList(n, path) {
		return nil
	}
	out := make([]Passkey, len(n.Content))
	for i, c := range n.Content {
		k, at := &out[i], fmt.Sprintf("%s[%d]", path, i)
		d.nodes[at] = c
		d.mapping(c, at, map[string]fieldFunc{
			"credential_id": func(v *yaml.Node, q string) { k.CredentialID = d.str(v, q) },
			"public_key":    func(v *yaml.Node, q string) { k.PublicKey = d.str(v, q) },
			"label":         func(v *yaml.Node, q string) { k.Label = d.str(v, q) },
			"added":         func(v *yaml.Node, q string) { k.Added = d.date(v, q) },
		})
	}
	return out
}

// date decodes a YYYY-MM-DD date, written plain (YAML reads it as a timestamp) or quoted.
func (d *decoder) date(n *yaml.Node, path string) string {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!timestamp" || n.ShortTag() == "!!str") {
		if _, err := time.Parse(time.DateOnly, n.Value); err == nil {
			return n.Value
		}
	}
	d.errAt(n, path, "want a date YYYY-MM-DD, got %s", describe(n))
	return ""
}

// checkWebAuthn validates the webauthn block and every person's passkeys: IDs
// base64url and unique, keys ES256 or EdDSA COSE keys, and an RP to judge them by.
func (c *checker) checkWebAuthn() {
	w := c.dir.WebAuthn
	if w != nil {
		c.relyingParty(w)
	}
	owner := map[string]string{}
	for i, p := range c.dir.People {
		for j, k := range p.Passkeys {
			at := fmt.Sprintf("people[%d].passkeys[%d]", i, j)
			if w == nil && j == 0 {
				c.add(fmt.Sprintf("people[%d].passkeys", i), "passkeys need the directory's webauthn block (rp_id, origins): the relying party they are judged by")
			}
			id, err := passkey.DecodeB64(k.CredentialID)
			switch {
			case k.CredentialID == "":
				c.add(at+".credential_id", "is required (base64url, as golive directory invite prints it)")
			case err != nil || len(id) == 0:
				c.add(at+".credential_id", "is not base64url")
			case owner[string(id)] != "":
				c.add(at+".credential_id", "passkey %s is already %s's: a passkey stands for one person, once", clipID(k.CredentialID), owner[string(id)])
			default:
				owner[string(id)] = p.ID
			}
			if cose, err := passkey.DecodeB64(k.PublicKey); err != nil || len(cose) == 0 {
				c.add(at+".public_key", "is required: the COSE public key, base64url")
			} else if _, err := passkey.ParsePublicKey(cose); err != nil {
				c.add(at+".public_key", "%v", err)
			}
			if strings.TrimSpace(k.Label) == "" {
				c.add(at+".label", "is required (which device it is, for whoever revokes it)")
			}
			if k.Added == "" {
				c.add(at+".added", "is required (the enrollment date, YYYY-MM-DD)")
			}
		}
	}
}

// relyingParty checks rp_id, the origins (scheme://host[:port], on the RP ID,
// https except on localhost) and user_verification.
func (c *checker) relyingParty(w *WebAuthn) {
	if !rpIDPattern.MatchString(w.RPID) {
		c.add("webauthn.rp_id", "%q is not a domain name (lower case, no scheme or port), e.g. approvals.example.org", w.RPID)
	}
	if len(w.Origins) == 0 {
		c.add("webauthn.origins", "is required (the origins the approval pages are served from, e.g. https://approvals.example.org)")
	}
	for i, o := range w.Origins {
		at := fmt.Sprintf("webauthn.origins[%d]", i)
		u, err := url.Parse(o)
		switch {
		case err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			c.add(at, "%q is not an origin: want scheme://host[:port], nothing after it", o)
		case u.Scheme != "https" && !(u.Scheme == "http" && u.Hostname() == "localhost"):
			c.add(at, "%q: passkeys need https (plain http only on localhost)", o)
		case u.Hostname() != w.RPID && !strings.HasSuffix(u.Hostname(), "."+w.RPID):
			c.add(at, "%q is not on the RP ID %q or a subdomain of it: browsers would refuse its passkeys", o, w.RPID)
		case slices.Index(w.Origins, o) < i:
			c.add(at, "origin %q is listed twice", o)
		}
	}
	if v := w.UserVerification; v != "" && v != UserVerificationRequired && v != UserVerificationPreferred {
		c.add("webauthn.user_verification", "%q is not %s or %s", v, UserVerificationRequired, UserVerificationPreferred)
	}
}

func clipID(id string) string {
	if len(id) > 16 {
		return id[:16] + "…"
	}
	return id
}

// pinPasskeys returns a person's passkeys as a snapshot holds them.
func pinPasskeys(p Person) []PinnedPasskey {
	var out []PinnedPasskey
	for _, k := range p.Passkeys {
		cose, _ := passkey.DecodeB64(k.PublicKey)
		out = append(out, PinnedPasskey{ID: k.CredentialID, PublicKey: k.PublicKey, Label: k.Label, Added: k.Added, Fingerprint: passkey.Fingerprint(cose)})
	}
	return out
}

// Passkeys returns person id's pinned passkeys (nil for an unknown person or
// one without passkeys), for passkey.VerifyAssertion.
func (s Snapshot) Passkeys(id string) []PinnedPasskey {
	p, _ := s.Person(id)
	return slices.Clone(p.Passkeys)
}

// RP is the relying party a passkey assertion must be made for; the zero RP
// (no webauthn block) verifies no assertion.
func (s Snapshot) RP() passkey.RP {
	if s.WebAuthn == nil {
		return passkey.RP{}
	}
	return passkey.RP{ID: s.WebAuthn.RPID, Origins: slices.Clone(s.WebAuthn.Origins)}
}

// RequireUserVerification reports whether a passkey assertion must carry the
// UV flag; anything but an explicit "preferred" requires it.
func (s Snapshot) RequireUserVerification() bool {
	return s.WebAuthn == nil || s.WebAuthn.UserVerification != UserVerificationPreferred
}

// RP is the relying party of the directory (zero without a webauthn block).
func (d *Directory) RP() passkey.RP {
	if d.WebAuthn == nil {
		return passkey.RP{}
	}
	return passkey.RP{ID: d.WebAuthn.RPID, Origins: slices.Clone(d.WebAuthn.Origins)}
}
