package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/golive/golive/internal/codec"
)

// newCodecServerCmd is `golive codec-server`: the payload codec over HTTP, so the
// Temporal UI (and `temporal --codec-endpoint`) can show decrypted payloads to
// people who hold the token.
func newCodecServerCmd(g *globals) *cobra.Command {
	var (
		listen, tokenEnv, certFile, keyFile string
		origins                             []string
		pathToken                           bool
	)
	cmd := &cobra.Command{
		Use:   "codec-server",
		Short: "Serve the payload codec to the Temporal UI, behind a bearer token",
		Long: `Serve golive's AES-256-GCM payload codec over HTTP (POST /decode and /encode),
so the Temporal UI and the temporal CLI can show payloads that golive encrypts.

The keys come from ` + codec.KeysEnv + ` (the same references the worker uses, newest
first). Every request needs "Authorization: Bearer TOKEN", the token being read
from the environment variable named by --token-env (several tokens, comma
separated, during rotation): no token answers 401, a wrong one 403. Browsers
are let in from the --cors-origin origins only.

The Temporal UI sends the Authorization header only when its users sign in
through OIDC with codec passAccessToken on and an https endpoint (--tls-cert,
--tls-key). For the local dev UI, start with --path-token and enter
http://127.0.0.1:8081/TOKEN as the codec endpoint in your browser's
"Data Encoder" settings. See docs/security.md.`,
		Example: `  export ` + codec.KeysEnv + `=2026-11=env://GOLIVE_KEY_2026_11
  export GOLIVE_CODEC_TOKEN=$(openssl rand -hex 32)
  golive codec-server --listen 127.0.0.1:8081 --token-env GOLIVE_CODEC_TOKEN --cors-origin http://127.0.0.1:8233`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := codec.FromEnv(nil)
			if err != nil {
				return err
			}
			if c == nil {
				return fmt.Errorf("%s is not set: nothing to decode with (see docs/security.md)", codec.KeysEnv)
			}
			raw := strings.TrimSpace(os.Getenv(tokenEnv))
			if tokenEnv == "" || raw == "" {
				return fmt.Errorf("no token: set the environment variable %q (e.g. export %s=$(openssl rand -hex 32))", tokenEnv, tokenEnv)
			}
			tokens := strings.Split(raw, ",")
			for _, t := range tokens {
				if len(strings.TrimSpace(t)) < 16 {
					return fmt.Errorf("a token in %s is shorter than 16 characters; use e.g. openssl rand -hex 32", tokenEnv)
				}
			}
			if (certFile == "") != (keyFile == "") {
				return errors.New("--tls-cert and --tls-key go together")
			}
			h, err := codec.NewHTTPHandler(c, codec.HandlerOptions{Tokens: tokens, AllowedOrigins: origins, PathToken: pathToken})
			if err != nil {
				return err
			}
			return serveCodec(cmd, listen, certFile, keyFile, h, c, origins)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8081", "host:port to listen on (port 0: any free port)")
	f.StringVar(&tokenEnv, "token-env", "GOLIVE_CODEC_TOKEN", "name of the environment variable holding the bearer token (never the token itself)")
	f.StringSliceVar(&origins, "cors-origin", []string{"http://127.0.0.1:8233", "http://localhost:8233"}, "browser origin allowed to call (the Temporal UI); repeatable")
	f.StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate (PEM); the UI passes OIDC tokens to https endpoints only")
	f.StringVar(&keyFile, "tls-key", "", "private key of --tls-cert (PEM)")
	f.BoolVar(&pathToken, "path-token", false, "also accept the token as the first path segment (POST /TOKEN/decode), for UIs that cannot send an Authorization header")
	return cmd
}

// serveCodec listens, prints the endpoint, and serves until the command's context ends.
func serveCodec(cmd *cobra.Command, listen, certFile, keyFile string, h http.Handler, c *codec.Codec, origins []string) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("codec server: %w", err)
	}
	scheme := "http"
	if certFile != "" {
		scheme = "https"
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(cmd.OutOrStdout(), "codec server on %s://%s (keys %s, encrypting with %s; browser origins %s)\n",
		scheme, ln.Addr(), strings.Join(c.KeyIDs(), ", "), c.ActiveKeyID(), strings.Join(origins, ", "))
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	done := make(chan error, 1)
	go func() {
		if certFile != "" {
			done <- srv.ServeTLS(ln, certFile, keyFile)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return fmt.Errorf("codec server: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	}
}
