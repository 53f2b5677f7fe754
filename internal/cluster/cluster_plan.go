package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golive/golive/internal/compose"
)

const loopback = "127.0.0.1"

// Ports are the listeners of the four services: gRPC, ringpop membership and
// the Prometheus metrics endpoint of each, and the frontend's HTTP API.
type Ports struct {
	GRPC         map[string]int `json:"grpc"`
	Membership   map[string]int `json:"membership"`
	Metrics      map[string]int `json:"metrics,omitempty"`
	FrontendHTTP int            `json:"frontend_http"`
}

// templatePorts are the defaults of the server's config template (the ports
// the compose stack's single process uses: FRONTEND_GRPC_PORT 7233, ...).
func templatePorts() Ports {
	return Ports{
		GRPC:         map[string]int{Frontend: 7233, History: 7234, Matching: 7235, Worker: 7239},
		Membership:   map[string]int{Frontend: 6933, History: 6934, Matching: 6935, Worker: 6939},
		Metrics:      map[string]int{Frontend: 8000, History: 8001, Matching: 8002, Worker: 8003},
		FrontendHTTP: 7243,
	}
}

// Plan is the cluster Start runs: the compose file's settings with the
// local changes, and the state Down needs.
type Plan struct {
	// Server is the environment of the compose `temporal` service after
	// interpolation, with the local changes applied (ServiceEnv adds each
	// process's own ports). PGPassword is never written to disk.
	Server map[string]string `json:"server"`
	// Schema is the compose `temporal-schema` job's environment, local.
	Schema map[string]string `json:"schema"`
	// Changed lists the compose variables the local run sets differently, and why.
	Changed   map[string]string `json:"changed"`
	Databases []string          `json:"databases"`
	Namespace string            `json:"namespace"`
	Retention time.Duration     `json:"retention"`
	Ports     Ports             `json:"ports"`
	Frontend  string            `json:"frontend"`
	Pids      map[string]int    `json:"pids"`

	stateDir, password, dynamicConfig string
}

// NewPlan reads the compose file and derives the local cluster from it.
func NewPlan(ctx context.Context, o Options) (*Plan, error) {
	if err := o.fill(); err != nil {
		return nil, err
	}
	// The only interpolation variables: the process environment (as `docker
	// compose` reads it) with the local PostgreSQL's user and password.
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	vars["POSTGRES_USER"] = o.PGUser
	vars["POSTGRES_PASSWORD"] = o.PGPassword
	if o.PGPassword == "" {
		vars["POSTGRES_PASSWORD"] = "unused-with-trust-authentication"
	}
	p, err := compose.Load(ctx, o.ComposeFile, vars)
	if err != nil {
		return nil, err
	}
	server, err := compose.Environment(p, composeServer)
	if err != nil {
		return nil, err
	}
	schema, err := compose.Environment(p, composeSchema)
	if err != nil {
		return nil, err
	}
	setup, err := compose.Environment(p, composeSetup)
	if err != nil {
		return nil, err
	}
	if db := server["DB"]; db != "postgres12" && db != "postgres12_pgx" {
		return nil, fmt.Errorf("compose service %s: DB %q; the local cluster runs the PostgreSQL plugin only", composeServer, db)
	}
	retention, err := setupRetention(strings.Join(p.Services[composeSetup].Command, " "))
	if err != nil {
		return nil, err
	}
	dyn, err := compose.ConfigContent(p, composeServer, dynamicConfigTarget)
	if err != nil {
		return nil, err
	}
	ports, err := choosePorts(o.FreePorts)
	if err != nil {
		return nil, err
	}
	pl := &Plan{
		Server: server, Schema: schema, Changed: map[string]string{},
		Databases: []string{o.DatabasePrefix + "temporal", o.DatabasePrefix + "temporal_visibility"},
		Namespace: setup["TEMPORAL_NAMESPACE"], Retention: retention, Ports: ports,
		Frontend: net.JoinHostPort(loopback, strconv.Itoa(ports.GRPC[Frontend])),
		Pids:     map[string]int{}, stateDir: o.StateDir, password: o.PGPassword,
	}
	pl.localize(o, dyn)
	return pl, nil
}

// localize points the compose settings at loopback and the local PostgreSQL.
func (pl *Plan) localize(o Options, dynamicConfig string) {
	set := func(env map[string]string, k, v, why string) {
		if env[k] != v {
			pl.Changed[k] = fmt.Sprintf("%q -> %q: %s", env[k], v, why)
		}
		env[k] = v
	}
	pgPort := strconv.Itoa(o.PGPort)
	// Passwords are added to each process's environment, never kept in the plan.
	delete(pl.Server, "POSTGRES_PWD")
	delete(pl.Schema, "SQL_PASSWORD")
	set(pl.Server, "POSTGRES_SEEDS", o.PGHost, "the local PostgreSQL instead of the postgresql container")
	set(pl.Server, "DB_PORT", pgPort, "the local PostgreSQL's port")
	set(pl.Server, "BIND_ON_IP", loopback, "services listen on loopback only")
	set(pl.Server, "DBNAME", pl.Databases[0], "the persistence database")
	set(pl.Server, "VISIBILITY_DBNAME", pl.Databases[1], "the visibility database")
	set(pl.Server, "DYNAMIC_CONFIG_FILE_PATH", filepath.Join(pl.stateDir, "dynamicconfig", "docker.yaml"),
		"the compose config mounted at "+dynamicConfigTarget+", written here")
	if o.LogLevel != "" {
		set(pl.Server, "LOG_LEVEL", o.LogLevel, "asked for")
	}
	if v, ok := pl.Server["PROMETHEUS_ENDPOINT"]; ok {
		pl.Changed["PROMETHEUS_ENDPOINT"] = fmt.Sprintf("%q -> 127.0.0.1:<each service's metrics port>: one endpoint per process", v)
	}
	pl.Changed["<SERVICE>_GRPC_PORT, <SERVICE>_MEMBERSHIP_PORT, FRONTEND_HTTP_PORT"] = "the template's defaults, or free ports (FreePorts)"
	set(pl.Schema, "SQL_HOST", o.PGHost, "the local PostgreSQL")
	set(pl.Schema, "SQL_PORT", pgPort, "the local PostgreSQL's port")
	if o.DynamicConfig != "" {
		dynamicConfig = strings.TrimRight(dynamicConfig, "\n") + "\n" + o.DynamicConfig
		pl.Changed["dynamic config"] = "added to the compose file's: " + strings.Join(strings.Fields(o.DynamicConfig), " ")
	}
	pl.dynamicConfig = dynamicConfig
}

// DynamicConfig is the dynamic config file the services read.
func (pl *Plan) DynamicConfig() string { return pl.dynamicConfig }

// ServiceEnv is the whole environment of one service's process: the
// server's variables and that service's ports. Nothing else from the
// supervisor's environment reaches the template but PATH, HOME and TMPDIR.
func (pl *Plan) ServiceEnv(svc string) []string {
	env := maps.Clone(pl.Server)
	env["POSTGRES_PWD"] = pl.password
	for s, port := range pl.Ports.GRPC {
		env[strings.ToUpper(s)+"_GRPC_PORT"] = strconv.Itoa(port)
		env[strings.ToUpper(s)+"_MEMBERSHIP_PORT"] = strconv.Itoa(pl.Ports.Membership[s])
	}
	env["FRONTEND_HTTP_PORT"] = strconv.Itoa(pl.Ports.FrontendHTTP)
	if _, ok := env["PROMETHEUS_ENDPOINT"]; ok {
		// One endpoint per process (the stack's one process has one).
		env["PROMETHEUS_ENDPOINT"] = net.JoinHostPort(loopback, strconv.Itoa(pl.Ports.Metrics[svc]))
	}
	return environ(env)
}

// SchemaEnv is the SQL tool's environment (the temporal-schema job's).
func (pl *Plan) SchemaEnv() []string {
	env := maps.Clone(pl.Schema)
	env["SQL_PASSWORD"] = pl.password
	return environ(env)
}

func environ(env map[string]string) []string {
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

var retentionFlag = regexp.MustCompile(`--retention\s+(\d+)([dhms])\b`)

// setupRetention reads the namespace retention out of the temporal-setup
// job's command (`temporal operator namespace create ... --retention 30d`).
func setupRetention(command string) (time.Duration, error) {
	m := retentionFlag.FindStringSubmatch(command)
	if m == nil {
		return 0, fmt.Errorf("compose service %s: no --retention in its command", composeSetup)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second}[m[2]]
	return time.Duration(n) * unit, nil
}

// choosePorts is the template's ports, or free loopback ports. Free ports
// are taken below 32768: the server stores the membership port in a smallint
// column (cluster_membership.rpc_port), and the kernel's ephemeral range is above.
func choosePorts(free bool) (Ports, error) {
	p := templatePorts()
	if !free {
		return p, nil
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	port := 20000 + rand.IntN(10000)
	next := func() (int, error) {
		for ; port < 32768; port++ {
			l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(port)))
			if err == nil {
				ls = append(ls, l)
				port++
				return port - 1, nil
			}
		}
		return 0, errors.New("no free loopback port below 32768")
	}
	var err error
	for _, m := range []map[string]int{p.GRPC, p.Membership, p.Metrics} {
		for _, svc := range Services {
			if m[svc], err = next(); err != nil {
				return p, err
			}
		}
	}
	p.FrontendHTTP, err = next()
	return p, err
}

// write keeps the dynamic config the services read and the plan Down reads.
func (pl *Plan) write() error {
	dir := filepath.Dir(pl.Server["DYNAMIC_CONFIG_FILE_PATH"])
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(pl.stateDir, "logs"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(pl.Server["DYNAMIC_CONFIG_FILE_PATH"], []byte(pl.dynamicConfig), 0o644); err != nil {
		return err
	}
	return pl.save()
}

func (pl *Plan) save() error {
	b, err := json.MarshalIndent(pl, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(pl.stateDir, stateFile), b, 0o600)
}

func (pl *Plan) recordPid(svc string, pid int) error {
	pl.Pids[svc] = pid
	return pl.save()
}
