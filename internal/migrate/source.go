package migrate

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing/fstest"
)

// Formats of migration files.
const (
	// FormatGoose is one file per version with "-- +goose Up" / "-- +goose Down" sections.
	FormatGoose = "goose"
	// FormatUpDown is a pair of files per version: NNN_name.up.sql and NNN_name.down.sql.
	// Each file runs as one statement in one transaction, unless the up file says
	// "-- +goose NO TRANSACTION" (then its statements run one by one, without a transaction).
	FormatUpDown = "up/down"
)

var (
	gooseName  = regexp.MustCompile(`^(\d+)_([^.]+)\.sql$`)
	upDownName = regexp.MustCompile(`^(\d+)_(.+)\.(up|down)\.sql$`)
	annotation = regexp.MustCompile(`^\s*--\s*\+goose\s+(.+?)\s*$`)
)

// Source is one migration version as found in the directory.
type Source struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	// File is the file holding the up part; DownFile the one holding the down part
	// (the same file for goose migrations, empty when a pair has no down file).
	File     string `json:"file"`
	DownFile string `json:"down_file,omitempty"`
	Format   string `json:"format"`
	// NoTx migrations run without a transaction (CREATE INDEX CONCURRENTLY).
	NoTx bool `json:"no_tx,omitempty"`
	// HasDown is false when there is no down part, or it holds no statement:
	// such a migration cannot be rolled back and stops a MigrateDown.
	HasDown bool `json:"has_down"`

	up, down  string // the original text of the up and down files
	gooseFile string // name of the (possibly synthesized) goose file
}

// Set is a directory of migrations, ready for goose.
type Set struct {
	Dir     string
	Sources []Source // ordered by version
	fsys    fs.FS
	byGoose map[string]*Source
}

// Load reads dir: goose-annotated NNN_name.sql files and NNN_name.up.sql /
// NNN_name.down.sql pairs, both in one directory if need be. Files that do not
// end in .sql are ignored; .sql files that fit neither form are an error, as are
// two files claiming one version.
func Load(dir string) (*Set, error) {
	return LoadFS(os.DirFS(dir), dir)
}

// LoadFS is Load on a file system; name is used in messages.
func LoadFS(fsys fs.FS, name string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations directory %s: %w", name, err)
	}
	byVersion := map[int64]*Source{}
	read := func(file string) (string, error) {
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return "", fmt.Errorf("read migration %s: %w", file, err)
		}
		return string(b), nil
	}
	claim := func(v int64, file string) (*Source, error) {
		s := byVersion[v]
		if s == nil {
			s = &Source{Version: v}
			byVersion[v] = s
		}
		return s, nil
	}
	for _, e := range entries {
		f := e.Name()
		if e.IsDir() || !strings.HasSuffix(f, ".sql") {
			continue
		}
		if m := upDownName.FindStringSubmatch(f); m != nil {
			v, err := strconv.ParseInt(m[1], 10, 64)
			if err != nil || v < 1 {
				return nil, fmt.Errorf("migration %s: version must be a positive number", f)
			}
			s, _ := claim(v, f)
			text, err := read(f)
			if err != nil {
				return nil, err
			}
			if s.Format == FormatGoose {
				return nil, fmt.Errorf("migrations %s and %s both claim version %d", s.File, f, v)
			}
			s.Format, s.Name = FormatUpDown, m[2]
			if m[3] == "up" {
				if s.File != "" {
					return nil, fmt.Errorf("migrations %s and %s both claim version %d", s.File, f, v)
				}
				s.File, s.up = f, text
			} else {
				if s.DownFile != "" {
					return nil, fmt.Errorf("migrations %s and %s both claim version %d", s.DownFile, f, v)
				}
				s.DownFile, s.down = f, text
			}
			continue
		}
		m := gooseName.FindStringSubmatch(f)
		if m == nil {
			return nil, fmt.Errorf("migration %s: want NNN_name.sql (goose annotations) or NNN_name.up.sql / NNN_name.down.sql", f)
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: version must be a positive number", f)
		}
		s, _ := claim(v, f)
		if s.Format != "" {
			other := s.File
			if other == "" {
				other = s.DownFile
			}
			return nil, fmt.Errorf("migrations %s and %s both claim version %d", other, f, v)
		}
		text, err := read(f)
		if err != nil {
			return nil, err
		}
		s.Format, s.Name, s.File, s.DownFile, s.up = FormatGoose, m[2], f, f, text
	}

	set := &Set{Dir: name, byGoose: map[string]*Source{}}
	files := fstest.MapFS{}
	for _, s := range byVersion {
		if err := s.prepare(); err != nil {
			return nil, err
		}
		files[s.gooseFile] = &fstest.MapFile{Data: []byte(s.gooseText()), Mode: 0o444}
		set.Sources = append(set.Sources, *s)
	}
	sort.Slice(set.Sources, func(i, j int) bool { return set.Sources[i].Version < set.Sources[j].Version })
	for i := range set.Sources {
		set.byGoose[set.Sources[i].gooseFile] = &set.Sources[i]
	}
	set.fsys = files
	return set, nil
}

// prepare checks one source and works out NoTx and HasDown.
func (s *Source) prepare() error {
	switch s.Format {
	case FormatGoose:
		s.gooseFile = s.File
		ann := annotations(s.up)
		if !ann["UP"] {
			return fmt.Errorf("migration %s has no \"-- +goose Up\" line; name it %s.up.sql if it is a plain SQL file",
				s.File, strings.TrimSuffix(s.File, ".sql"))
		}
		s.NoTx = ann["NO TRANSACTION"]
		s.HasDown = ann["DOWN"] && hasStatements(section(s.up, "DOWN"))
	case FormatUpDown:
		if s.File == "" {
			return fmt.Errorf("migration %s has no up file (%s)", s.DownFile, strings.Replace(s.DownFile, ".down.sql", ".up.sql", 1))
		}
		s.gooseFile = strings.TrimSuffix(s.File, ".up.sql") + ".sql"
		ann := annotations(s.up)
		if ann["UP"] || ann["DOWN"] || annotations(s.down)["UP"] || annotations(s.down)["DOWN"] {
			return fmt.Errorf("migration %s: up/down files hold no \"-- +goose Up/Down\" sections (use one NNN_name.sql file for that)", s.File)
		}
		if !hasStatements(s.up) {
			return fmt.Errorf("migration %s holds no statement", s.File)
		}
		s.NoTx = ann["NO TRANSACTION"]
		s.HasDown = s.DownFile != "" && hasStatements(s.down)
	}
	return nil
}

// gooseText is the source as one goose file. An up/down pair becomes one file;
// each of its parts runs as a single statement (like psql -1 -f), except in a
// no-transaction migration, whose statements goose runs one by one.
func (s *Source) gooseText() string {
	if s.Format == FormatGoose {
		return s.up
	}
	part := func(text string) string {
		if s.NoTx || len(annotations(text)) > 0 {
			return text + "\n"
		}
		return "-- +goose StatementBegin\n" + strings.TrimRight(text, "\n\t ") + "\n-- +goose StatementEnd\n"
	}
	var b strings.Builder
	b.WriteString("-- +goose Up\n")
	b.WriteString(part(s.up))
	if s.HasDown {
		b.WriteString("-- +goose Down\n")
		b.WriteString(part(s.down))
	}
	return b.String()
}

// annotations lists the goose annotations of a file, upper-cased.
func annotations(text string) map[string]bool {
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		if m := annotation.FindStringSubmatch(sc.Text()); m != nil {
			out[strings.ToUpper(m[1])] = true
		}
	}
	return out
}

// section returns the text after the "-- +goose NAME" line up to the next Up/Down line.
func section(text, name string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(text, "\n") {
		if m := annotation.FindStringSubmatch(line); m != nil {
			switch strings.ToUpper(m[1]) {
			case name:
				in = true
				continue
			case "UP", "DOWN":
				in = false
				continue
			}
		}
		if in {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// hasStatements reports whether text holds anything but blank lines and comments.
func hasStatements(text string) bool {
	inBlock := false
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		for l != "" {
			if inBlock {
				end := strings.Index(l, "*/")
				if end < 0 {
					l = ""
					break
				}
				l, inBlock = strings.TrimSpace(l[end+2:]), false
				continue
			}
			if strings.HasPrefix(l, "--") {
				l = ""
				break
			}
			if strings.HasPrefix(l, "/*") {
				l, inBlock = l[2:], true
				continue
			}
			return true
		}
	}
	return false
}

// Source returns the migration of version v.
func (s *Set) Source(v int64) (Source, bool) {
	for _, src := range s.Sources {
		if src.Version == v {
			return src, true
		}
	}
	return Source{}, false
}

// Latest is the highest version in the set (0 when it is empty).
func (s *Set) Latest() int64 {
	if len(s.Sources) == 0 {
		return 0
	}
	return s.Sources[len(s.Sources)-1].Version
}

// bySourcePath maps a goose source path back to the migration.
func (s *Set) bySourcePath(p string) *Source {
	return s.byGoose[path.Base(p)]
}

// Checksum is the SHA-256 of the migration's up part, as it will run (12 hex
// digits, "sha256:" first): what an approver compares with the reviewed file.
func (s Source) Checksum() string {
	sum := sha256.Sum256([]byte(s.up))
	return "sha256:" + hex.EncodeToString(sum[:6])
}
