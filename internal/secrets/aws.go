package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/golive/golive/internal/awsclient"
)

// SecretsManagerAPI is the part of the Secrets Manager client AWS uses.
type SecretsManagerAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// AWS resolves secret://aws/NAME#KEY references from AWS Secrets Manager:
// NAME is the secret's name or ARN, KEY a key of its JSON object (the
// usual shape of database credentials); without #KEY the whole secret
// string is the value. Only the AWSCURRENT version is read. Register it as
// Resolver.Backends["aws"]. Errors name the secret and the key, never the value.
type AWS struct {
	// Client reads the secrets; nil loads the SDK's default chain at the first Resolve.
	Client SecretsManagerAPI

	mu sync.Mutex
}

// NewAWS returns the Secrets Manager backend for cfg (see awsclient.Load).
func NewAWS(cfg aws.Config) *AWS { return &AWS{Client: secretsmanager.NewFromConfig(cfg)} }

func (a *AWS) client(ctx context.Context) (SecretsManagerAPI, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Client == nil {
		cfg, err := awsclient.Load(ctx, awsclient.Options{})
		if err != nil {
			return nil, err
		}
		a.Client = secretsmanager.NewFromConfig(cfg)
	}
	return a.Client, nil
}

// Resolve returns the value ref ("NAME" or "NAME#KEY") names.
func (a *AWS) Resolve(ctx context.Context, ref string) (string, error) {
	name, key, hasKey := strings.Cut(ref, "#")
	if name == "" || (hasKey && key == "") {
		return "", fmt.Errorf("want NAME or NAME#KEY")
	}
	c, err := a.client(ctx)
	if err != nil {
		return "", err
	}
	out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		msg := awsclient.Describe(err, "secret "+name)
		if awsclient.Classify(err) == awsclient.NotFound {
			return "", fmt.Errorf("%s: %w", msg, ErrNotFound)
		}
		return "", errors.New(msg)
	}
	var raw string
	switch {
	case out.SecretString != nil:
		raw = *out.SecretString
	case out.SecretBinary != nil:
		raw = string(out.SecretBinary)
	}
	if !hasKey {
		if raw == "" {
			return "", fmt.Errorf("secret %s is empty: %w", name, ErrNotFound)
		}
		return raw, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		// The decoder's message may quote the secret: never pass it on.
		return "", fmt.Errorf("secret %s is not a JSON object, so it has no key %s", name, key)
	}
	v, ok := fields[key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %s: %w", name, key, ErrNotFound)
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if s == "" {
			return "", fmt.Errorf("secret %s key %s is empty: %w", name, key, ErrNotFound)
		}
		return s, nil
	}
	if t := bytes.TrimSpace(v); len(t) > 0 && t[0] != '{' && t[0] != '[' && !bytes.Equal(t, []byte("null")) {
		return string(t), nil // a number or a boolean, as written
	}
	return "", fmt.Errorf("secret %s key %s is not a string, number or boolean", name, key)
}
