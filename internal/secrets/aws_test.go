package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golive/golive/internal/awsfake"
	"github.com/golive/golive/internal/secrets"
)

const dbPassword = "s3cr3t-Planted-Value-9f2c"

func TestAWSSecretsManager(t *testing.T) {
	cloud := awsfake.Start(t)
	cloud.Secrets.Put("prod/portal/db", `{"username":"portal","password":"`+dbPassword+`","port":5432}`)
	cloud.Secrets.Put("prod/portal/api-token", "tok-"+dbPassword)
	cloud.Secrets.Put("prod/portal/broken", "not json "+dbPassword)
	r := &secrets.Resolver{Backends: map[string]secrets.Backend{"aws": secrets.NewAWS(cloud.Config(t))}}
	ctx := context.Background()

	for ref, want := range map[string]string{
		"secret://aws/prod/portal/db#password": dbPassword,
		"secret://aws/prod/portal/db#port":     "5432",
		"secret://aws/prod/portal/api-token":   "tok-" + dbPassword,
		"secret://aws/arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/portal/db-AbCdEf#username": "portal",
	} {
		got, err := r.Resolve(ctx, ref)
		if err != nil || got != want {
			t.Errorf("Resolve(%s) = %q, %v", ref, got, err)
		}
	}

	for ref, wantErr := range map[string]string{
		"secret://aws/prod/portal/db#missing": "has no key missing",
		"secret://aws/prod/other#password":    "secretsmanager:GetSecretValue on secret prod/other: not found",
		"secret://aws/prod/portal/broken#x":   "not a JSON object",
	} {
		_, err := r.Resolve(ctx, ref)
		if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), ref) {
			t.Errorf("Resolve(%s) error = %v, want it to name the reference and say %q", ref, err, wantErr)
		}
		if err != nil && strings.Contains(err.Error(), dbPassword) {
			t.Errorf("Resolve(%s) error leaks the secret: %v", ref, err)
		}
	}
	if _, err := r.Resolve(ctx, "secret://aws/prod/other#password"); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("missing secret error %v is not ErrNotFound", err)
	}

	cloud.Fail("secretsmanager", "GetSecretValue", awsfake.Fault{Code: "AccessDeniedException"})
	_, err := r.Resolve(ctx, "secret://aws/prod/portal/db#password")
	if err == nil || !strings.Contains(err.Error(), "secretsmanager:GetSecretValue on secret prod/portal/db: access denied") {
		t.Errorf("access denied error = %v", err)
	}
}
