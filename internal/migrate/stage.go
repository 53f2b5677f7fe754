package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

var versionPrefix = regexp.MustCompile(`^(\d+)_.*\.sql$`)

// Stage copies the migration files of src with a version up to upTo into dst
// (created if need be; files of higher versions already in dst are removed). The
// demo uses it to ship migrations with each release: the good release gets 1-3,
// the bad one 1-4.
func Stage(src, dst string, upTo int64) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	old, err := os.ReadDir(dst)
	if err != nil {
		return err
	}
	for _, e := range old {
		if m := versionPrefix.FindStringSubmatch(e.Name()); m != nil {
			if v, _ := strconv.ParseInt(m[1], 10, 64); v > upTo {
				if err := os.Remove(filepath.Join(dst, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("read migrations %s: %w", src, err)
	}
	for _, e := range entries {
		m := versionPrefix.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		if v, _ := strconv.ParseInt(m[1], 10, 64); v > upTo {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
