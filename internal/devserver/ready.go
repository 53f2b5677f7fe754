package devserver

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/golive/golive/internal/namespaces"
)

// ready waits until the frontend serves the namespace, then registers any
// search attribute the namespace lacks (an existing database from an older
// golive, or a changed list).
func (s *Server) ready(ctx context.Context, searchAttributes []string) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return namespaces.EnsureSearchAttributes(ctx, c, s.namespace, searchAttributes)
}

// dial connects a client and polls until DescribeNamespace succeeds.
func (s *Server) dial(ctx context.Context) (client.Client, error) {
	var last error
	for {
		c, err := client.DialContext(ctx, client.Options{
			HostPort:          s.frontend,
			Namespace:         s.namespace,
			ConnectionOptions: client.ConnectionOptions{TLS: s.ClientTLS()},
			Logger:            sdklog.NewStructuredLogger(quietLogger(s.log, s.level)),
		})
		if err == nil {
			_, err = c.WorkflowService().DescribeNamespace(ctx,
				&workflowservice.DescribeNamespaceRequest{Namespace: s.namespace})
			if err == nil {
				return c, nil
			}
			c.Close()
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for frontend %s: %w (last error: %v)", s.frontend, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
