package devserver

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
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
	return ensureSearchAttributes(ctx, c, s.namespace, searchAttributes)
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

// ensureSearchAttributes adds the missing names as Keyword attributes of ns and
// fails when one exists with another type.
func ensureSearchAttributes(ctx context.Context, c client.Client, ns string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		return fmt.Errorf("list search attributes of %q: %w", ns, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, name := range names {
		t, ok := resp.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		case t != enumspb.INDEXED_VALUE_TYPE_KEYWORD:
			return fmt.Errorf("search attribute %q of %q is %s, want Keyword", name, ns, t)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        ns,
		SearchAttributes: missing,
	}); err != nil {
		return fmt.Errorf("add search attributes to %q: %w", ns, err)
	}
	return nil
}
