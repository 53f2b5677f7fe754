package spec

// Check is an automatic readiness check.
type Check struct {
	// Kind is one of CheckKinds (kinds.go); CheckKind returns it typed.
	Kind string `yaml:"kind" json:"kind"`
	// URL for http checks; defaults to the app URL + Path.
	URL  string `yaml:"url,omitempty" json:"url,omitempty"`
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// ExpectStatus for http checks (default 200).
	ExpectStatus int `yaml:"expect_status,omitempty" json:"expect_status,omitempty"`
	// ExpectHeader requires a response header to be present (e.g. Strict-Transport-Security).
	ExpectHeader string `yaml:"expect_header,omitempty" json:"expect_header,omitempty"`
	// Headers, ExpectBody and ExpectJSON for http checks, as in a smoke Flow:
	// headers sent (credentials by reference), a substring and a JSON path the
	// answer must hold.
	Headers    map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	ExpectBody string            `yaml:"expect_body,omitempty" json:"expect_body,omitempty"`
	ExpectJSON string            `yaml:"expect_json,omitempty" json:"expect_json,omitempty"`
	// Host for tls and dns checks; defaults to the app domain.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
	// MinDaysValid for tls checks (default 14).
	MinDaysValid int `yaml:"min_days_valid,omitempty" json:"min_days_valid,omitempty"`
	// Command for command checks: argv, run without a shell; exit 0 passes.
	Command []string `yaml:"command,omitempty" json:"command,omitempty"`
	// Query for sql and metric checks.
	Query string `yaml:"query,omitempty" json:"query,omitempty"`
	// Schemas for postgres.rls (default [public]).
	Schemas []string `yaml:"schemas,omitempty" json:"schemas,omitempty"`
	// Timeout of the check (default 30s).
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// MaxPercent for postgres.connections: the share of max_connections in use above
	// which the check fails (default thresholds.critical.db_connections, 80%).
	MaxPercent Percent `yaml:"max_percent,omitempty" json:"max_percent,omitempty"`
	// MaxMean for postgres.slow_queries: a statement whose mean execution time is
	// above it is slow (default 500ms).
	MaxMean Duration `yaml:"max_mean,omitempty" json:"max_mean,omitempty"`
	// Database is what database checks (postgres.*, sql, backup) connect to; its
	// unset fields come from the spec's database section.
	Database *Database `yaml:"database,omitempty" json:"database,omitempty"`
	// Backup is what a backup check looks at; filled from the spec's backup section.
	Backup *Backup `yaml:"backup,omitempty" json:"backup,omitempty"`

	// Method for csrf (default POST) and rate_limit (default GET) checks.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// Origin is the disallowed Origin a cors check sends (default DefaultProbeOrigin).
	Origin string `yaml:"origin,omitempty" json:"origin,omitempty"`
	// Burst and Within bound a rate_limit check: at most Burst requests, all sent
	// within Within; one of them must be answered 429 (defaults 50 and 10s).
	Burst  int      `yaml:"burst,omitempty" json:"burst,omitempty"`
	Within Duration `yaml:"within,omitempty" json:"within,omitempty"`
	// JWT is the test-only key (by reference) and claims a jwt check signs its tokens with.
	JWT *JWTProbe `yaml:"jwt,omitempty" json:"jwt,omitempty"`
	// Drill is the drill kind (and freshness bound) a drill check reads from the audit ledger.
	Drill *DrillCheck `yaml:"drill,omitempty" json:"drill,omitempty"`
	// MaxLifetimeDays for tls.renewal: a certificate valid longer than this is not
	// taken as automated unless RenewCommand succeeds (default 90, ACME-style).
	MaxLifetimeDays int `yaml:"max_lifetime_days,omitempty" json:"max_lifetime_days,omitempty"`
	// RenewCommand for tls.renewal: argv of a renewal dry run (certbot renew --dry-run); exit 0 proves renewal.
	RenewCommand []string `yaml:"renew_command,omitempty" json:"renew_command,omitempty"`
	// Report is the path (on the worker) or http(s) URL of a CI result file for report.* checks.
	Report string `yaml:"report,omitempty" json:"report,omitempty"`
	// MaxAge bounds how old a report or the newest catalogued backup may be (default 24h).
	MaxAge Duration `yaml:"max_age,omitempty" json:"max_age,omitempty"`
	// MaxP95 and MaxErrorRate for report.k6 (default thresholds.targets).
	MaxP95       Duration `yaml:"max_p95,omitempty" json:"max_p95,omitempty"`
	MaxErrorRate Percent  `yaml:"max_error_rate,omitempty" json:"max_error_rate,omitempty"`
	// Condition judges a metric check's value: an expression over result ("result < 1").
	Condition string `yaml:"condition,omitempty" json:"condition,omitempty"`
	// Alerts for alerts checks: watched metric name -> its alert rule (Prometheus)
	// or alarm (CloudWatch) name.
	Alerts map[string]string `yaml:"alerts,omitempty" json:"alerts,omitempty"`
	// Metrics is where metric and alerts checks read; its unset fields come from
	// the spec's metrics section.
	Metrics *Metrics `yaml:"metrics,omitempty" json:"metrics,omitempty"`
	// Refs for secrets checks: the references that must resolve (default:
	// every credential reference of the spec, see SecretRefs).
	Refs []string `yaml:"refs,omitempty" json:"refs,omitempty"`
}

// JWTProbe is what a jwt check builds its tokens from. The key is a test-only
// key the app accepts in this environment, given by reference, never the value.
type JWTProbe struct {
	// Key is a reference (env://NAME or secret://aws/NAME#KEY) to the HMAC key.
	Key string `yaml:"key" json:"key"`
	// Alg is HS256 (default), HS384 or HS512.
	Alg string `yaml:"alg,omitempty" json:"alg,omitempty"`
	// Issuer, Audience and Subject become the iss, aud and sub claims when set.
	Issuer   string `yaml:"issuer,omitempty" json:"issuer,omitempty"`
	Audience string `yaml:"audience,omitempty" json:"audience,omitempty"`
	Subject  string `yaml:"subject,omitempty" json:"subject,omitempty"`
}
