//go:build !nodevserver

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/golive/golive/internal/codec"
	"github.com/golive/golive/internal/devserver"
	"github.com/golive/golive/worker"
	"github.com/golive/golive/workflows"
)

// addDevCommands adds the commands that embed a Temporal server (left out with -tags nodevserver).
func addDevCommands(root *cobra.Command, g *globals) {
	root.AddCommand(newDevCmd(g), newDemoCmd(g))
}

// devFlags are the embedded server's settings.
type devFlags struct {
	dataDir   string
	ephemeral bool
	address   string
	ui        string
	codec     string
	telemetry telemetryFlags
}

func (f *devFlags) add(cmd *cobra.Command, dataDir string) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", dataDir, "directory of the server's SQLite file (releases survive a restart)")
	cmd.Flags().BoolVar(&f.ephemeral, "ephemeral", false, "keep everything in memory")
	cmd.Flags().StringVar(&f.address, "listen", "127.0.0.1:7233", "frontend gRPC address")
	cmd.Flags().StringVar(&f.ui, "ui", "127.0.0.1:8233", "Temporal UI address")
	cmd.Flags().StringVar(&f.codec, "codec-endpoint", "", "codec server URL the UI uses to decode payloads")
	f.telemetry.add(cmd)
}

// devStack is an embedded server with a golive worker on it.
type devStack struct {
	srv    *devserver.Server
	client client.Client
	worker sdkworker.Worker
	tel    *worker.Telemetry
	log    *slog.Logger
}

func startDev(ctx context.Context, f devFlags, log *slog.Logger) (*devStack, error) {
	cod, err := worker.Encryption(ctx, nil)
	if err != nil {
		return nil, err
	}
	if cod != nil && f.codec == "" {
		// Payloads are encrypted: serve the codec to the UI on loopback so it can decode them.
		if f.codec, err = serveDevCodec(ctx, cod, "http://"+f.ui); err != nil {
			return nil, err
		}
		log.Info("codec server for the UI", "endpoint", "loopback, random path token")
	}
	srv, err := devserver.Start(ctx, devserver.Options{
		Address: f.address, UIAddress: f.ui, DataDir: f.dataDir, Ephemeral: f.ephemeral,
		SearchAttributes: workflows.SearchAttributeNames(), CodecEndpoint: f.codec, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded Temporal: %w", err)
	}
	tel, err := f.telemetry.start(ctx, log)
	if err != nil {
		srv.Stop()
		return nil, err
	}
	opts := client.Options{HostPort: srv.FrontendAddress(), Namespace: srv.Namespace(),
		Logger: sdklog.NewStructuredLogger(log.With("component", "temporal"))}
	tel.Apply(&opts)
	worker.ApplyConverters(&opts, cod)
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		closeTelemetry(tel, log)
		srv.Stop()
		return nil, fmt.Errorf("connect to embedded Temporal: %w", err)
	}
	w := worker.New(c, worker.Options{Logger: log})
	if err := w.Start(); err != nil {
		c.Close()
		closeTelemetry(tel, log)
		srv.Stop()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return &devStack{srv: srv, client: c, worker: w, tel: tel, log: log}, nil
}

func (d *devStack) stop() {
	d.worker.Stop()
	d.client.Close()
	closeTelemetry(d.tel, d.log)
	d.srv.Stop()
}

func newDevCmd(g *globals) *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run an embedded Temporal server, the Temporal UI and a golive worker",
		Long: `dev runs everything golive needs on one machine: an in-process Temporal server
(SQLite in --data-dir, or memory with --ephemeral), the Temporal UI and a worker.
Ctrl-C stops all three cleanly.`,
		Example: "  golive dev\n  golive dev --ephemeral --listen 127.0.0.1:7300 --ui 127.0.0.1:8300",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			d, err := startDev(ctx, f, g.logger())
			if err != nil {
				return err
			}
			defer d.stop()
			fmt.Printf("Temporal server  %s (namespace %s)\n", d.srv.FrontendAddress(), d.srv.Namespace())
			fmt.Printf("Temporal UI      %s\n", d.srv.UIURL())
			fmt.Printf("golive worker    task queue %s\n", workflows.TaskQueue)
			if a := d.tel.MetricsAddr(); a != "" {
				fmt.Printf("metrics          http://%s/metrics\n", a)
			}
			fmt.Println("Ctrl-C to stop")
			<-ctx.Done()
			fmt.Println("\nstopping")
			return nil
		},
	}
	f.add(cmd, ".golive/dev")
	return cmd
}

// serveDevCodec serves the payload codec on a free loopback port behind a
// random path token (the Temporal UI sends no bearer token without OIDC) and
// returns the endpoint to give the UI. It stops with ctx.
func serveDevCodec(ctx context.Context, cod *codec.Codec, uiOrigin string) (string, error) {
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return "", err
	}
	token := hex.EncodeToString(tok)
	h, err := codec.NewHTTPHandler(cod, codec.HandlerOptions{Tokens: []string{token}, PathToken: true, AllowedOrigins: []string{uiOrigin}})
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("codec server: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	return "http://" + ln.Addr().String() + "/" + token, nil
}
