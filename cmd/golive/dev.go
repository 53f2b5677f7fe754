//go:build !nodevserver

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
	directory directoryFlags
	approvals devApprovalsFlags
	tls       devTLSFlags // only `golive dev` has them: the demo's golive commands connect in plain text
}

func (f *devFlags) add(cmd *cobra.Command, dataDir string) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", dataDir, "directory of the server's SQLite file (releases survive a restart)")
	cmd.Flags().BoolVar(&f.ephemeral, "ephemeral", false, "keep everything in memory")
	cmd.Flags().StringVar(&f.address, "listen", "127.0.0.1:7233", "frontend gRPC address")
	cmd.Flags().StringVar(&f.ui, "ui", "127.0.0.1:8233", "Temporal UI address")
	cmd.Flags().StringVar(&f.codec, "codec-endpoint", "", "codec server URL the UI uses to decode payloads")
	f.telemetry.add(cmd)
	f.directory.add(cmd)
	f.approvals.add(cmd)
}

// devStack is an embedded server with a golive worker on it.
type devStack struct {
	srv    *devserver.Server
	client client.Client
	worker sdkworker.Worker
	tel    *worker.Telemetry
	log    *slog.Logger
	pages  *devPages
}

func startDev(ctx context.Context, f devFlags, log *slog.Logger) (*devStack, error) {
	tlsConf, err := f.tls.config()
	if err != nil {
		return nil, err
	}
	dir, err := f.directory.open(log)
	if err != nil {
		return nil, err
	}
	access, err := f.tls.access()
	if err != nil {
		return nil, err
	}
	pages, err := preparePages(f.approvals, f.directory)
	if err != nil {
		return nil, err
	}
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
		SearchAttributes: workflows.SearchAttributeNames(), CodecEndpoint: f.codec, Logger: log, TLS: tlsConf,
		ClientAccess: access,
	})
	if errors.Is(err, devserver.ErrInternalCert) {
		return nil, fmt.Errorf("start embedded Temporal: %w (give the server's own clients one with --tls-internal-cert and --tls-internal-key)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("start embedded Temporal: %w", err)
	}
	tel, err := f.telemetry.start(ctx, log)
	if err != nil {
		srv.Stop()
		return nil, err
	}
	// The worker is part of the dev stack: it connects the way the server's own clients do.
	opts := client.Options{HostPort: srv.FrontendAddress(), Namespace: srv.Namespace(),
		ConnectionOptions: client.ConnectionOptions{TLS: srv.ClientTLS()},
		Logger:            sdklog.NewStructuredLogger(log.With("component", "temporal"))}
	tel.Apply(&opts)
	worker.ApplyConverters(&opts, cod)
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		closeTelemetry(tel, log)
		srv.Stop()
		return nil, fmt.Errorf("connect to embedded Temporal: %w", err)
	}
	w := worker.New(c, worker.Options{Logger: log, Directory: dir, ApprovalLinks: pages.links()})
	if err := w.Start(); err != nil {
		c.Close()
		closeTelemetry(tel, log)
		srv.Stop()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	return &devStack{srv: srv, client: c, worker: w, tel: tel, log: log, pages: pages}, nil
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
(SQLite in --data-dir, or memory with --ephemeral), the Temporal UI and a worker;
with --directory also the approval pages (--approvals, 127.0.0.1:8234), which
the worker's notices link to. Ctrl-C stops them all cleanly.

With --tls-cert and --tls-key the frontend serves TLS; add --tls-client-ca and
--tls-require-client-cert (or --require-client-cert) for mutual TLS. Other
golive commands then connect with TEMPORAL_TLS_* variables or a temporal.toml
profile (docs/security.md). With --client-access FILE only the certificates
the file names get in, each as worker, writer or reader by its Common Name.`,
		Example: `  golive dev
  golive dev --ephemeral --listen 127.0.0.1:7300 --ui 127.0.0.1:8300
  golive dev --ephemeral --tls-cert server.pem --tls-key server-key.pem \
    --tls-client-ca ca.pem --tls-require-client-cert
  golive dev --ephemeral --tls-cert server.pem --tls-key server-key.pem \
    --tls-client-ca ca.pem --require-client-cert --client-access access.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			d, err := startDev(ctx, f, g.logger())
			if err != nil {
				return err
			}
			defer d.stop()
			fmt.Printf("Temporal server  %s (namespace %s)\n", d.srv.FrontendAddress(), d.srv.Namespace())
			fmt.Printf("Temporal UI      %s\n", d.srv.UIURL())
			if f.tls.cert != "" {
				fmt.Printf("TLS              %s\n", f.tls.describe())
			}
			fmt.Printf("golive worker    task queue %s\n", workflows.TaskQueue)
			if err := d.startApprovals(ctx); err != nil {
				return err
			}
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
	f.tls.add(cmd)
	return cmd
}

// devTLSFlags are the embedded frontend's TLS settings.
type devTLSFlags struct {
	cert, key                 string
	clientCAs                 []string
	requireClientCert         bool
	internalCert, internalKey string
	clientAccess              string // file for devserver.LoadClientAccess
}

func (f *devTLSFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.cert, "tls-cert", "", "serve the frontend over TLS with this PEM certificate (chain); needs --tls-key")
	fl.StringVar(&f.key, "tls-key", "", "PEM private key of --tls-cert")
	fl.StringSliceVar(&f.clientCAs, "tls-client-ca", nil, "PEM file of a CA whose client certificates the frontend accepts (repeatable or comma separated); needs --tls-require-client-cert")
	fl.BoolVar(&f.requireClientCert, "tls-require-client-cert", false, "mutual TLS: refuse clients without a certificate from --tls-client-ca")
	fl.BoolVar(&f.requireClientCert, "require-client-cert", false, "short for --tls-require-client-cert")
	fl.StringVar(&f.clientAccess, "client-access", "", "YAML file mapping client certificate Common Names to worker, writer or reader access; other certificates are refused (needs --tls-require-client-cert)")
	fl.StringVar(&f.internalCert, "tls-internal-cert", "", "client certificate the server's own clients (system workers, UI, this worker) present under mutual TLS (default --tls-cert, which must then allow client auth)")
	fl.StringVar(&f.internalKey, "tls-internal-key", "", "PEM private key of --tls-internal-cert")
}

// config checks the flags and returns the server's TLS settings, nil without --tls-cert.
func (f devTLSFlags) config() (*devserver.TLSConfig, error) {
	switch {
	case (f.cert == "") != (f.key == ""):
		return nil, errors.New("--tls-cert and --tls-key go together: give both or neither")
	case f.cert == "" && (len(f.clientCAs) > 0 || f.requireClientCert || f.internalCert != "" || f.internalKey != ""):
		return nil, errors.New("--tls-client-ca, --tls-require-client-cert and --tls-internal-* need --tls-cert and --tls-key")
	case f.requireClientCert && len(f.clientCAs) == 0:
		return nil, errors.New("--tls-require-client-cert needs --tls-client-ca: the CA that signs the client certificates")
	case !f.requireClientCert && len(f.clientCAs) > 0:
		return nil, errors.New("--tls-client-ca needs --tls-require-client-cert: without it client certificates are not checked")
	case (f.internalCert == "") != (f.internalKey == ""):
		return nil, errors.New("--tls-internal-cert and --tls-internal-key go together: give both or neither")
	case f.internalCert != "" && !f.requireClientCert:
		return nil, errors.New("--tls-internal-cert is only used with --tls-require-client-cert")
	case f.cert == "":
		return nil, nil
	}
	return &devserver.TLSConfig{
		CertFile: f.cert, KeyFile: f.key, ClientCAFiles: f.clientCAs, RequireClientAuth: f.requireClientCert,
		InternalCertFile: f.internalCert, InternalKeyFile: f.internalKey,
	}, nil
}

// access reads --client-access; nil without it.
func (f devTLSFlags) access() (map[string]devserver.Access, error) {
	switch {
	case f.clientAccess == "":
		return nil, nil
	case !f.requireClientCert:
		return nil, errors.New("--client-access needs --tls-require-client-cert (or --require-client-cert): it maps client certificates")
	}
	return devserver.LoadClientAccess(f.clientAccess)
}

// describe says what clients need, for the start-up banner.
func (f devTLSFlags) describe() string {
	if f.clientAccess != "" {
		return "on, client certificate required, access by Common Name from " + f.clientAccess + " (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH)"
	}
	if f.requireClientCert {
		return "on, client certificate required (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH)"
	}
	return "on (TEMPORAL_TLS_SERVER_CA_CERT_PATH, or TEMPORAL_TLS=true when a system CA signed it)"
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
