package devserver

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

const (
	clusterName = "active"
	storeName   = "sqlite-default"
	// DBFile is the name of the SQLite file inside Options.DataDir.
	DBFile = "temporal.db"
)

// serverOptions builds everything temporal.NewServer needs. It prepares the
// SQLite database first: schema for a new file, then the namespace. tlsConf
// is nil without TLS.
func serverOptions(o *Options, frontend hostPort, tlsConf *tlsSetup, log serverLogger) ([]temporal.ServerOption, error) {
	sqlConf, err := prepareDB(o)
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort(frontend.host)
	if err != nil {
		return nil, fmt.Errorf("frontend HTTP port: %w", err)
	}
	services := map[string]config.Service{
		string(primitives.FrontendService): {RPC: config.RPC{GRPCPort: frontend.port, HTTPPort: httpPort, BindOnIP: frontend.host}},
	}
	hosts := map[primitives.ServiceName]static.Hosts{
		primitives.FrontendService: static.SingleLocalHost(frontend.dialAddr()),
	}
	for _, name := range []primitives.ServiceName{primitives.HistoryService, primitives.MatchingService, primitives.WorkerService} {
		port, err := freePort(loopback)
		if err != nil {
			return nil, fmt.Errorf("%s port: %w", name, err)
		}
		services[string(name)] = config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: loopback}}
		hosts[name] = static.SingleLocalHost(hostPort{host: loopback, port: port}.String())
	}

	conf := &config.Config{
		Services: services,
		Persistence: config.Persistence{
			DefaultStore:     storeName,
			VisibilityStore:  storeName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{storeName: {SQL: sqlConf}},
		},
		ClusterMetadata: &cluster.Config{
			FailoverVersionIncrement: 10,
			MasterClusterName:        clusterName,
			CurrentClusterName:       clusterName,
			ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend.dialAddr(),
				HTTPAddress:            hostPort{host: frontend.dialHost(), port: httpPort}.String(),
			}},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		// The server's own system workers dial this; it must be set.
		PublicClient: config.PublicClient{HostPort: frontend.dialAddr()},
	}
	conf.Global.Membership.BroadcastAddress = loopback
	if tlsConf != nil {
		conf.Global.TLS = tlsConf.rootTLS()
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"

	opts := []temporal.ServerOption{
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(log),
		temporal.WithDynamicConfigClient(dynamicConfig()),
	}
	if o.Authorizer != nil {
		opts = append(opts, temporal.WithAuthorizer(o.Authorizer),
			temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return o.ClaimMapper }))
	}
	return opts, nil
}

// dynamicConfig holds the few settings a single-user dev server wants.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// Search attributes added through the operator API are visible at once.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// The UI and `golive status --watch` list workflows often; the default is 10/s.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// One shard, a handful of releases: a smaller mutable-state cache than the default 128k.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 8192,
	}
}

// prepareDB returns the SQLite config, creating the schema for a new file and
// the namespace (with its search attributes) when it is missing.
func prepareDB(o *Options) (*config.SQL, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName}
	if o.Ephemeral {
		// Memory mode: the plugin creates the schema itself. The name must be
		// unique in the process because the plugin pools connections by DSN.
		conf.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		conf.DatabaseName = "golive-" + rand.Text()
	} else {
		if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		conf.ConnectAttributes = map[string]string{"mode": "rwc"}
		conf.DatabaseName = filepath.Join(o.DataDir, DBFile)
		_, err := os.Stat(conf.DatabaseName)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := sqliteschema.SetupSchema(conf); err != nil {
				return nil, fmt.Errorf("set up schema in %s: %w", conf.DatabaseName, err)
			}
		case err != nil:
			return nil, fmt.Errorf("stat database: %w", err)
		}
	}

	sas := make(map[string]enumspb.IndexedValueType, len(o.SearchAttributes))
	for _, name := range o.SearchAttributes {
		sas[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	}
	ns, err := sqliteschema.NewNamespaceConfig(clusterName, o.Namespace, false, sas)
	if err != nil {
		return nil, fmt.Errorf("namespace %q config: %w", o.Namespace, err)
	}
	// A no-op when the namespace exists; missing search attributes are then
	// added through the operator API once the server runs.
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, fmt.Errorf("create namespace %q: %w", o.Namespace, err)
	}
	return conf, nil
}
