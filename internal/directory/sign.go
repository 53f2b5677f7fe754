package directory

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/golive/golive/internal/approval"
)

// Signed says what SignFile did.
type Signed struct {
	// Dir is the directory that was signed.
	Dir *Directory
	// Admin is who signed, Fingerprint with which key.
	Admin, Fingerprint string
	// SigFile is the signature file written.
	SigFile string
	// Replaced reports that an earlier signature by the same key was replaced.
	Replaced bool
	// Dropped counts signatures that were over other bytes (an earlier version of the file) and were removed.
	Dropped int
	// Others are the signatures kept beside the new one.
	Others int
}

// SignFile signs the directory at path as admin (empty: the admin whose
// directory key signer holds) and writes path+SigSuffix: the signature is
// appended, replacing an earlier one by the same key; signatures over other
// bytes (made before the file last changed) are dropped. It refuses to sign a
// file that does not parse, and a key that is not one of the admin's keys in it.
func SignFile(path string, signer ssh.Signer, admin string) (Signed, error) {
	data, err := readBounded(path)
	if err != nil {
		return Signed{}, err
	}
	dir, err := Parse(path, data)
	if err != nil {
		return Signed{}, fmt.Errorf("refusing to sign an invalid directory:\n%w", err)
	}
	pub := signer.PublicKey()
	fp := ssh.FingerprintSHA256(pub)
	if admin, err = signingAdmin(dir, fp, admin); err != nil {
		return Signed{}, err
	}
	sig, err := approval.SignMessage(signer, approval.DirectoryNamespace, data)
	if err != nil {
		return Signed{}, err
	}
	res := Signed{Dir: dir, Admin: admin, Fingerprint: fp, SigFile: path + SigSuffix}
	old, err := os.ReadFile(res.SigFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Signed{}, fmt.Errorf("read directory signatures: %w", err)
	}
	blocks, _ := SplitSignatures(string(old))
	var out strings.Builder
	for _, b := range blocks {
		k, err := approval.SignatureKey(b)
		switch {
		case err == nil && bytes.Equal(k.Marshal(), pub.Marshal()):
			res.Replaced = true
			continue
		case err == nil && !selfVerifies(data, b, k):
			res.Dropped++
			continue
		}
		res.Others++
		out.WriteString(b)
	}
	out.WriteString(sig)
	if err := writeAtomic(res.SigFile, []byte(out.String())); err != nil {
		return Signed{}, err
	}
	return res, nil
}

// signingAdmin returns the admin that key fp signs for: the one named (whose
// directory keys must include fp), or the only admin holding fp.
func signingAdmin(dir *Directory, fp, admin string) (string, error) {
	var holders []string
	for _, a := range dir.Admins {
		p, _ := dir.Person(a)
		for _, line := range p.Keys {
			if got, err := parsePersonKey(line); err == nil && got == fp {
				holders = append(holders, a)
			}
		}
	}
	switch {
	case admin != "" && !slices.Contains(dir.Admins, admin):
		return "", fmt.Errorf("%s is not an admin of %s (admins: %s)", admin, dir.File, strings.Join(dir.Admins, ", "))
	case admin != "" && !slices.Contains(holders, admin):
		return "", fmt.Errorf("key %s is not one of %s's keys in %s", fp, admin, dir.File)
	case admin != "":
		return admin, nil
	case len(holders) == 0:
		return "", fmt.Errorf("key %s is no admin's key in %s (admins: %s)", fp, dir.File, strings.Join(dir.Admins, ", "))
	}
	return holders[0], nil // keys are unique across people (validate), so there is one
}

// selfVerifies reports whether block is a valid directory signature of data by its own key k.
func selfVerifies(data []byte, block string, k ssh.PublicKey) bool {
	_, err := approval.VerifyMessage(approval.DirectoryNamespace, data, block, []approval.Key{{PublicKey: k}})
	return err == nil
}

// writeAtomic replaces path with data through a temporary file in the same directory.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
