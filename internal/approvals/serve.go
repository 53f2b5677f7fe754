package approvals

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/golive/golive/internal/directory"
)

// ListenAndServe serves the pages on addr until ctx ends; ready gets the
// listening address once the socket is open.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(addr string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("approval pages: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	if ready != nil {
		ready(ln.Addr().String())
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// LoadDirectory reads the team directory the way the worker does: verified
// against the admins' allowed_signers file, or unverified only when unsigned
// is set (local trials).
func LoadDirectory(file, admins string, quorum int, unsigned bool) (*directory.Directory, error) {
	if file == "" {
		return nil, errors.New("the approval pages need the team directory (--directory): people, roles and passkeys")
	}
	o := directory.VerifyOptions{Quorum: quorum, AllowUnsigned: unsigned}
	if admins != "" {
		b, err := os.ReadFile(admins)
		if err != nil {
			return nil, fmt.Errorf("--directory-admins: %w", err)
		}
		o.Admins = string(b)
	} else if !unsigned {
		return nil, fmt.Errorf("--directory %s needs --directory-admins (the admin keys whose quorum signs it), or --directory-unsigned for a local trial", file)
	}
	v, err := directory.LoadVerified(file, o)
	if err != nil {
		return nil, fmt.Errorf("team directory %s refused: %w", file, err)
	}
	return v.Dir, nil
}
