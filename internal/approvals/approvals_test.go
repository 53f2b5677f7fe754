package approvals_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"

	"github.com/golive/golive/internal/approvals"
	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/migrate"
	"github.com/golive/golive/internal/passkey"
	"github.com/golive/golive/internal/passkey/passkeytest"
	"github.com/golive/golive/internal/pgtest"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

const root = "../.."

// startTemporal is an in-process Temporal server with golive's worker on the demo team directory.
func startTemporal(t *testing.T) client.Client {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := client.Options{Logger: sdklog.NewStructuredLogger(quiet)}
	cod, err := worker.Encryption(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	worker.ApplyConverters(&opts, cod)
	ts := temporaltest.NewServer(temporaltest.WithBaseClientOptions(opts))
	t.Cleanup(ts.Stop)
	c := ts.GetDefaultClient()
	attrs := map[string]enums.IndexedValueType{}
	for _, name := range workflows.SearchAttributeNames() {
		attrs[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ts.GetDefaultNamespace(), SearchAttributes: attrs}); err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, worker.Options{Logger: quiet, Directory: worker.DemoDirectory(root)})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return c
}

// demoSpec is examples/demo.yaml against a demo app, with a fresh database
// and the demo's first three migrations to apply, T-0 an hour away.
func demoSpec(t *testing.T) spec.Spec {
	t.Helper()
	app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 20, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go app.RunTraffic(ctx)
	l, err := spec.Load(filepath.Join(root, "examples", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec
	s.App.URL, s.Deploy.URL, s.Metrics.URL = srv.URL, "", srv.URL+"/stats"
	s.Evidence.Dir = t.TempDir()
	s.Database.URL = pgtest.NewDatabase(t)
	s.Database.Migrations = filepath.Join(t.TempDir(), "migrations")
	if err := migrate.Stage(filepath.Join(root, "examples", "migrations", "demo"), s.Database.Migrations, 3); err != nil {
		t.Fatal(err)
	}
	for i := range s.Readiness.Items {
		if a := s.Readiness.Items[i].Auto; a != nil {
			a.Database, a.Backup = nil, nil
		}
	}
	spec.ApplyDefaults(&s)
	return s
}

type release struct {
	t  *testing.T
	c  client.Client
	id string
}

func (r release) status(ctx context.Context) record.Status {
	v, err := r.c.QueryWorkflow(ctx, r.id, "", workflows.StatusQuery)
	if err != nil {
		r.t.Fatalf("status: %v", err)
	}
	var st record.Status
	if err := v.Get(&st); err != nil {
		r.t.Fatal(err)
	}
	return st
}

func (r release) waitFor(ctx context.Context, what string, ok func(record.Status) bool) record.Status {
	for ctx.Err() == nil {
		if st := r.status(ctx); ok(st) {
			return st
		} else if st.Stage == record.StageDone {
			r.t.Fatalf("release ended (%s: %s) while waiting for %s", st.Outcome, st.Reason, what)
		}
		time.Sleep(150 * time.Millisecond)
	}
	r.t.Fatalf("timed out waiting for %s", what)
	return record.Status{}
}

// startRelease starts a demo release (requester erin) and answers its
// readiness attestations, so its four approval slots wait.
func startRelease(t *testing.T, ctx context.Context, c client.Client) release {
	s := demoSpec(t)
	r := release{t: t, c: c, id: workflows.ReleaseID(s.Service, s.Environment)}
	in := workflows.ReleaseInput{Spec: s, Version: "1.1.0", Requester: "erin", Window: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: r.id, TaskQueue: workflows.TaskQueue}, workflows.ReleaseWorkflow, in); err != nil {
		t.Fatal(err)
	}
	r.waitFor(ctx, "readiness attestations", func(st record.Status) bool { return st.Stage == record.StageReadiness && st.Waiting != "" })
	for _, p := range []string{"alice", "bob", "carol", "dave"} {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: r.id, UpdateName: workflows.AttestName, Args: []any{workflows.Attest{Person: p}}, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			t.Fatalf("attest by %s: %v", p, err)
		}
	}
	r.waitFor(ctx, "four approval slots", func(st record.Status) bool {
		n := 0
		for _, sl := range st.Slots {
			if sl.Block == "approvals" && sl.State == record.ItemWaiting {
				n++
			}
		}
		return st.Stage == record.StageApprovals && n == 4
	})
	return r
}

// swap is a handler the test replaces when the directory changes (the
// operator restarts the approval server on the new directory).
type swap struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *swap) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }
func (s *swap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// writeDirectory is the demo directory with its webauthn origin moved to origin and extra YAML after carol's key.
func writeDirectory(t *testing.T, path, origin, afterCarol string) *directory.Directory {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "directory", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(b), "carol@demo.golive\n", "carol@demo.golive\n"+afterCarol, 1)
	body = strings.Replace(body, `origins: ["http://localhost:8234"]`, `origins: ["`+origin+`"]`, 1)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := directory.Load(path)
	if err != nil {
		t.Fatalf("directory with passkeys: %v", err)
	}
	return d
}

func artifacts(t *testing.T) string {
	dir := os.Getenv("GOLIVE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(root, "artifacts", "approvals")
	}
	abs, _ := filepath.Abs(dir)
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

func browserTools(t *testing.T) (node, playwright, chromium string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	tools := os.Getenv("GOLIVE_TOOLS")
	if tools == "" {
		tools = filepath.Join(root, ".tools")
	}
	playwright, _ = filepath.Abs(filepath.Join(tools, "node_modules", "playwright-core"))
	if _, err := os.Stat(filepath.Join(playwright, "package.json")); err != nil {
		t.Fatalf("playwright-core is not in %s: run `make tools`", tools)
	}
	chromium = os.Getenv("GOLIVE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	return node, playwright, chromium
}

// TestAPasskeyEnrolledFromAnInviteSignsASlotFromThePhonePage is the whole
// path in headless Chromium with a CDP virtual authenticator: carol opens her
// one-time invite and creates a passkey; its YAML joins the directory (the
// quorum-signed change, here written by the test); she opens the link a
// notice carries and approves the compliance_officer slot on a 390x844
// screen with the keyboard; the release records her sign-off. The page is
// read again with JavaScript off.
func TestAPasskeyEnrolledFromAnInviteSignsASlotFromThePhonePage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal, PostgreSQL databases and Chromium")
	}
	node, playwright, chromium := browserTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := startTemporal(t)
	rel := startRelease(t, ctx, c)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	h := &swap{}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	tmp := t.TempDir()
	dirFile := filepath.Join(tmp, "directory.yaml")
	key := []byte("0123456789abcdef0123456789abcdef")
	attach := false
	serve := func(d *directory.Directory) *approvals.Server {
		s, err := approvals.New(approvals.Options{Client: c, Directory: d, LinkKey: key, BaseURL: origin, EnrollDir: filepath.Join(tmp, "enroll"),
			AttachPasskey: attach, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		h.set(s.Handler())
		return s
	}
	serve(writeDirectory(t, dirFile, origin, ""))
	invite := origin + approvals.InvitePath(key, approvals.NewInvite("carol", time.Now(), time.Hour))

	arts := artifacts(t)
	cfg, _ := json.Marshal(map[string]any{"playwright": playwright, "chromium": chromium, "invite": invite, "artifacts": arts, "label": "Carol's phone"})
	cmd := exec.CommandContext(ctx, node, "testdata/passkey.js", string(cfg))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Wait()
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if l != "" {
				t.Logf("browser: %s", l)
			}
		}
	}()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	next := func(step string) map[string]any {
		for lines.Scan() {
			var m map[string]any
			if err := json.Unmarshal(lines.Bytes(), &m); err != nil {
				t.Fatalf("browser: %s", lines.Text())
			}
			if m["step"] == step {
				return m
			}
		}
		_ = cmd.Wait()
		t.Fatalf("browser ended before %q:\n%s", step, stderr.String())
		return nil
	}

	enrolled := next("enrolled")
	snippet, _ := enrolled["yaml"].(string)
	if !strings.Contains(snippet, "credential_id:") || !strings.Contains(snippet, "label: Carol's phone") || enrolled["credentials"] != 1.0 {
		t.Fatalf("enrollment snippet %q, virtual authenticator holds %v credentials", snippet, enrolled["credentials"])
	}
	// The invite was for one use.
	if resp, err := http.Get(invite); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("second use of the invite: %v %v, want 403", resp.StatusCode, err)
	}
	// The directory change: carol's new passkey, and a software one for bob.
	soft := passkeytest.New("localhost", origin)
	bobKey := soft.Register(passkey.AlgEdDSA, "Bob's laptop")
	daveKey := soft.Register(passkey.AlgES256, "Dave's phone")
	d2 := writeDirectory(t, dirFile, origin, "    passkeys:\n"+snippet)
	b, _ := os.ReadFile(dirFile)
	bobEntry := "bob@demo.golive\n    passkeys:\n      - {credential_id: " + bobKey.ID + ", public_key: " + bobKey.PublicKey + ", label: Bob's laptop, added: 2026-12-07}\n"
	daveEntry := "dave@demo.golive\n    passkeys:\n      - {credential_id: " + daveKey.ID + ", public_key: " + daveKey.PublicKey + ", label: Dave's phone, added: 2026-12-07}\n"
	b = bytes.Replace(b, []byte("bob@demo.golive\n"), []byte(bobEntry), 1)
	if err := os.WriteFile(dirFile, bytes.Replace(b, []byte("dave@demo.golive\n"), []byte(daveEntry), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if d2, err = directory.Load(dirFile); err != nil {
		t.Fatal(err)
	}
	s2 := serve(d2)

	link := s2.ReleaseLink(rel.id, "carol", time.Hour)
	msg, _ := json.Marshal(map[string]string{"link": link, "slot": "compliance_officer", "comment": "BAAs on file"})
	if _, err := stdin.Write(append(msg, '\n')); err != nil {
		t.Fatal(err)
	}
	approved := next("approved")
	text, _ := approved["text"].(string)
	for _, want := range []string{"Accepted", "compliance_officer", "Carol Chen", "Carol's phone", "passkey:SHA256:", "golive-approval-v1", `comment "BAAs on file"`} {
		if !strings.Contains(text, want) {
			t.Errorf("confirmation page lacks %q:\n%s", want, text)
		}
	}
	t.Logf("plan page load %vms, passkey click to accepted Update %vms", approved["plan_ms"], approved["click_to_accepted_ms"])
	st := rel.status(ctx)
	if by := slotBy(st, "compliance_officer"); by == nil || by.Person != "carol" || by.Comment != "BAAs on file" || by.Decision != "approve" {
		t.Fatalf("compliance_officer slot: %+v", by)
	}

	nojs := next("nojs")
	text, _ = nojs["text"].(string)
	for _, want := range []string{"demo-portal", "→ 1.1.0", "Signing needs a passkey", "JavaScript is off", "Readiness (failures first)", "Sign-offs", "approve by Carol Chen (carol)"} {
		if !strings.Contains(text, want) {
			t.Errorf("page with JavaScript off lacks %q:\n%s", want, text)
		}
	}
	t.Logf("screenshots in %s", arts)

	refusals(t, ctx, rel, s2, origin, soft, bobKey)

	// The payload field the workflow is to verify: with AttachPasskey the
	// Update carries "passkey". PENDING (issue 14): the workflow's strict
	// decoding refuses the unknown field until workflows.Signoff (and Attest,
	// Ack, RollbackRequest) get `Passkey *passkey.Assertion \`json:"passkey,omitempty"\``;
	// once it verifies the assertion, this must be accepted instead.
	attach = true
	s3 := serve(d2)
	u, _ := url.Parse(s3.ReleaseLink(rel.id, "dave", time.Hour))
	q := u.Query()
	body, _ := json.Marshal(approvals.Request{Release: rel.id, P: q.Get("p"), Exp: q.Get("exp"), Sig: q.Get("sig"), Action: approvals.ActionSignoff, Slot: "project_manager", Decision: "approve"})
	resp, err := http.Post(origin+"/api/challenge", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var ch approvals.Challenge
	_ = json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	chal, _ := passkey.DecodeB64(ch.Challenge)
	body, _ = json.Marshal(approvals.Submission{Token: ch.Token, Assertion: soft.Assert(daveKey, chal, passkeytest.Options{})})
	resp, err = http.Post(origin+"/api/submit", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(out["error"], `unknown field "passkey"`) {
		t.Errorf("PENDING workflow wiring: the Update with a passkey field: %d %v (want the workflow's refusal of the unknown field until it verifies passkeys)", resp.StatusCode, out)
	}
}

func slotBy(st record.Status, slot string) *record.SignedBy {
	for _, sl := range st.Slots {
		if sl.ID == slot && len(sl.By) > 0 {
			return &sl.By[0]
		}
	}
	return nil
}

// refusals drives the JSON endpoints as a browser would, with bob's software
// passkey: what must not reach the release does not, and the right input does.
func refusals(t *testing.T, ctx context.Context, rel release, s *approvals.Server, origin string, soft *passkeytest.Authenticator, bob passkey.Credential) {
	post := func(path string, body any) (int, map[string]string) {
		b, _ := json.Marshal(body)
		resp, err := http.Post(origin+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	request := func(person, slot, comment string) approvals.Request {
		u, _ := url.Parse(s.ReleaseLink(rel.id, person, time.Hour))
		q := u.Query()
		return approvals.Request{Release: rel.id, P: q.Get("p"), Exp: q.Get("exp"), Sig: q.Get("sig"), Action: approvals.ActionSignoff, Slot: slot, Decision: "approve", Comment: comment}
	}
	challenge := func(req approvals.Request) approvals.Challenge {
		b, _ := json.Marshal(req)
		resp, err := http.Post(origin+"/api/challenge", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c approvals.Challenge
		_ = json.NewDecoder(resp.Body).Decode(&c)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("challenge: %d", resp.StatusCode)
		}
		return c
	}

	// A link edited to name another person is refused before anything is built.
	tampered := request("bob", "operations_lead", "")
	tampered.P = "dave"
	if code, m := post("/api/challenge", tampered); code != http.StatusForbidden || !strings.Contains(m["error"], "not one this server made") {
		t.Errorf("tampered link: %d %v", code, m)
	}
	// An assertion over another statement (a changed comment) is refused, nothing sent.
	c := challenge(request("bob", "operations_lead", "ship it"))
	otherStmt := strings.Replace(c.Statement, `"ship it"`, `"ship it now"`, 1)
	a := soft.Assert(bob, passkey.Challenge([]byte(otherStmt)), passkeytest.Options{})
	if code, m := post("/api/submit", approvals.Submission{Token: c.Token, Assertion: a}); code != http.StatusForbidden || !strings.Contains(m["error"], "another statement") {
		t.Errorf("assertion over a changed comment: %d %v", code, m)
	}
	// No user verification where the directory requires it.
	c = challenge(request("bob", "operations_lead", "ship it"))
	chal, _ := passkey.DecodeB64(c.Challenge)
	if code, m := post("/api/submit", approvals.Submission{Token: c.Token, Assertion: soft.Assert(bob, chal, passkeytest.Options{NoUV: true})}); code != http.StatusForbidden || !strings.Contains(m["error"], "user verification") {
		t.Errorf("assertion without UV: %d %v", code, m)
	}
	// Another person's credential (bob's) for carol's link.
	c = challenge(request("carol", "compliance_officer", "again"))
	chal, _ = passkey.DecodeB64(c.Challenge)
	if code, m := post("/api/submit", approvals.Submission{Token: c.Token, Assertion: soft.Assert(bob, chal, passkeytest.Options{})}); code != http.StatusForbidden || !strings.Contains(m["error"], "not among the person's") {
		t.Errorf("bob's passkey on carol's statement: %d %v", code, m)
	}
	if st := rel.status(ctx); slotBy(st, "operations_lead") != nil {
		t.Fatalf("a refused assertion reached the release: %+v", slotBy(st, "operations_lead"))
	}
	// The right assertion is accepted; the same submission again is not sent twice.
	c = challenge(request("bob", "operations_lead", "ship it"))
	chal, _ = passkey.DecodeB64(c.Challenge)
	good := approvals.Submission{Token: c.Token, Assertion: soft.Assert(bob, chal, passkeytest.Options{})}
	if code, m := post("/api/submit", good); code != http.StatusOK || !strings.Contains(m["message"], "operations_lead") {
		t.Fatalf("bob's sign-off: %d %v", code, m)
	}
	if code, _ := post("/api/submit", good); code != http.StatusGone {
		t.Errorf("replayed submission: %d, want 410", code)
	}
	if by := slotBy(rel.status(ctx), "operations_lead"); by == nil || by.Person != "bob" || by.Comment != "ship it" {
		t.Fatalf("operations_lead slot: %+v", by)
	}
	// The requester's page offers no sign-off.
	resp, err := http.Get(s.ReleaseLink(rel.id, "erin", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "You requested this release") || strings.Contains(string(page), "Approve with passkey") {
		t.Errorf("requester's page offers a sign-off")
	}
}
