package approvals_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/passkey/passkeytest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/workflows"
)

// approvers are the four "Deployment Approved By" slots of the demo spec and who fills each.
var approvers = []struct{ person, slot, label string }{
	{"bob", "operations_lead", "Bob's phone"},
	{"alice", "development_lead", "Alice's phone"},
	{"carol", "compliance_officer", "Carol's phone"},
	{"dave", "project_manager", "Dave's phone"},
}

// TestFourPasskeysEnrolledFromInvitesSignEveryApprovalSlotOfAProductionRelease
// is the whole path in headless Chromium with a CDP virtual authenticator, on
// a 390x844 screen: the four approvers open their one-time invites and create
// passkeys; their YAML joins the directory file (the quorum-signed change,
// here written by the test, unsigned and accepted as such by this worker)
// before the release starts, so the release pins them; each approver opens
// the link a notice carries and approves their slot with the keyboard. The
// release is in production, whose policy requires every input signed: each
// slot records the passkey's fingerprint, judged by the workflow. Forged
// and replayed assertions sent straight to the release, past the server's
// courtesy check, are refused and recorded by the workflow; so is what a
// rogue approval server, on a directory of its own, vouches for.
func TestFourPasskeysEnrolledFromInvitesSignEveryApprovalSlotOfAProductionRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal, PostgreSQL databases and Chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	arts := artifacts(t)
	br := startBrowser(t, ctx, arts)
	tmp := t.TempDir()
	dirFile := filepath.Join(tmp, "directory.yaml")
	c, dc := startTemporal(t, &activities.Directory{Path: dirFile, Verify: directory.VerifyOptions{AllowUnsigned: true}})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	h := &swap{}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	key := []byte("0123456789abcdef0123456789abcdef")
	serve := func(d *directory.Directory) *approvals.Server {
		s, err := approvals.New(approvals.Options{Client: c, Directory: d, LinkKey: key, BaseURL: origin, EnrollDir: filepath.Join(tmp, "enroll"),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h.set(s.Handler())
		return s
	}
	serve(writeDirectory(t, dirFile, origin, nil))

	// Enrollment, before the release: one invite per approver.
	entries := map[string][]string{}
	for _, a := range approvers {
		invite := origin + approvals.InvitePath(key, approvals.NewInvite(a.person, time.Now(), time.Hour))
		got, err := br.Enroll(invite, a.label)
		if err != nil {
			t.Fatal(err)
		}
		snippet := got.YAML
		if !strings.Contains(snippet, "credential_id:") || !strings.Contains(snippet, "label: "+a.label) {
			t.Fatalf("enrollment snippet of %s: %q", a.person, snippet)
		}
		entries[a.person] = append(entries[a.person], snippet)
		if a.person == "bob" {
			if resp, err := http.Get(invite); err != nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("second use of an invite: %v %v, want 403", resp.StatusCode, err)
			}
		}
	}
	// Software passkeys for the forgeries: a second one of bob's, erin's (the
	// requester), and one the directory never holds.
	soft := passkeytest.New("localhost", origin)
	bobSoft := soft.Register(passkey.AlgEdDSA, "Bob's laptop")
	erinSoft := soft.Register(passkey.AlgES256, "Erin's phone")
	unlisted := soft.Register(passkey.AlgES256, "Bob's old phone")
	entries["bob"] = append(entries["bob"], softEntry(bobSoft))
	entries["erin"] = append(entries["erin"], softEntry(erinSoft))
	s := serve(writeDirectory(t, dirFile, origin, entries))

	// The release starts now and pins the directory with the passkeys.
	rel := startRelease(t, ctx, c, "production")
	forgeries(t, ctx, rel, s, origin, soft, bobSoft, erinSoft, unlisted)

	// A compromised approval server, whose directory holds a passkey the
	// release did not pin, passes its own check and sends the Update: the
	// workflow, judging by its pinned directory, refuses it.
	rogue := map[string][]string{"bob": {softEntry(unlisted)}}
	serve(writeDirectory(t, filepath.Join(tmp, "rogue.yaml"), origin, rogue))
	code, m := signThroughPage(t, s, origin, rel.id, "bob", "operations_lead", func(c []byte) passkey.Assertion { return soft.Assert(unlisted, c, passkeytest.Options{}) })
	if code != http.StatusConflict || !strings.Contains(m["error"], passkey.ErrUnknownCredential.Error()) {
		t.Errorf("a rogue server's passkey: %d %v, want the workflow's refusal", code, m)
	}
	h.set(s.Handler())

	for i, a := range approvers {
		// The link a notice carries (the short form), for this person and release.
		link := approvals.Linker(origin, key, time.Hour, nil)(rel.id, a.person)
		got, err := br.Approve(link, a.slot, "ok from "+a.label)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Accepted", a.slot, a.label, "passkey:SHA256:", "golive-approval-v1", "the release workflow"} {
			if !strings.Contains(got.Text, want) {
				t.Errorf("confirmation page of %s lacks %q:\n%s", a.person, want, got.Text)
			}
		}
		t.Logf("%s: plan page load %.0fms, passkey click to accepted Update %.0fms", a.slot, got.PlanMS, got.ClickToAcceptedMS)
		if i == 0 {
			replay(t, ctx, rel, dc, a.person)
		}
	}
	st := rel.status(ctx)
	for _, a := range approvers {
		by := slotBy(st, a.slot)
		if sl := slotState(st, a.slot); sl != record.ItemPassed {
			t.Errorf("slot %s is %s, want passed", a.slot, sl)
		}
		if by == nil || by.Person != a.person || !by.Signed || !strings.HasPrefix(by.Fingerprint, "passkey:") || by.Fingerprint == bobSoft.Fingerprint {
			t.Errorf("slot %s: %+v, want signed by %s's enrolled passkey", a.slot, by, a.person)
		}
	}

	nojs, err := br.ReadWithoutJS(s.ReleaseLink(rel.id, "carol", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	text := nojs.Text
	for _, want := range []string{"demo-portal", "→ 1.1.0", "Readiness (failures first)", "Sign-offs", "approve by Carol Chen (carol)"} {
		if !strings.Contains(text, want) {
			t.Errorf("page with JavaScript off lacks %q:\n%s", want, text)
		}
	}
	t.Logf("screenshots in %s", arts)
}

func slotState(st record.Status, slot string) record.ItemState {
	for _, sl := range st.Slots {
		if sl.ID == slot {
			return sl.State
		}
	}
	return ""
}

func slotBy(st record.Status, slot string) *record.SignedBy {
	for _, sl := range st.Slots {
		if sl.ID == slot && len(sl.By) > 0 {
			return &sl.By[0]
		}
	}
	return nil
}

// passkeySignoff is the sign-off sent, with an assertion made by cred over
// the statement of signed (the same sign-off unless a forgery changes it).
func passkeySignoff(soft *passkeytest.Authenticator, cred passkey.Credential, ref workflows.ReleaseRef, signed, sent workflows.Signoff, o passkeytest.Options) workflows.Signoff {
	a := soft.Assert(cred, passkey.Challenge(signed.SignoffStatement(ref, "approvals").Bytes()), o)
	sent.Passkey = &a
	return sent
}

// forgeries sends what must not count straight to the release (past the
// approval server's courtesy check), and the requester's own sign-off through
// the page: the workflow refuses each and records it in status.refused.
func forgeries(t *testing.T, ctx context.Context, rel release, s *approvals.Server, origin string, soft *passkeytest.Authenticator, bob, erin, unlisted passkey.Credential) {
	now := time.Now().UTC().Truncate(time.Second)
	good := workflows.Signoff{Slot: "operations_lead", Person: "bob", Decision: workflows.Approve, Comment: "ship it", SignedAt: now}
	other := rel.ref()
	other.WorkflowID = workflows.ReleaseID("demo-portal", "staging")
	otherSlot, changed, stale := good, good, good
	otherSlot.Slot = "development_lead"
	changed.Comment = "ship it now"
	stale.SignedAt = now.Add(-3 * time.Hour)
	cases := []struct {
		name   string
		in     workflows.Signoff
		reason string
	}{
		{"another release's statement", passkeySignoff(soft, bob, other, good, good, passkeytest.Options{}), passkey.ErrChallenge.Error()},
		{"another slot's statement", passkeySignoff(soft, bob, rel.ref(), otherSlot, good, passkeytest.Options{}), passkey.ErrChallenge.Error()},
		{"a changed comment", passkeySignoff(soft, bob, rel.ref(), good, changed, passkeytest.Options{}), passkey.ErrChallenge.Error()},
		{"a stale assertion", passkeySignoff(soft, bob, rel.ref(), stale, stale, passkeytest.Options{}), "signature time out of range"},
		{"a credential not in the directory", passkeySignoff(soft, unlisted, rel.ref(), good, good, passkeytest.Options{}), passkey.ErrUnknownCredential.Error()},
		{"no user verification", passkeySignoff(soft, bob, rel.ref(), good, good, passkeytest.Options{NoUV: true}), passkey.ErrUserVerification.Error()},
	}
	for _, tc := range cases {
		if res, err := rel.update(ctx, workflows.SignoffName, tc.in); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: accepted or refused for another reason: %+v %v (want %q)", tc.name, res, err, tc.reason)
		}
	}
	// The requester, through the page: the page offers her no form, and the
	// workflow refuses what the server (which does not judge duties) sends.
	resp, err := http.Get(s.ReleaseLink(rel.id, "erin", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "You requested this release") || strings.Contains(string(page), "Approve with passkey") {
		t.Errorf("requester's page offers a sign-off")
	}
	code, m := signThroughPage(t, s, origin, rel.id, "erin", "operations_lead", func(c []byte) passkey.Assertion { return soft.Assert(erin, c, passkeytest.Options{}) })
	if code != http.StatusConflict || !strings.Contains(m["error"], "may not sign it off") {
		t.Errorf("requester's sign-off through the page: %d %v", code, m)
	}

	st := rel.status(ctx)
	for _, tc := range cases {
		if !refused(st, "bob", tc.reason) {
			t.Errorf("%s: not in status.refused", tc.name)
		}
	}
	if !refused(st, "erin", "may not sign it off") {
		t.Errorf("the requester's sign-off: not in status.refused")
	}
	if by := slotBy(st, "operations_lead"); by != nil {
		t.Fatalf("a forged sign-off counted: %+v", by)
	}
	for _, rf := range st.Refused {
		t.Logf("refused (%s, %d×): %s by %s: %s", rf.Channel, rf.Count, rf.Input, rf.Person, rf.Reason)
	}
}

// signThroughPage drives the page's two JSON endpoints as its script does.
func signThroughPage(t testing.TB, s *approvals.Server, origin, release, person, slot string, assert func([]byte) passkey.Assertion) (int, map[string]string) {
	u := s.ReleaseLink(release, person, time.Hour)
	q := mustQuery(t, u)
	post := func(path string, body any, out any) int {
		b, _ := json.Marshal(body)
		resp, err := http.Post(origin+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(out)
		return resp.StatusCode
	}
	var ch approvals.Challenge
	var m map[string]string
	req := approvals.Request{Release: release, P: q["p"], Exp: q["exp"], Sig: q["sig"], Action: approvals.ActionSignoff, Slot: slot, Decision: "approve"}
	if code := post("/api/challenge", req, &ch); code != http.StatusOK {
		t.Fatalf("challenge for %s: %d", person, code)
	}
	chal, _ := passkey.DecodeB64(ch.Challenge)
	code := post("/api/submit", approvals.Submission{Token: ch.Token, Assertion: assert(chal)}, &m)
	return code, m
}

func refused(st record.Status, person, reason string) bool {
	for _, rf := range st.Refused {
		if rf.Person == person && rf.Input == workflows.SignoffName && strings.Contains(rf.Reason, reason) {
			return true
		}
	}
	return false
}

// replay reads person's accepted sign-off back from the release's history,
// as anyone with Temporal access can, and sends it again: refused.
func replay(t *testing.T, ctx context.Context, rel release, dc converter.DataConverter, person string) {
	it := rel.c.GetWorkflowHistory(ctx, rel.id, rel.run, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var accepted *workflows.Signoff
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		in := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput()
		if in.GetName() != workflows.SignoffName {
			continue
		}
		var s workflows.Signoff
		if err := dc.FromPayloads(in.GetArgs(), &s); err == nil && s.Person == person && s.Passkey != nil {
			accepted = &s
		}
	}
	if accepted == nil {
		t.Fatalf("no accepted passkey sign-off of %s in the history", person)
	}
	if res, err := rel.update(ctx, workflows.SignoffName, *accepted); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("replayed passkey sign-off: %+v %v, want refused as already used", res, err)
	}
	if !refused(rel.status(ctx), person, "already used") {
		t.Errorf("replayed passkey sign-off: not in status.refused")
	}
}

func mustQuery(t testing.TB, link string) map[string]string {
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range u.Query() {
		out[k] = v[0]
	}
	return out
}
