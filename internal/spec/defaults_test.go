package spec_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/spec"
)

func TestWatchOffsets(t *testing.T) {
	l, err := spec.Load("../../examples/healthcare-production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want []time.Duration
	for m := 15 * time.Minute; m <= 4*time.Hour; m += 15 * time.Minute {
		want = append(want, m)
	}
	for h := 5 * time.Hour; h <= 12*time.Hour; h += time.Hour {
		want = append(want, h)
	}
	for h := 14 * time.Hour; h <= 24*time.Hour; h += 2 * time.Hour {
		want = append(want, h)
	}
	for _, w := range []spec.Watch{l.Spec.Watch, spec.Defaults().Watch} {
		offs := w.Offsets()
		if len(offs) != 30 || len(want) != 30 {
			t.Fatalf("%d offsets, want 30", len(offs))
		}
		for i, o := range offs {
			if o.Offset != want[i] {
				t.Errorf("offset %d = %s, want %s", i, o.Offset, want[i])
			}
		}
		if offs[0].Phase != "Hour 0-4 (Critical Period)" || offs[16].Phase != "Hour 4-12" || offs[29].Phase != "Hour 12-24" {
			t.Errorf("phases: %q %q %q", offs[0].Phase, offs[16].Phase, offs[29].Phase)
		}
	}
	demo, err := spec.Load("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(demo.Spec.Watch.Offsets()); n != 14 {
		t.Errorf("demo watch: %d checks, want 14", n)
	}
}

// seedLine is one "- [ ]" line of the checklist with its section headings.
type seedLine struct{ h2, h3, text, parent string }

// readSeed parses every checkbox line of the seed checklist.
func readSeed(t *testing.T) []seedLine {
	t.Helper()
	const path = "../../../shared/seed/production-deployment-checklist.md"
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the seed checklist is needed to check the default catalogue against it: %v", err)
	}
	defer f.Close()
	box := regexp.MustCompile(`^(\s*)- \[ \] (.*)$`)
	var out []seedLine
	var h2, h3, parent string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			h2, h3 = strings.TrimPrefix(line, "## "), ""
		case strings.HasPrefix(line, "### "):
			h3 = strings.TrimPrefix(line, "### ")
		}
		m := box.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		text := strings.ReplaceAll(m[2], "**", "")
		sl := seedLine{h2: h2, h3: h3, text: text}
		if m[1] == "" {
			parent = text
		} else {
			sl.parent = parent
		}
		out = append(out, sl)
	}
	if len(out) < 100 {
		t.Fatalf("read only %d checklist lines from %s", len(out), path)
	}
	return out
}

// titles lists item titles.
func titles(items []spec.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

func TestChecklistCoverage(t *testing.T) {
	lines := readSeed(t)
	hasChildren := map[string]bool{}
	for _, l := range lines {
		if l.parent != "" {
			hasChildren[l.parent] = true
		}
	}
	d := spec.Defaults()
	var slotTitles []string
	for _, b := range []spec.SignoffBlock{d.Approvals, d.Completion, d.Review.Signoffs} {
		for _, s := range b.Slots {
			slotTitles = append(slotTitles, s.Title)
		}
	}
	var flowTitles []string
	for _, f := range spec.DefaultFlows() {
		flowTitles = append(flowTitles, f.Title)
	}
	readiness := titles(spec.DefaultReadiness())
	seenReadiness := map[string]bool{}
	counts := map[string]int{}
	for _, l := range lines {
		switch {
		case l.h2 == "Pre-Deployment Checklist":
			if hasChildren[l.text] {
				continue // covered by its sub-lines
			}
			title := l.text
			if l.parent != "" {
				title = l.parent + " " + l.text
			}
			if !slices.Contains(readiness, title) {
				t.Errorf("Pre-Deployment Checklist line %q (%s) has no default readiness item", title, l.h3)
			}
			seenReadiness[title] = true
		case l.h3 == "Pre-Deployment (T-4 hours)" && (strings.HasPrefix(l.text, "Rollback plan review") || strings.HasPrefix(l.text, "Support team briefed")):
			if !slices.Contains(titles(spec.DefaultPrepare()), l.text) {
				t.Errorf("T-4h line %q has no prepare item", l.text)
			}
		case l.h3 == "Post-Rollback Actions":
			if !slices.Contains(titles(spec.DefaultActionItems()), l.text) {
				t.Errorf("post-rollback line %q has no action item", l.text)
			}
		case strings.HasPrefix(l.h2, "Post-Deployment Review"):
			if !slices.Contains(titles(spec.DefaultReviewItems()), l.text) && !slices.Contains(spec.ComputedReviewLines, l.text) {
				t.Errorf("review line %q has no review item", l.text)
			}
		case l.h2 == "Sign-offs":
			label, _, _ := strings.Cut(l.text, ":")
			if !slices.Contains(slotTitles, label) {
				t.Errorf("sign-off %q has no default slot", label)
			}
		case l.parent == "Check critical workflows:":
			if !slices.Contains(flowTitles, l.text) {
				t.Errorf("critical workflow %q has no default smoke flow", l.text)
			}
		default:
			continue // workflow steps (T-4h notices, T-0, T+1h, watch), not items
		}
		counts[l.h2]++
	}
	for _, title := range readiness {
		if !seenReadiness[title] {
			t.Errorf("default readiness item %q is not a checklist line", title)
		}
	}
	if counts["Pre-Deployment Checklist"] != 67 || len(readiness) != 67 {
		t.Errorf("readiness: %d checklist lines, %d items; want 67", counts["Pre-Deployment Checklist"], len(readiness))
	}
	if counts["Sign-offs"] != 7 || len(flowTitles) != 5 {
		t.Errorf("sign-offs %d (want 7), flows %d (want 5)", counts["Sign-offs"], len(flowTitles))
	}
}

func TestDefaultItemsWellFormed(t *testing.T) {
	ids := map[string]bool{}
	all := slices.Concat(spec.DefaultReadiness(), spec.DefaultPrepare(), spec.DefaultReviewItems(), spec.DefaultActionItems())
	for _, it := range all {
		if ids[it.ID] {
			t.Errorf("duplicate default id %q", it.ID)
		}
		ids[it.ID] = true
		if (it.Auto == nil) == (it.Attest == "") || it.Section == "" || it.Title == "" {
			t.Errorf("item %+v needs a section, a title and exactly one of auto/attest", it)
		}
		if it.Auto != nil && !slices.Contains(spec.CheckKinds, it.Auto.Kind) {
			t.Errorf("item %s: unknown check kind %q", it.ID, it.Auto.Kind)
		}
	}
	for _, id := range []string{"env.database", "db.migrations", "sec.tls", "comp.baa.sms", "prepare.rollback_plan", "prepare.support_briefed"} {
		if !ids[id] {
			t.Errorf("missing default item %s", id)
		}
	}
}

func TestMergeItems(t *testing.T) {
	defaults := spec.DefaultReadiness()
	merged := spec.MergeItems(defaults, []spec.Item{
		{ID: "env.secrets", Auto: &spec.Check{Kind: "command", Command: []string{"true"}}},
		{ID: "env.dns", Attest: "operations_lead", Title: "DNS checked by hand"},
		{ID: "custom.smoke", Title: "Custom", Attest: "project_manager"},
	})
	if len(merged) != len(defaults)+1 || merged[len(merged)-1].ID != "custom.smoke" || merged[len(merged)-1].Section != spec.SectionAdditional {
		t.Fatalf("new item not appended last: %+v", merged[len(merged)-1])
	}
	byID := map[string]spec.Item{}
	for i, it := range merged[:len(defaults)] {
		if it.ID != defaults[i].ID {
			t.Fatalf("order changed at %d: %s", i, it.ID)
		}
		byID[it.ID] = it
	}
	if s := byID["env.secrets"]; s.Attest != "" || s.Auto == nil || s.Auto.Kind != "command" || s.Title != defaults[2].Title {
		t.Errorf("auto override: %+v", s)
	}
	if d := byID["env.dns"]; d.Auto != nil || d.Attest != "operations_lead" || d.Title != "DNS checked by hand" {
		t.Errorf("attest override: %+v", d)
	}
	if defaults[5].Auto == nil || defaults[5].Attest != "" {
		t.Errorf("merge changed its input: %+v", defaults[5])
	}
}

func TestTeamHelpers(t *testing.T) {
	l, err := spec.Load("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := &l.Spec
	var ids []string
	for _, p := range s.People() {
		ids = append(ids, p.ID)
	}
	if strings.Join(ids, ",") != "alice,bob,carol,dave,erin" {
		t.Errorf("People = %v", ids)
	}
	if got := s.Roles("alice"); strings.Join(got, ",") != "development_lead,full_team,on_call_developer" {
		t.Errorf("Roles(alice) = %v", got)
	}
	if p, ok := s.Person("erin"); !ok || p.Name != "Erin Evans" || len(s.Roles("nobody")) != 0 {
		t.Errorf("Person(erin) = %+v %v", p, ok)
	}
	if !s.HasRole("bob", "engineer") || s.HasRole("erin", "operations_lead") || !s.HasRole("erin", "full_team") {
		t.Error("HasRole")
	}
	if n := len(s.Members("full_team")); n != 5 {
		t.Errorf("Members(full_team) = %d people, want 5", n)
	}
}
