package record

import (
	"encoding/json"
	"testing"
	"time"
)

func TestWaitReadsTheStringOlderWorkersAnswer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Wait
	}{
		{`{"waiting": "approvals sign-offs: compliance_officer"}`, Wait{Kind: WaitPerson, For: "approvals sign-offs: compliance_officer"}},
		{`{"waiting": "held by erin: resume with golive resume"}`, Wait{Kind: WaitHold, For: "held by erin: resume with golive resume"}},
		{`{"waiting": {"kind": "timer", "for": "T-0", "until": "2026-12-08T14:00:00Z"}}`, Wait{Kind: WaitTimer, For: "T-0", Until: time.Date(2026, 12, 8, 14, 0, 0, 0, time.UTC)}},
	} {
		var st Status
		if err := json.Unmarshal([]byte(tc.in), &st); err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if st.Waiting == nil || *st.Waiting != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.in, st.Waiting, tc.want)
		}
	}
	var st Status
	if err := json.Unmarshal([]byte(`{"waiting": 3}`), &st); err == nil {
		t.Error("a number was read as a wait")
	}
}
