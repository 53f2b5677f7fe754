package evidencestore

import (
	"slices"
	"testing"
	"time"
)

// Which version is golive's and what sits above it, from a key's listing
// (newest first, as S3 lists; delete markers after the versions, as the SDK
// splits them), when times are equal too (servers that list whole seconds).
func TestS3WrittenVersionAndWhatIsAboveIt(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	t1, t2 := t0.Add(time.Second), t0.Add(2*time.Second)
	v := func(id string, at time.Time, latest bool) objectVersion {
		return objectVersion{id: id, at: at, latest: latest}
	}
	m := func(id string, at time.Time, latest bool) objectVersion {
		return objectVersion{id: id, marker: true, at: at, latest: latest}
	}
	for _, c := range []struct {
		name    string
		vs      []objectVersion
		written string
		above   []string
	}{
		{"alone", []objectVersion{v("g", t1, true)}, "g", nil},
		{"under a marker", []objectVersion{v("g", t1, false), m("d", t2, true)}, "g", []string{"d"}},
		{"under a marker of the same second", []objectVersion{v("g", t1, false), m("d", t1, true)}, "g", []string{"d"}},
		{"over a marker from before it was written", []objectVersion{v("g", t1, true), m("d", t0, false)}, "g", nil},
		{"under a forged version and a marker", []objectVersion{v("f", t2, true), v("g", t1, false), m("d", t1, false)}, "g", []string{"d", "f"}},
		{"under a forged version of the same second", []objectVersion{v("f", t1, true), v("g", t1, false)}, "g", []string{"f"}},
		{"listed oldest first, same second", []objectVersion{v("g", t1, false), v("f", t1, true)}, "g", []string{"f"}},
		{"under two forged versions of the same second", []objectVersion{v("f2", t1, true), v("f1", t1, false), v("g", t1, false)}, "g", []string{"f2", "f1"}},
		{"only markers", []objectVersion{m("d", t1, true)}, "", nil},
	} {
		w, ok := written(c.vs)
		if got := map[bool]string{true: w.id}[ok]; got != c.written {
			t.Errorf("%s: written %q, want %q", c.name, got, c.written)
			continue
		}
		if !ok {
			continue
		}
		var ids []string
		for _, sh := range above(c.vs, w) {
			ids = append(ids, sh.VersionID)
		}
		if !slices.Equal(ids, c.above) {
			t.Errorf("%s: above %v, want %v", c.name, ids, c.above)
		}
	}
}
