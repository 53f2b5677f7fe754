// Package devserver runs a Temporal server and the Temporal UI inside the
// current process, backed by SQLite, the way the temporal CLI's dev server
// does. `golive dev` and integration tests use it; it does not belong in the
// production worker binary (it adds the whole server and UI to the build).
package devserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/temporal"
)

// Defaults used when the matching Options field is empty.
const (
	DefaultAddress   = "127.0.0.1:7233"
	DefaultUIAddress = "127.0.0.1:8233"
	DefaultNamespace = "default"
)

// readyTimeout bounds Start when ctx has no earlier deadline.
const readyTimeout = time.Minute

// Options configure Start.
type Options struct {
	// Address is the frontend gRPC host:port (default 127.0.0.1:7233; port 0 = pick a free port).
	Address string
	// UIAddress is host:port of the UI (default 127.0.0.1:8233; port 0 = pick a free port).
	UIAddress string
	// NoUI disables the UI.
	NoUI bool
	// DataDir holds the SQLite file (temporal.db) so releases survive a restart.
	// It is created when missing. One of DataDir and Ephemeral must be set.
	DataDir string
	// Ephemeral keeps everything in memory, lost on Stop; DataDir is then ignored.
	Ephemeral bool
	// Namespace is created when missing (default "default").
	Namespace string
	// SearchAttributes are registered as Keyword attributes of Namespace: when
	// the namespace is created, and added on start when an existing database
	// lacks them.
	SearchAttributes []string
	// CodecEndpoint, when set, is the remote codec server the UI uses to decode payloads.
	CodecEndpoint string
	// CodecPassAccessToken makes the UI send the user's access token to CodecEndpoint.
	CodecPassAccessToken bool
	// UIForwardHeaders lists HTTP headers the UI forwards to the frontend.
	UIForwardHeaders []string
	// TLS, when set, serves the frontend over TLS (mutual TLS with
	// RequireClientAuth). The UI itself stays plain HTTP; it reaches the
	// frontend over TLS.
	TLS *TLSConfig
	// ClientAccess, when not empty, lets only the certificates it names reach
	// the frontend: it maps a client certificate's subject Common Name to
	// what that person or worker may do on Namespace, through golive's
	// NewClaimMapper and NewAuthorizer (auth.go). The server's own clients
	// (internal client certificate) keep system admin. Needs TLS with
	// RequireClientAuth; not together with Authorizer and ClaimMapper.
	// Without it, and without them, whoever gets through TLS may do anything.
	ClientAccess map[string]Access
	// Authorizer and ClaimMapper, both or neither, are handed to the server
	// as they are (temporal.WithAuthorizer, temporal.WithClaimMapper): they
	// decide every call to the frontend, the server's own clients' included.
	Authorizer  authorization.Authorizer
	ClaimMapper authorization.ClaimMapper
	// Logger receives the server's warnings and errors (default slog.Default()).
	// Only errors while starting (refused connections are expected) and none
	// while stopping (cancelled polls are).
	Logger *slog.Logger
}

// Server is a running dev server. Stop it when done.
type Server struct {
	server    temporal.Server
	ui        *uiserver.Server
	frontend  string
	uiURL     string
	namespace string
	tls       *tlsSetup    // nil without TLS
	log       *slog.Logger // for the package's own messages
	// level is the server's log threshold: warn while serving, error while
	// starting (refused connections are expected), nothing while stopping
	// (cancelled polls are).
	level    *slog.LevelVar
	stopOnce sync.Once
}

// Start starts the server (and the UI unless disabled) and returns once the
// frontend answers and the namespace has every search attribute asked for.
// ctx bounds only the start-up.
func Start(ctx context.Context, o Options) (*Server, error) {
	if !o.Ephemeral && o.DataDir == "" {
		return nil, errors.New("devserver: set DataDir or Ephemeral")
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	level := new(slog.LevelVar)
	level.Set(slog.LevelError)
	log := quietLogger(o.Logger, level)
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()

	frontend, uiAddr, err := listenAddresses(&o)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	var tlsConf *tlsSetup
	if o.TLS != nil {
		if tlsConf, err = loadTLS(*o.TLS, frontend.dialHost()); err != nil {
			return nil, fmt.Errorf("devserver: %w", err)
		}
	}
	if err := o.accessControl(tlsConf); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	opts, err := serverOptions(&o, frontend, tlsConf, serverLogger{l: log})
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	srv, err := temporal.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("devserver: new server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start server: %w", err)
	}
	s := &Server{server: srv, frontend: frontend.dialAddr(), namespace: o.Namespace, tls: tlsConf, log: o.Logger, level: level}

	if err := s.ready(ctx, o.SearchAttributes); err != nil {
		s.Stop()
		return nil, fmt.Errorf("devserver: %w", err)
	}
	if !o.NoUI {
		if s.ui, err = startUI(ctx, &o, uiAddr, frontend, tlsConf); err != nil {
			s.Stop()
			return nil, fmt.Errorf("devserver: %w", err)
		}
		s.uiURL = "http://" + uiAddr.dialAddr()
	}
	level.Set(slog.LevelWarn)
	return s, nil
}

// FrontendAddress is the host:port SDK clients dial.
func (s *Server) FrontendAddress() string { return s.frontend }

// UIURL is the base URL of the UI, or "" when it is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// Namespace is the namespace the server was started with.
func (s *Server) Namespace() string { return s.namespace }

// ClientTLS is the TLS config for an in-process client of the frontend, or
// nil without TLS. It trusts exactly the frontend's certificate and, when
// client certificates are required, presents the internal client certificate
// (TLSConfig.InternalCertFile, else the server's). Each call returns a new one.
func (s *Server) ClientTLS() *tls.Config {
	if s.tls == nil {
		return nil
	}
	return s.tls.clientTLS()
}

// Stop stops the UI and the server. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.level.Set(slog.LevelError + 1)
		if s.ui != nil {
			s.ui.Stop()
		}
		if err := s.server.Stop(); err != nil {
			s.log.Error("devserver: stop server", "error", err)
		}
	})
}
