package approval

import (
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// MinRSABits is the smallest RSA key accepted.
const MinRSABits = 2048

// Key is one trusted public key: a plain OpenSSH public key line (what
// ~/.ssh/id_ed25519.pub holds) or one entry of an allowed_signers file
// (ssh-keygen(1), "ALLOWED SIGNERS").
type Key struct {
	// PublicKey is the key itself.
	PublicKey ssh.PublicKey
	// Principals are the allowed_signers principal patterns (`*` and `?`
	// wildcards, `!` negation). Nil for a plain key line: the key stands for
	// whoever it is registered to.
	Principals []string
	// Namespaces restricts the key to these signature namespaces (allowed_signers
	// namespaces="..."); nil means any.
	Namespaces []string
	// ValidAfter and ValidBefore bound the statement's SignedAt (allowed_signers
	// valid-after / valid-before, read as UTC); zero means unbounded.
	ValidAfter, ValidBefore time.Time
	// Comment is the key line's comment, if any.
	Comment string
}

// Fingerprint is the key's SHA256 fingerprint, as ssh-keygen -l prints it.
func (k Key) Fingerprint() string { return ssh.FingerprintSHA256(k.PublicKey) }

// ParseKeys parses trusted keys: one or more lines, each either an OpenSSH
// public key line ("ssh-ed25519 AAAA... comment") or an allowed_signers entry
// ("carol@example.org,carol namespaces=\"golive-approval\" ssh-ed25519 AAAA...").
// Blank lines and # comments are skipped. Unsupported key types (DSA, security
// keys, certificates, RSA below MinRSABits), cert-authority entries and unknown
// options are errors, so a registration mistake shows up when the spec is
// validated rather than at sign-off time. Pure: no I/O.
//
// A line with options before the key is read as allowed_signers, so an
// authorized_keys line with options ("restrict ssh-ed25519 ...") yields a key
// whose principal is "restrict", which matches no person: refused, never trusted
// by mistake.
func ParseKeys(text string) ([]Key, error) {
	var keys []Key
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseKeyLine(line)
		if err != nil {
			return nil, fmt.Errorf("%w: key line %d: %w", ErrMalformed, n+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no public key", ErrMalformed)
	}
	return keys, nil
}

func parseKeyLine(line string) (Key, error) {
	toks, err := tokenize(line)
	if err != nil {
		return Key{}, err
	}
	// The key is the first "TYPE BASE64" pair that parses; up to two fields
	// (principals, options) may come before it.
	at, firstErr := -1, error(nil)
	var pub ssh.PublicKey
	for i := 0; i+1 < len(toks) && i < 3 && at < 0; i++ {
		if !looksLikeKeyType(toks[i]) {
			continue
		}
		p, err := parsePublicKey(toks[i], toks[i+1])
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		at, pub = i, p
	}
	if at < 0 {
		if firstErr != nil {
			return Key{}, firstErr
		}
		return Key{}, fmt.Errorf("no OpenSSH public key found (want e.g. \"ssh-ed25519 AAAA... comment\")")
	}
	if err := acceptKey(pub); err != nil {
		return Key{}, err
	}
	k := Key{PublicKey: pub, Comment: strings.Join(toks[at+2:], " ")}
	if at >= 1 {
		for _, p := range strings.Split(toks[0], ",") {
			if p != "" {
				k.Principals = append(k.Principals, p)
			}
		}
		if len(k.Principals) == 0 {
			return Key{}, fmt.Errorf("allowed_signers entry without principals")
		}
	}
	if at == 2 {
		if err := k.parseOptions(toks[1]); err != nil {
			return Key{}, err
		}
	}
	return k, nil
}

func parsePublicKey(typ, b64 string) (ssh.PublicKey, error) {
	blob, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%s key is not valid base64", typ)
	}
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return nil, fmt.Errorf("%s key: %v", typ, err)
	}
	if pub.Type() != typ {
		return nil, fmt.Errorf("key type %s does not match its data (%s)", typ, pub.Type())
	}
	return pub, nil
}

// looksLikeKeyType reports whether tok names an SSH public key type, supported or not.
func looksLikeKeyType(tok string) bool {
	return strings.HasPrefix(tok, "ssh-") || strings.HasPrefix(tok, "ecdsa-sha2-") || strings.HasPrefix(tok, "sk-")
}

// acceptKey refuses key types and sizes golive does not accept.
func acceptKey(pub ssh.PublicKey) error {
	switch pub.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return nil
	case ssh.KeyAlgoRSA:
		cpk, ok := pub.(ssh.CryptoPublicKey)
		if !ok {
			// ssh-agent hands out *agent.Key values; parse the wire form for the parameters.
			if parsed, err := ssh.ParsePublicKey(pub.Marshal()); err == nil {
				cpk, ok = parsed.(ssh.CryptoPublicKey)
			}
		}
		if !ok {
			return fmt.Errorf("%w: RSA key without its parameters", ErrWeakKey)
		}
		rk, ok := cpk.CryptoPublicKey().(*rsa.PublicKey)
		if !ok || rk.N.BitLen() < MinRSABits {
			bits := 0
			if ok {
				bits = rk.N.BitLen()
			}
			return fmt.Errorf("%w: RSA key of %d bits; at least %d are required", ErrWeakKey, bits, MinRSABits)
		}
		return nil
	}
	return fmt.Errorf("%w: key type %s (use ed25519, ECDSA or RSA >= %d bits)", ErrWeakKey, pub.Type(), MinRSABits)
}

// parseOptions reads allowed_signers options: namespaces, valid-after, valid-before.
func (k *Key) parseOptions(opts string) error {
	for _, opt := range splitOptions(opts) {
		name, value, hasValue := strings.Cut(opt, "=")
		name = strings.ToLower(name)
		value = strings.Trim(value, `"`)
		switch {
		case name == "namespaces" && hasValue:
			for _, ns := range strings.Split(value, ",") {
				if ns = strings.TrimSpace(ns); ns != "" {
					k.Namespaces = append(k.Namespaces, ns)
				}
			}
		case name == "valid-after" && hasValue:
			t, err := parseSSHTime(value)
			if err != nil {
				return fmt.Errorf("valid-after: %v", err)
			}
			k.ValidAfter = t
		case name == "valid-before" && hasValue:
			t, err := parseSSHTime(value)
			if err != nil {
				return fmt.Errorf("valid-before: %v", err)
			}
			k.ValidBefore = t
		case name == "cert-authority":
			return fmt.Errorf("cert-authority entries are not supported: register the person's own key")
		default:
			return fmt.Errorf("unknown option %q (supported: namespaces, valid-after, valid-before)", name)
		}
	}
	return nil
}

// parseSSHTime reads YYYYMMDD[HHMM[SS]] with an optional Z. ssh-keygen reads a
// time without Z as local time; golive reads every time as UTC, so verification
// does not depend on the worker's time zone.
func parseSSHTime(s string) (time.Time, error) {
	s = strings.TrimSuffix(strings.TrimSuffix(s, "Z"), "z")
	for _, layout := range []string{"20060102150405", "200601021504", "20060102"} {
		if len(s) == len(layout) {
			return time.ParseInLocation(layout, s, time.UTC)
		}
	}
	return time.Time{}, fmt.Errorf("want YYYYMMDD[HHMM[SS]][Z], got %q", s)
}

// tokenize splits a key line on blanks, keeping double-quoted runs together.
func tokenize(line string) ([]string, error) {
	var toks []string
	var cur strings.Builder
	quoted, in := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
			in = true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				toks = append(toks, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote")
	}
	if in {
		toks = append(toks, cur.String())
	}
	return toks, nil
}

// splitOptions splits comma-separated options outside double quotes.
func splitOptions(s string) []string {
	var out []string
	quoted, start := false, 0
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// matchPrincipal applies an allowed_signers principal pattern list to person.
// A matching negated pattern refuses outright.
func matchPrincipal(patterns []string, person string) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if glob(strings.TrimPrefix(p, "!"), person) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

// glob matches s against a pattern with `*` (any run) and `?` (one byte), as ssh's match_pattern does.
func glob(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if glob(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}
