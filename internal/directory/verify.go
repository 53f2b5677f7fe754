package directory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/golive/golive/internal/approval"
)

// SigSuffix names a directory's signature file: FILE + SigSuffix holds the
// admins' armored SSH signatures (namespace approval.DirectoryNamespace) over
// FILE's exact bytes, one block after another, as `ssh-keygen -Y sign` writes them.
const SigSuffix = ".sig"

// VerifyOptions is the trust anchor for directory signatures.
type VerifyOptions struct {
	// Admins is allowed_signers text (principal = person ID) of the admin keys
	// the operator trusts. The anchor never comes from the directory file itself.
	Admins string
	// Quorum is the minimum number of distinct admins; the effective quorum is
	// max(this, the file's quorum); 0 means DefaultQuorum.
	Quorum int
	// AllowUnsigned accepts a directory without valid quorum signatures (dev
	// and demo only); Verified.Signed then reports false and Problem says why.
	AllowUnsigned bool
	// Now is compared with allowed_signers valid-after/valid-before; zero means time.Now().
	Now time.Time
}

// Verified is a directory and what its signatures established.
type Verified struct {
	// Dir is the parsed directory; Dir.Signers is set when Signed.
	Dir *Directory
	// Signers are the admin IDs whose signature verified and counted, sorted.
	Signers []string
	// Fingerprints are the keys of those signatures, sorted.
	Fingerprints []string
	// Signed reports that at least the quorum of distinct trusted admins signed.
	Signed bool
	// Problem says why Signed is false (with AllowUnsigned); empty when Signed.
	Problem string
}

// LoadVerified reads path and path+SigSuffix and checks that at least the
// quorum of distinct admins, listed both in the anchor (o.Admins) and in the
// file's admins, signed the file's exact bytes. The error (wrapping ErrQuorum,
// ErrNoAnchor or the parse Errors) says who signed, who is missing, and which
// signature failed why.
func LoadVerified(path string, o VerifyOptions) (Verified, error) {
	data, err := readBounded(path)
	if err != nil {
		return Verified{}, err
	}
	sigs, err := os.ReadFile(path + SigSuffix)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Verified{}, fmt.Errorf("read directory signatures: %w", err)
	}
	if len(sigs) > MaxFileSize {
		return Verified{}, fmt.Errorf("%s%s is over %d bytes", path, SigSuffix, MaxFileSize)
	}
	return VerifyBytes(path, data, string(sigs), o)
}

// VerifyBytes is LoadVerified on bytes already read: data is the directory
// file, sigs the content of its signature file ("" when there is none).
func VerifyBytes(file string, data []byte, sigs string, o VerifyOptions) (Verified, error) {
	dir, err := Parse(file, data)
	if err != nil {
		return Verified{}, err
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	res, problem := check(dir, data, sigs, o)
	if problem == nil {
		res.Signed = true
		dir.Signers = slices.Clone(res.Signers)
		return res, nil
	}
	if o.AllowUnsigned {
		res.Problem = problem.Error()
		return res, nil
	}
	return Verified{}, problem
}

// check verifies every signature block and counts the distinct admins; a nil
// error means the quorum is met.
func check(dir *Directory, data []byte, sigs string, o VerifyOptions) (Verified, error) {
	res := Verified{Dir: dir}
	if strings.TrimSpace(o.Admins) == "" {
		return res, fmt.Errorf("%w: verify %s with the operator's allowed_signers file of admin keys (--directory-admins)", ErrNoAnchor, dir.File)
	}
	anchor, err := approval.ParseKeys(o.Admins)
	if err != nil {
		return res, fmt.Errorf("%w: admin keys: %w", ErrNoAnchor, err)
	}
	for _, k := range anchor {
		if k.Principals == nil {
			return res, fmt.Errorf("%w: admin key %s names no admin: write allowed_signers entries (\"olivia ssh-ed25519 AAAA...\")", ErrNoAnchor, k.Fingerprint())
		}
	}
	quorum := o.Quorum
	if quorum == 0 {
		quorum = DefaultQuorum
	}
	quorum = max(quorum, dir.Quorum)
	blocks, stray := SplitSignatures(sigs)
	var failures []string
	if stray {
		failures = append(failures, "text outside the signature blocks was ignored")
	}
	for i, b := range blocks {
		admin, fp, err := signer(dir, data, b, anchor, o.Now)
		if err != nil {
			failures = append(failures, fmt.Sprintf("signature %d: %v", i+1, err))
			continue
		}
		if !slices.Contains(res.Signers, admin) {
			res.Signers = append(res.Signers, admin)
		}
		if !slices.Contains(res.Fingerprints, fp) {
			res.Fingerprints = append(res.Fingerprints, fp)
		}
	}
	slices.Sort(res.Signers)
	slices.Sort(res.Fingerprints)
	if len(res.Signers) >= quorum {
		return res, nil
	}
	return res, quorumError(dir, res.Signers, quorum, len(blocks), failures)
}

// signer verifies one signature block and returns the one admin it counts for.
func signer(dir *Directory, data []byte, block string, anchor []approval.Key, now time.Time) (string, string, error) {
	v, err := approval.VerifyMessage(approval.DirectoryNamespace, data, block, anchor)
	if err != nil {
		return "", "", err
	}
	var admins, why []string
	for _, k := range anchor {
		if k.Fingerprint() != v.Fingerprint {
			continue
		}
		switch {
		case !k.ValidAfter.IsZero() && now.Before(k.ValidAfter):
			why = append(why, "the anchor trusts it only after "+k.ValidAfter.Format(time.RFC3339))
			continue
		case !k.ValidBefore.IsZero() && !now.Before(k.ValidBefore):
			why = append(why, "the anchor trusted it only until "+k.ValidBefore.Format(time.RFC3339))
			continue
		}
		for _, p := range k.Principals {
			if slices.Contains(dir.Admins, p) && !slices.Contains(admins, p) {
				admins = append(admins, p)
			}
		}
		if len(admins) == 0 {
			why = append(why, fmt.Sprintf("the anchor lists it for %s, not an admin of %s (admins: %s)", strings.Join(k.Principals, ","), dir.File, strings.Join(dir.Admins, ", ")))
		}
	}
	switch len(admins) {
	case 1:
		return admins[0], v.Fingerprint, nil
	case 0:
		return "", "", fmt.Errorf("key %s: %s", v.Fingerprint, strings.Join(why, "; "))
	}
	return "", "", fmt.Errorf("key %s is listed for several admins (%s): one key stands for one admin", v.Fingerprint, strings.Join(admins, ", "))
}

// quorumError says who signed, who did not, and why each refused signature failed.
func quorumError(dir *Directory, signers []string, quorum, blocks int, failures []string) error {
	var missing []string
	for _, a := range dir.Admins {
		if !slices.Contains(signers, a) {
			missing = append(missing, a)
		}
	}
	slices.Sort(missing)
	var b strings.Builder
	fmt.Fprintf(&b, "%s has %d of the %d distinct admin signatures it needs", dir.File, len(signers), quorum)
	if len(signers) > 0 {
		fmt.Fprintf(&b, "; signed by %s", strings.Join(signers, ", "))
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "; not signed by %s", strings.Join(missing, ", "))
	}
	if blocks == 0 {
		fmt.Fprintf(&b, "; %s%s holds no signature (golive directory sign %s)", dir.File, SigSuffix, dir.File)
	}
	for _, f := range failures {
		b.WriteString("; " + f)
	}
	return fmt.Errorf("%w: %s", ErrQuorum, b.String())
}

// Signature armor lines, as ssh-keygen writes them.
const (
	sigBegin = "-----BEGIN SSH SIGNATURE-----"
	sigEnd   = "-----END SSH SIGNATURE-----"
)

// SplitSignatures returns the armored signature blocks of a signature file, in
// order; stray reports non-blank text outside them.
func SplitSignatures(text string) (blocks []string, stray bool) {
	for {
		i := strings.Index(text, sigBegin)
		if i < 0 {
			return blocks, stray || strings.TrimSpace(text) != ""
		}
		stray = stray || strings.TrimSpace(text[:i]) != ""
		j := strings.Index(text[i:], sigEnd)
		if j < 0 {
			return append(blocks, text[i:]), stray // verification reports it as malformed
		}
		end := i + j + len(sigEnd)
		blocks = append(blocks, text[i:end]+"\n")
		text = text[end:]
	}
}
