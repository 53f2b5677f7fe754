package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/golive/golive/internal/record"
)

// checkSecrets is "Secrets management configured (all API keys stored
// securely)": the spec holds no credential values (the validator refuses
// them), and here every reference it names resolves on the worker. The
// result names references and where they come from, never a value.
func (p *Prober) checkSecrets(ctx context.Context, in CheckInput) Result {
	refs := in.Check.Refs
	if len(refs) == 0 {
		return Result{State: record.ItemFailed, Detail: "bad check: the spec names no credential reference to resolve"}
	}
	store, env := 0, 0
	var missing []string
	for _, ref := range refs {
		v, err := p.secrets().Resolve(ctx, ref)
		switch {
		case err != nil || v == "":
			missing = append(missing, ref)
		case strings.HasPrefix(ref, "secret://"):
			store++
		default:
			env++
		}
	}
	r := Result{State: record.ItemPassed, Value: fmt.Sprintf("%d of %d references resolve: %d from a secret store, %d from the worker's environment", store+env, len(refs), store, env)}
	if len(missing) > 0 {
		r.State, r.Detail = record.ItemFailed, "do not resolve on this worker: "+strings.Join(missing, ", ")
	}
	return r
}
