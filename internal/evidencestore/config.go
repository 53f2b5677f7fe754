package evidencestore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/golive/golive/internal/awsclient"
	"github.com/golive/golive/internal/pgutil"
	"github.com/golive/golive/internal/secrets"
)

// EnvStore is the environment variable the worker and `golive report` read
// the store from when --evidence-store is not given.
const EnvStore = "GOLIVE_EVIDENCE_STORE"

// Config chooses a store: Location is "" or "dir" (each release's
// evidence.dir, the default), "dir:PATH", "postgres" (golive's database at
// DatabaseURL) or "s3://BUCKET/PREFIX".
type Config struct {
	Location string
	// DatabaseURL is a reference to golive's database (the worker's audit URL).
	DatabaseURL string
	Secrets     *secrets.Resolver
	// Retention and Mode are S3's Object Lock settings (defaults: DefaultRetention, COMPLIANCE).
	Retention time.Duration
	Mode      string
	// AWS adjusts the AWS configuration (tests point it at a fake).
	AWS awsclient.Options
}

// Open returns the store c names, or nil for the default (the releases' own
// evidence.dir, which activities.Recorder uses when it has no store).
func Open(ctx context.Context, c Config) (Store, error) {
	loc := strings.TrimSpace(c.Location)
	switch {
	case loc == "" || loc == string(BackendDir):
		return nil, nil
	case strings.HasPrefix(loc, string(BackendDir)+":"):
		return Dir{Root: strings.TrimPrefix(loc, string(BackendDir)+":")}, nil
	case loc == string(BackendPostgres):
		cfg, err := pgutil.Config(ctx, c.Secrets, c.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("evidence store postgres: golive's database: %w", err)
		}
		return OpenPostgres(ctx, cfg, "")
	case strings.HasPrefix(loc, "s3://"):
		return openS3(ctx, c, strings.TrimPrefix(loc, "s3://"))
	}
	return nil, fmt.Errorf("evidence store %q: want dir, dir:PATH, postgres or s3://BUCKET/PREFIX", loc)
}

func openS3(ctx context.Context, c Config, rest string) (*S3, error) {
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, fmt.Errorf("evidence store s3://%s: no bucket", rest)
	}
	mode := types.ObjectLockMode(strings.ToUpper(c.Mode))
	if mode == "" {
		mode = types.ObjectLockModeCompliance
	}
	if mode != types.ObjectLockModeCompliance && mode != types.ObjectLockModeGovernance {
		return nil, fmt.Errorf("evidence Object Lock mode %q: want COMPLIANCE or GOVERNANCE", c.Mode)
	}
	cfg, err := awsclient.Load(ctx, c.AWS)
	if err != nil {
		return nil, fmt.Errorf("evidence store s3://%s: %w", rest, err)
	}
	pathStyle := awsclient.S3PathStyle(cfg)
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
	return &S3{Client: client, Bucket: bucket, Prefix: strings.Trim(prefix, "/"), Mode: mode, Retention: c.Retention}, nil
}
