//go:build !nodevserver

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/golive/golive/internal/demoapp"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
	"github.com/golive/golive/workflows"
)

func newDemoCmd(g *globals) *cobra.Command {
	var f devFlags
	var specPath, appAddr, good, bad string
	var stay, verbose bool
	var pgServer, promFlag, logPath string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run two whole releases live: a good one, then a bad one that rolls back by itself",
		Long: `demo starts an embedded Temporal server with its UI, a worker and the demo
target app, then releases a good version of examples/demo.yaml and signs it off
with the same golive commands a person would type (each one echoed), and then a
bad version whose error rate triggers the automatic rollback. The spec runs the
whole checklist with its cadence in seconds.

When Prometheus is installed (Debian: apt-get install prometheus), the demo
starts it on a free loopback port, scraping the demo app's /metrics every
second (data in .golive/demo/prometheus, wiped at each start, the server
stopped when the demo ends), and the watch reads its metrics in PromQL from it
(the spec released is then .golive/demo/demo.yaml). Without it, the watch
reads the demo app's /stats directly.

The approval pages run beside the server (--approvals, 127.0.0.1:8234) and
every sign-off notice links to them. When node, playwright-core (make tools)
and Chromium are there, carol enrolls a passkey in headless Chromium with a
virtual authenticator before the first release; the change to a copy of the
directory (.golive/demo/directory.yaml) is signed by the demo admins olivia and
henry, the releases pin it, and carol's compliance_officer slot is approved
on the page her notice links to. Without them the demo says so and signs
every slot by CLI.

It prints the release as a person follows it: each stage, each item as it
ends, every command as typed, the watch's readings and the decision. The
structured logs of the server, the worker and the demo app go to a file it
names (--log, .golive/demo/demo.log); --verbose also prints them in between.`,
		Example: "  golive demo\n  golive demo --stay   # keep the UI and Prometheus up afterwards until Ctrl-C\n  golive demo --prometheus=off   # read /stats directly",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			loaded, err := spec.Load(specPath)
			if err != nil {
				return err
			}
			promBin, promNote, err := findDemoPrometheus(promFlag, cmd.Flags().Changed("prometheus"))
			if err != nil {
				return err
			}
			log, closeLog, err := demoLogger(g, logPath, verbose)
			if err != nil {
				return err
			}
			defer closeLog()
			if err := demoDatabases(ctx, pgServer); err != nil {
				return err
			}
			fmt.Printf("demo database   %s and audit ledger %s on %s\n", demoDB, demoAuditDB, pgServer)
			app := demoapp.New(demoapp.Options{Version: "1.0.0", Traffic: 25, RampUp: 6 * time.Second, Logger: log})
			os.Setenv("GOLIVE_DEMO_JWT_KEY", demoapp.DemoJWTKey) // sec.auth's test-only key in examples/demo.yaml
			bound, err := app.Serve(ctx, appAddr)
			if err != nil {
				return fmt.Errorf("start demo app: %w", err)
			}
			fmt.Printf("demo app         http://%s (version 1.0.0, synthetic traffic on)\n", bound)
			releaseSpec := specPath
			prom, promSpec, err := demoPrometheus(ctx, promBin, promNote, specPath, bound)
			if err != nil {
				return err
			}
			defer prom.stop()
			if prom != nil {
				releaseSpec, loaded = demoPromSpec, promSpec
			}
			tools, web := demoWebTools(&f)
			d, err := startDev(ctx, f, log)
			if err != nil {
				return err
			}
			defer d.stop()
			fmt.Printf("Temporal server  %s\nTemporal UI      %s\n", d.srv.FrontendAddress(), d.srv.UIURL())
			if err := d.startApprovals(ctx); err != nil {
				return err
			}
			if prom != nil {
				// Each release reads a baseline just before its deploy and rate()
				// needs two scrapes: wait for readings (it scraped while the server started).
				waited := time.Now()
				if err := prom.waitReadings(ctx, demoPromQueries()); err != nil {
					return err
				}
				fmt.Printf("Prometheus has the demo app's metrics (waited %s)\n", time.Since(waited).Round(100*time.Millisecond))
			}
			fmt.Println()
			dm := &demo{g: g, spec: loaded.Spec, specPath: releaseSpec, address: d.srv.FrontendAddress(), requester: "erin"}
			if web {
				if dm.web, err = d.enrollDemoPasskey(ctx, tools, f); err != nil {
					return err
				}
				defer dm.web.close()
			}
			start := time.Now()
			// Each release ships one more migration: the good one brings the schema to
			// version 3, the bad one to 4, and its rollback migrates back down to 3.
			for i, v := range []string{good, bad} {
				if err := stageDemoMigrations(loaded.Spec.Database.Migrations, int64(3+i)); err != nil {
					return err
				}
				if err := dm.release(ctx, v); err != nil {
					return err
				}
			}
			fmt.Println("\n$ golive audit verify   # the hash-chained audit ledger of both releases")
			if err := dm.golive(ctx, "audit", "verify", "--url", os.Getenv("GOLIVE_AUDIT_URL")); err != nil {
				return err
			}
			fmt.Printf("\nDemo finished in %s. Both releases are in the Temporal UI: %s/namespaces/default/workflows\n",
				time.Since(start).Round(time.Second), d.srv.UIURL())
			if stay || term.IsTerminal(int(os.Stdin.Fd())) {
				if prom != nil {
					fmt.Printf("Error rate of both releases in Prometheus: %s\n", prom.graphURL())
				}
				fmt.Println("The UI stays up; Ctrl-C to stop.")
				<-ctx.Done()
			}
			return nil
		},
	}
	f.add(cmd, "")
	for name, def := range map[string]string{"ephemeral": "true", "directory": demoDirectory, "directory-admins": demoDirectoryAdmins} {
		cmd.Flags().Lookup(name).DefValue = def
		_ = cmd.Flags().Set(name, def)
	}
	cmd.Flags().StringVar(&specPath, "spec", "examples/demo.yaml", "release spec of the demo")
	cmd.Flags().StringVar(&appAddr, "app", "127.0.0.1:18080", "address of the demo target app (must match the spec's app.url)")
	cmd.Flags().StringVar(&good, "good", "1.1.0", "the healthy version")
	cmd.Flags().StringVar(&bad, "bad", "1.2.0-bad", "the version that fails a share of requests")
	cmd.Flags().StringVar(&pgServer, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "the local PostgreSQL the demo creates its databases on")
	cmd.Flags().StringVar(&promFlag, "prometheus", "prometheus", "Prometheus binary (name on $PATH or path) the watch reads the demo app's metrics through; off reads /stats directly")
	cmd.Flags().BoolVar(&stay, "stay", false, "keep the server, UI and Prometheus running after the demo until Ctrl-C")
	cmd.Flags().StringVar(&logPath, "log", demoLog, "file the server's, worker's and demo app's structured logs go to")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print those logs, interleaved with the release")
	return cmd
}

// The demo's team directory and the folder of its people's DEMO ONLY private
// keys: every input the demo sends is signed with its person's key.
const (
	demoDirectory       = "examples/directory/demo.yaml"
	demoDirectoryAdmins = "examples/directory/admins"
	demoKeys            = "examples/directory/keys"
)

// demoLog is where the demo's structured logs go by default.
const demoLog = ".golive/demo/demo.log"

// demoLogger opens the demo's log file (truncated at each start) and says
// where it is; with verbose the logs also go to stderr.
func demoLogger(g *globals, path string, verbose bool) (*slog.Logger, func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("demo log: %w", err)
	}
	var w io.Writer = f
	if verbose {
		w = io.MultiWriter(f, os.Stderr)
	}
	fmt.Printf("logs             %s (server, worker, demo app; --verbose prints them here too)\n", path)
	return g.loggerTo(w), func() { _ = f.Close() }, nil
}

// demo drives releases the way people would: by running golive commands.
type demo struct {
	g         *globals
	spec      spec.Spec
	specPath  string
	address   string
	requester string
	// web signs its person's slots on the approval page (nil: all by CLI).
	web *demoWeb
}

// golive runs this binary with args, echoing the command line as a person would type it.
func (d *demo) golive(ctx context.Context, args ...string) error {
	fmt.Printf("$ golive %s\n", strings.Join(args, " "))
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find golive binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, append(args, "--address", d.address)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("golive %s: %w", args[0], err)
	}
	return nil
}

// release starts one release and answers every sign-off and attestation it waits for.
func (d *demo) release(ctx context.Context, version string) error {
	fmt.Printf("\n=== Release %s %s → %s ===\n", d.spec.Service, d.spec.Environment, version)
	if err := d.golive(ctx, "start", d.specPath, "--version", version, "--as", d.requester, "--key", demoKey(d.requester)); err != nil {
		return err
	}
	c, err := d.g.dialAt(ctx, d.address)
	if err != nil {
		return err
	}
	defer c.Close()
	id := workflows.ReleaseID(d.spec.Service, d.spec.Environment)
	seen := map[string]record.ItemState{}
	stage := record.Stage("")
	checks := 0
	asked := map[string]bool{}
	for {
		st, err := queryStatus(ctx, c, id)
		if err != nil {
			return err
		}
		if st.Stage != stage {
			stage = st.Stage
			fmt.Printf("\n--- stage %s ---\n", stage)
		}
		for _, it := range st.Items {
			if it.State.Done() && seen[it.ID] != it.State {
				seen[it.ID] = it.State
				fmt.Printf("  %s %s — %s\n", render.Mark(it.State), it.Title, truncate(it.Value+" "+it.Detail, 110))
			}
		}
		for ; checks < len(st.Checks); checks++ {
			ck := st.Checks[checks]
			fmt.Printf("  %s check %d at +%s (%s): %s → %s\n", ck.Window, ck.Index, ck.Offset, ck.Phase, render.Readings(ck.Readings), ck.Worst)
			printDecisive(ck.Readings)
		}
		if st.Stage == record.StageDone {
			fmt.Printf("\nRelease %s ended: %s; live version %s\n", version, st.Outcome, st.LiveVersion)
			if st.Reason != "" {
				fmt.Printf("reason: %s\n", st.Reason)
			}
			fmt.Printf("evidence: %s\n", st.Evidence)
			return nil
		}
		if err := d.answer(ctx, id, st, asked); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// answer runs the golive command for each person the release waits for.
func (d *demo) answer(ctx context.Context, id string, st record.Status, asked map[string]bool) error {
	used := map[string]bool{d.requester: true}
	for _, sl := range st.Slots {
		for _, by := range sl.By {
			used[by.Person+"/"+sl.Block] = true
		}
	}
	for _, it := range st.Items {
		if it.State != record.ItemWaiting || it.Mode != record.ModeAttest {
			continue
		}
		p := d.pick(it.Role, nil)
		key := "attest/" + p + "/" + string(it.Stage)
		if p == "" || asked[key] {
			continue
		}
		asked[key] = true
		if err := d.golive(ctx, "attest", id, "--as", p, "--key", demoKey(p)); err != nil {
			return err
		}
	}
	for _, sl := range st.Slots {
		if sl.State != record.ItemWaiting {
			continue
		}
		p := d.pick(sl.Role, func(id string) bool { return used[id] || used[id+"/"+sl.Block] })
		key := "signoff/" + sl.Block + "/" + sl.ID
		if p == "" || asked[key] {
			continue
		}
		asked[key] = true
		used[p+"/"+sl.Block] = true
		if d.web != nil && p == d.web.person && sl.Block == workflows.BlockApprovals {
			if err := d.web.approve(id, sl.ID); err != nil {
				return err
			}
			continue
		}
		if err := d.golive(ctx, "approve", id, "--slot", sl.ID, "--as", p, "--key", demoKey(p), "-m", "demo sign-off"); err != nil {
			return err
		}
	}
	return nil
}

// demoKey is the demo person's private key file.
func demoKey(person string) string { return filepath.Join(demoKeys, person) }

// pick chooses a member of role who is not excluded.
func (d *demo) pick(role string, excluded func(string) bool) string {
	for _, p := range d.spec.Members(role) {
		if p.ID == d.requester || (excluded != nil && excluded(p.ID)) {
			continue
		}
		return p.ID
	}
	return ""
}

// printDecisive shows where the readings that trigger a rollback, or could
// not be taken, came from: the query as the provider ran it.
func printDecisive(rs []record.Reading) {
	for _, r := range rs {
		switch r.Verdict {
		case record.VerdictRollback:
			fmt.Printf("    ↳ %s=%.3g%s is a rollback trigger; query: %s\n", r.Metric, r.Value, r.Unit, r.Query)
		case record.VerdictUnavailable:
			fmt.Printf("    ↳ %s n/a: %s\n", r.Metric, truncate(r.Detail, 160))
		}
	}
}
