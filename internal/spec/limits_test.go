package spec_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

// hostile is a spec built to cost the loader time or memory, and the problem it must name.
type hostile struct {
	name string
	yaml string
	want string // a line of the error, "file:line:col: path: message" without the file
}

// laughs aliases a list of 1000 strings in each of 1000 items: a million values once expanded.
func laughs() string {
	var b strings.Builder
	b.WriteString(minimal)
	b.WriteString("notify: {from: &s lol}\nreadiness:\n  items:\n")
	fmt.Fprintf(&b, "    - &it {id: x.a, title: A, auto: {kind: command, command: [*s%s]}}\n", strings.Repeat(", *s", spec.MaxItems-1))
	b.WriteString(strings.Repeat("    - *it\n", spec.MaxItems-1))
	return b.String()
}

// merges chains merge keys ten wide and six deep into one mapping.
func merges() string {
	var b strings.Builder
	b.WriteString(strings.Replace(minimal, "app:\n  url: https://portal.example.org\n", "", 1))
	b.WriteString("x0: &m0 {health_path: /h}\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, "x%d: &m%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d, ", i-1), 10), ", "))
	}
	b.WriteString("app: {url: https://portal.example.org, <<: *m6}\n")
	return b.String()
}

// bigInput aliases one long string until the spec's JSON is over the workflow input limit.
func bigInput() string {
	s := strings.Repeat("a", spec.MaxStringBytes-100)
	return minimal + "notify:\n  users: [&s " + s + strings.Repeat(", *s", spec.MaxInputBytes/len(s)+1) + "]\n"
}

// crowd asks a thousand slots of one role held by a thousand people, the worst
// case of the check that the team can fill every slot with distinct people.
func crowd() string {
	var b strings.Builder
	b.WriteString(strings.Replace(minimal, "  engineer: [{id: eve, name: Eve}]\n", "", 1))
	b.WriteString("  engineer:\n")
	for i := range spec.MaxItems {
		fmt.Fprintf(&b, "    - {id: p%d, name: P}\n", i)
	}
	b.WriteString("approvals:\n  slots:\n" + strings.Repeat("    - {role: engineer}\n", spec.MaxItems))
	return b.String()
}

func hostileSpecs() []hostile {
	many := strings.Repeat("    - {id: x.n, title: X, attest: engineer}\n", spec.MaxItems+1)
	return []hostile{
		{"alias expansion", laughs(), `: the spec expands to more than 20000 values`},
		{"merge key expansion", merges(), `the spec expands to more than 20000 values`},
		{"one long string", strings.Replace(minimal, "https://portal.example.org", "https://"+strings.Repeat("p", spec.MaxStringBytes), 1),
			`4:8: app.url: a value of 16392 bytes is longer than the limit of 16384`},
		{"one long key", minimal + strings.Repeat("k", spec.MaxKeyBytes+1) + ": 1\n", `22:1: a key of 257 bytes is longer than the limit of 256`},
		{"too many items", minimal + "readiness:\n  items:\n" + many, `24:5: readiness.items: has 1001 entries, more than the limit of 1000`},
		{"not a number", minimal + "thresholds: {critical: {slow_queries_per_hour: .nan}}\n", `22:48: thresholds.critical.slow_queries_per_hour: ".nan" is not a finite number`},
		{"infinity", minimal + "thresholds: {critical: {slow_queries_per_hour: -.inf}}\n", `22:48: thresholds.critical.slow_queries_per_hour: "-.inf" is not a finite number`},
		{"not a percentage", minimal + "thresholds: {critical: {error_rate: NaN%}}\n", `22:37: thresholds.critical.error_rate: percentage NaN% is outside 0%..100%`},
		{"zero approvals timeout", minimal + "approvals: {timeout: 0s}\n", `22:22: approvals.timeout: 0s is no wait at all: write a positive duration, or leave it out for the default 24h`},
		{"zero check timeout", minimal + "readiness:\n  items: [{id: env.dns, auto: {kind: dns, timeout: 0s}}]\n", `23:52: readiness.items[0].auto.timeout: 0s is no wait at all: write a positive duration`},
		{"zero lock timeout", minimal[:strings.Index(minimal, "backup:")] + "  lock_timeout: 0m\nbackup:\n  type: postgres\n" + minimal[strings.Index(minimal, "metrics:"):],
			`17:17: database.lock_timeout: 0m is no wait at all: write a positive duration, or leave it out for the default 5s`},
		{"watch every nanosecond", minimal + "watch:\n  phases: [{until: 24h, every: 1ns}]\n", `23:3: watch.phases: schedule 86400000000000 checks, more than the limit of 500: check less often`},
		{"reminders every second", minimal + "approvals: {remind_every: 1s}\n", `22:27: approvals.remind_every: 1s within a timeout of 24h sends more than 100 reminders: remind less often`},
		{"workflow input too big", bigInput(), `1:1: the spec with its defaults is`},
		{"environment not canonical", strings.Replace(minimal, "environment: staging", "environment: Hold_Out", 1),
			`2:14: environment: "Hold_Out" is not a canonical environment name (lower-case letters, digits and '-', starting with a letter): write "hold-out"`},
		{"a thousand slots for a thousand people", crowd(), `approvals.slots[1].id: duplicate slot id "engineer"`},
		{"file too big", minimal + "# " + strings.Repeat("x", spec.MaxFileBytes) + "\n", `1:1: the file is larger than the limit of 256 KiB for a spec`},
	}
}

var placed = regexp.MustCompile(`^hostile\.yaml:\d+:\d+: `)

// TestHostileSpecsAreRefusedFastWithAPlace parses each hostile spec under a time
// and memory bound; the bounds are loose (a spec without limits would take hours
// or exhaust the machine), so load on the machine cannot make the test fail.
func TestHostileSpecsAreRefusedFastWithAPlace(t *testing.T) {
	for _, h := range hostileSpecs() {
		t.Run(h.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := spec.Parse("hostile.yaml", []byte(h.yaml))
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if took > 5*time.Second {
				t.Errorf("took %v", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			t.Logf("%v, %d KiB allocated", took, (after.TotalAlloc-before.TotalAlloc)>>10)
			var errs spec.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want spec.Errors, got %v", err)
			}
			text := err.Error()
			if !strings.Contains(text, h.want) {
				t.Errorf("errors do not mention %q:\n%s", h.want, clipped(text))
			}
			for _, line := range strings.Split(text, "\n") {
				if !placed.MatchString(line) && !strings.HasPrefix(line, "and ") {
					t.Errorf("line without a place: %s", clipped(line))
				}
				if len(line) > 600 {
					t.Errorf("line of %d bytes", len(line))
				}
			}
		})
	}
}

func clipped(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

func TestManyProblemsPrintFiftyAndACount(t *testing.T) {
	_, err := spec.Parse("hostile.yaml", []byte(minimal+strings.Repeat("x: 1\n", 200)))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != spec.MaxPrintedErrors+1 || !regexp.MustCompile(`^and \d+ more$`).MatchString(lines[len(lines)-1]) {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
}

func TestSmallLegitimateAliasesStillLoad(t *testing.T) {
	l, err := spec.Load("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Spec.Team) == 0 {
		t.Fatal("no team")
	}
}

func TestZeroWhereZeroMeansSomethingIsKept(t *testing.T) {
	l, err := spec.Parse("zero.yaml", []byte(minimal+"thresholds: {rollback: {degradation_min: 0s}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Spec.Thresholds.Rollback.DegradationMin; got != 0 {
		t.Errorf("degradation_min 0s became %v", got)
	}
	if l.Spec.Escalation.Levels[2].Response != 0 {
		t.Errorf("level 3 responds after %v", l.Spec.Escalation.Levels[2].Response)
	}
}

func TestCanonicalEnvironments(t *testing.T) {
	for env, want := range map[string]string{
		"production": "", "hold-out": "", "eu-west-2": "",
		"Production": `write "production"`, "holdout ": `write "holdout"`, "2nd": "not a canonical", "a.b": `write "a-b"`,
	} {
		_, err := spec.Parse("env.yaml", []byte(strings.Replace(minimal, "environment: staging", fmt.Sprintf("environment: %q", env), 1)))
		switch {
		case want == "" && err != nil && strings.Contains(err.Error(), "environment"):
			t.Errorf("%q: %v", env, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: want %q, got %v", env, want, err)
		}
	}
}

func TestLoadRefusesALargeFileWithoutReadingItWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil { // a sparse GiB
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = spec.Load(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "larger than the limit") {
		t.Fatalf("got %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d MiB to refuse it", alloc>>20)
	}
}
