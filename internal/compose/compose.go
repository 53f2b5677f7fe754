// Package compose reads golive's production stack, docker-compose.yml, with
// github.com/compose-spec/compose-go/v2, the loader `docker compose` itself
// uses: the file is validated against the Compose specification's schema,
// interpolated (${VAR:-default}, ${VAR:?message}) and normalised exactly as
// Compose would. internal/cluster reads the temporal service's environment and
// its dynamic config through it, so the stack `make cluster` runs without
// containers and the compose stack cannot drift apart; compose_test.go checks
// the file's structure in `make test`.
package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// File is the compose file's name at the repository root.
const File = "docker-compose.yml"

// ErrNoService is returned for a service the file does not define.
var ErrNoService = errors.New("no such service in the compose file")

// Load loads the compose file at path as `docker compose config` would, with
// env as the only variables for interpolation (the process environment is not
// read, so a test or the cluster decides every value). A variable the file
// requires (${VAR:?message}) and env lacks is an error naming it.
func Load(ctx context.Context, path string, env map[string]string) (*types.Project, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", path, err)
	}
	kv := make([]string, 0, len(env))
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithEnv(kv),
	)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", path, err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", path, err)
	}
	return p, nil
}

// Environment is the environment of service name after interpolation and
// env_file resolution. A variable listed without a value (passed through from
// the host in Compose) is an error: the caller must not guess it.
func Environment(p *types.Project, name string) (map[string]string, error) {
	s, ok := p.Services[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoService, name)
	}
	out := make(map[string]string, len(s.Environment))
	for k, v := range s.Environment {
		if v == nil {
			return nil, fmt.Errorf("service %s: %s has no value in the compose file", name, k)
		}
		out[k] = *v
	}
	return out, nil
}

// ConfigContent is the content of the config that service name mounts at
// target (a `configs:` entry with inline content or a file).
func ConfigContent(p *types.Project, name, target string) (string, error) {
	s, ok := p.Services[name]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNoService, name)
	}
	for _, c := range s.Configs {
		if c.Target != target {
			continue
		}
		conf, ok := p.Configs[c.Source]
		if !ok {
			return "", fmt.Errorf("service %s: config %s is not declared under configs", name, c.Source)
		}
		if conf.File != "" {
			b, err := os.ReadFile(conf.File)
			if err != nil {
				return "", fmt.Errorf("service %s: config %s: %w", name, c.Source, err)
			}
			return string(b), nil
		}
		return conf.Content, nil
	}
	return "", fmt.Errorf("service %s mounts no config at %s", name, target)
}
