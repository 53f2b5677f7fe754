package activities_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/spec"
)

// appErr returns err's application error type and whether it is non-retryable.
func appErr(t *testing.T, err error) (string, bool) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		return "", false
	}
	return ae.Type(), ae.NonRetryable()
}

func TestDemoDeployThenRevert(t *testing.T) {
	app, sa := demo(t, "1.0.0")
	d := &activities.Deployer{Logger: quiet()}
	ctx := context.Background()
	in := activities.DeployInput{ReleaseID: "release:portal:production/run-1", Deploy: spec.Deploy{Target: "demo"}, App: sa, Version: "2.0.0"}

	prev, err := d.CurrentVersion(ctx, in)
	if err != nil || prev != "1.0.0" {
		t.Fatalf("CurrentVersion = %q, %v", prev, err)
	}
	in.Previous = prev
	for attempt := 1; attempt <= 2; attempt++ { // the second call is a retried activity
		res, err := d.Deploy(ctx, in)
		if err != nil || res.Previous != "1.0.0" || res.Live != "2.0.0" {
			t.Fatalf("Deploy attempt %d = %+v, %v", attempt, res, err)
		}
	}
	if got, _ := d.CurrentVersion(ctx, in); got != "2.0.0" {
		t.Errorf("after deploy /version = %q", got)
	}
	if n := len(app.DeployLog()); n != 1 {
		t.Fatalf("retried deploy applied %d times", n)
	}

	for attempt := 1; attempt <= 2; attempt++ {
		res, err := d.Revert(ctx, in)
		if err != nil || res.Previous != "2.0.0" || res.Live != "1.0.0" {
			t.Fatalf("Revert attempt %d = %+v, %v", attempt, res, err)
		}
	}
	if got, _ := d.CurrentVersion(ctx, in); got != "1.0.0" {
		t.Errorf("after revert /version = %q", got)
	}
	log := app.DeployLog()
	if len(log) != 2 {
		t.Fatalf("deploy log = %+v", log)
	}
	want := []struct{ from, to, key string }{
		{"1.0.0", "2.0.0", "release:portal:production/run-1:norun:deploy:2.0.0"},
		{"2.0.0", "1.0.0", "release:portal:production/run-1:norun:revert:1.0.0"},
	}
	for i, w := range want {
		if log[i].From != w.from || log[i].To != w.to || log[i].Key != w.key {
			t.Errorf("deploy log[%d] = %+v, want %+v", i, log[i], w)
		}
	}

	// Deploy.URL, when set, is where the admin endpoint lives.
	in.App.URL, in.Deploy.URL = "http://127.0.0.1:1", sa.URL
	in.Version = "2.1.0"
	if res, err := d.Deploy(ctx, in); err != nil || res.Live != "2.1.0" || app.Version() != "2.1.0" {
		t.Errorf("deploy through deploy.url = %+v, %v", res, err)
	}
}

func TestDeployErrors(t *testing.T) {
	d := &activities.Deployer{Logger: quiet()}
	ctx := context.Background()
	_, sa := demo(t, "1.0.0")
	demoIn := activities.DeployInput{ReleaseID: "r", Deploy: spec.Deploy{Target: "demo"}, App: sa, Version: "2.0.0"}

	cases := []struct {
		name         string
		call         func() error
		typ          string
		nonRetryable bool
	}{
		{"no version", func() error { in := demoIn; in.Version = ""; _, err := d.Deploy(ctx, in); return err }, activities.ErrBadInput, true},
		{"revert without previous", func() error { _, err := d.Revert(ctx, demoIn); return err }, activities.ErrBadInput, true},
		{"ecs without deploy.ecs", func() error {
			in := demoIn
			in.Deploy.Target = "ecs"
			_, err := d.Deploy(ctx, in)
			return err
		}, activities.ErrBadInput, true},
		{"s3-static revert without deploy.s3", func() error {
			in := demoIn
			in.Deploy.Target, in.Previous = "s3-static", "1.0.0"
			_, err := d.Revert(ctx, in)
			return err
		}, activities.ErrBadInput, true},
		{"unknown target", func() error { in := demoIn; in.Deploy.Target = "ftp"; _, err := d.Deploy(ctx, in); return err }, activities.ErrBadInput, true},
		{"app down is retryable", func() error {
			in := demoIn
			in.App.URL = closedURL()
			_, err := d.Deploy(ctx, in)
			return err
		}, "", false},
		{"version path 404", func() error {
			in := demoIn
			in.App.VersionPath = "/nope"
			_, err := d.CurrentVersion(ctx, in)
			return err
		}, activities.ErrBadInput, true},
		{"refused deploy", func() error {
			// Someone used the key this deploy will use for another version: the app refuses with 409.
			body := `{"version":"4.0.0","key":"r2:norun:deploy:3.0.0"}`
			resp, err := http.Post(sa.URL+"/admin/deploy", "application/json", strings.NewReader(body))
			if err != nil {
				return err
			}
			resp.Body.Close()
			in := demoIn
			in.ReleaseID, in.Version = "r2", "3.0.0"
			_, err = d.Deploy(ctx, in)
			return err
		}, activities.ErrDeployFailed, true},
	}
	for _, c := range cases {
		err := c.call()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		typ, nonRetryable := appErr(t, err)
		if typ != c.typ || nonRetryable != c.nonRetryable {
			t.Errorf("%s: error %v has type %q non-retryable %v, want %q %v", c.name, err, typ, nonRetryable, c.typ, c.nonRetryable)
		}
	}
	_, err := d.Deploy(ctx, activities.DeployInput{Deploy: spec.Deploy{Target: "ecs"}, Version: "1"})
	if err == nil || !strings.Contains(err.Error(), "deploy.ecs.cluster") {
		t.Errorf("ecs error = %v", err)
	}
}

func TestCommandTarget(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "deploy.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1 $GOLIVE_VERSION $GOLIVE_PREVIOUS_VERSION $GOLIVE_RELEASE\" > \""+dir+"/$1.txt\"\necho done $1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := &activities.Deployer{Logger: quiet()}
	ctx := context.Background()
	in := activities.DeployInput{
		ReleaseID: "rel-7",
		Deploy:    spec.Deploy{Target: "command", Command: []string{script, "deploy"}, RollbackCommand: []string{script, "rollback"}},
		Version:   "2.0.0",
		Previous:  "1.0.0",
	}
	if v, err := d.CurrentVersion(ctx, in); v != "" || err != nil {
		t.Errorf("CurrentVersion = %q, %v", v, err)
	}
	res, err := d.Deploy(ctx, in)
	if err != nil || res.Live != "2.0.0" || res.Previous != "1.0.0" || strings.TrimSpace(res.Output) != "done deploy" {
		t.Fatalf("Deploy = %+v, %v", res, err)
	}
	readFile := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := readFile("deploy.txt"); got != "deploy 2.0.0 1.0.0 rel-7" {
		t.Errorf("deploy env = %q", got)
	}
	res, err = d.Revert(ctx, in)
	if err != nil || res.Live != "1.0.0" || res.Previous != "2.0.0" {
		t.Fatalf("Revert = %+v, %v", res, err)
	}
	if got := readFile("rollback.txt"); got != "rollback 1.0.0 2.0.0 rel-7" {
		t.Errorf("rollback env = %q", got)
	}

	noRollback := in
	noRollback.Deploy.RollbackCommand = nil
	if _, err := d.Revert(ctx, noRollback); err == nil {
		t.Error("revert without rollback command: no error")
	} else if typ, nr := appErr(t, err); typ != activities.ErrBadInput || !nr {
		t.Errorf("revert without rollback command: %v (%s, %v)", err, typ, nr)
	}

	failing := in
	failing.Deploy.Command = []string{"sh", "-c", "head -c 10000 /dev/zero | tr '\\0' x; echo; echo boom >&2; exit 3"}
	res, err = d.Deploy(ctx, failing)
	typ, nr := appErr(t, err)
	if typ != activities.ErrDeployFailed || !nr || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("failing deploy: %v (%s, %v)", err, typ, nr)
	}
	if len(res.Output) > 4096 || !strings.HasSuffix(strings.TrimSpace(res.Output), "boom") {
		t.Errorf("output kept %d bytes, ends %q", len(res.Output), res.Output[max(0, len(res.Output)-20):])
	}
	var ae *temporal.ApplicationError
	var detail string
	if errors.As(err, &ae) && ae.HasDetails() {
		_ = ae.Details(&detail)
	}
	if !strings.Contains(detail, "boom") {
		t.Errorf("error details lack the output: %q", detail)
	}

	missing := in
	missing.Deploy.Command = []string{filepath.Join(dir, "nope.sh")}
	if _, err := d.Deploy(ctx, missing); err == nil {
		t.Error("missing command: no error")
	} else if typ, nr := appErr(t, err); typ != activities.ErrBadInput || !nr {
		t.Errorf("missing command: %v (%s, %v)", err, typ, nr)
	}
}
