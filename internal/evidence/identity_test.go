package evidence_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golive/golive/internal/evidence"
	"github.com/golive/golive/internal/record"
)

// The evidence says who did what and how it was proven: the pinned directory
// with its signers, the requester's key, each input signed or marked
// unsigned, and refusals with how many times they came.
func TestEvidenceSaysWhoDidItAndHowItWasProven(t *testing.T) {
	st := rolledBack()
	at := time.Date(2026, 12, 1, 21, 0, 0, 0, time.UTC)
	st.Requester, st.RequesterFingerprint = "erin", "SHA256:erinKEY"
	st.Directory = &record.Directory{File: "team.yaml", Digest: "0123456789abcdef", Environment: "production", Signers: []string{"henry", "olivia"}, RequireSigned: true,
		People: []string{"alice: development_lead; SHA256:aliceKEY"}}
	st.Proofs = []record.Proof{{At: at, Input: "start", Person: "erin", Fingerprint: "SHA256:erinKEY"}, {At: at, Input: "attest", Person: "carol", Detail: "comp.hipaa"}}
	st.Refused = append(st.Refused, record.Refusal{At: at, Input: "abort", Person: "alice", Reason: "abort must be signed", Channel: record.ChannelSignal, Count: 250})
	st.RefusedTotal = 251
	md := evidence.Markdown(st)
	for _, want := range []string{"erin (start signed with SHA256:erinKEY)", "signed by henry, olivia", "every input must be signed",
		"| start | erin | signed SHA256:erinKEY |", "| attest | carol | unsigned |", "abort signal ×250 by alice", "251 input(s) refused in all"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown evidence lacks %q", want)
		}
	}
	page := evidence.HTML(st)
	for _, want := range []string{"Who did it", "signed SHA256:erinKEY", "×250", "unsigned"} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML evidence lacks %q", want)
		}
	}
}
