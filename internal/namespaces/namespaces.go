// Package namespaces prepares a Temporal namespace for golive through the
// frontend's public API (no server code), as the compose stack's
// temporal-setup job does with the temporal CLI: the namespace with its
// retention, and golive's Keyword search attributes
// (workflows.SearchAttributeNames). The embedded dev server (internal/devserver)
// and the local cluster (internal/cluster) both use it.
package namespaces

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Register creates namespace ns with the given retention; an existing
// namespace is left as it is.
func Register(ctx context.Context, c client.Client, ns string, retention time.Duration) error {
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        ns,
		WorkflowExecutionRetentionPeriod: durationpb.New(retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %q: %w", ns, err)
	}
	return nil
}

// EnsureSearchAttributes adds the missing names as Keyword attributes of ns and
// fails when one exists with another type.
func EnsureSearchAttributes(ctx context.Context, c client.Client, ns string, names []string) error {
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
