package spec

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/golive/golive/internal/analysis"
)

// JWTAlgs are the algorithms a jwt check can sign its valid token with.
var JWTAlgs = []string{"HS256", "HS384", "HS512"}

// kindCheck checks what the newer kinds need (check runs it after the kind is known).
func (c *checker) kindCheck(p string, ch Check) {
	switch ch.CheckKind() {
	case KindRateLimit:
		// Zero is unset (the defaults fill it), as the items are checked as written.
		if ch.Burst < 0 || ch.Burst > MaxBurst {
			c.add(p+".burst", "%d is outside 1..%d: a readiness check must not become a load test", ch.Burst, MaxBurst)
		}
		if ch.Within < 0 || ch.Within.D() > MaxBurstWithin {
			c.add(p+".within", "%s is outside (0s, %s]", short(ch.Within), short(dur(MaxBurstWithin)))
		}
		c.burstTarget(p+".url", ch.URL)
	case KindJWT:
		if ch.JWT == nil {
			c.add(p+".jwt", "is required: jwt.key, a reference to the test-only signing key")
			break
		}
		if c.required(p+".jwt.key", ch.JWT.Key, "a reference to the test-only signing key") {
			c.credentialRef(p+".jwt.key", ch.JWT.Key)
		}
		if ch.JWT.Alg != "" {
			c.enum(p+".jwt.alg", ch.JWT.Alg, JWTAlgs)
		}
	case KindJUnit, KindK6, KindAxe:
		if c.required(p+".report", ch.Report, "the path or http(s) URL of the CI result file") && strings.Contains(ch.Report, "://") {
			c.httpURL(p+".report", ch.Report)
		}
	case KindMetric:
		if c.required(p+".condition", ch.Condition, `an expression over result, e.g. "result < 1"`) {
			if err := analysis.Validate(ch.Condition); err != nil {
				c.add(p+".condition", "%v", err)
			}
		}
	case KindAlerts:
		if len(ch.Alerts) == 0 {
			c.add(p+".alerts", "is required: watched metric name -> its alert rule or alarm name")
		}
		provider, where := c.s.Metrics.Provider, "metrics.provider"
		if ch.Metrics != nil && ch.Metrics.Provider != "" {
			provider, where = ch.Metrics.Provider, p+".metrics.provider"
		}
		if provider != "prometheus" && provider != "cloudwatch" {
			c.add(where, "%q has no alert rules golive can read (want prometheus or cloudwatch)", provider)
		}
		for _, mt := range c.s.Metrics.All() {
			if _, ok := ch.Alerts[mt.Name]; !ok && judgedMetric(mt.Name) && len(ch.Alerts) > 0 {
				c.add(p+".alerts", "watched metric %s has no alert rule named here", mt.Name)
			}
		}
	case KindDrill:
		c.drillCheck(p, ch)
	case KindBackupCatalog:
		if (ch.Backup == nil || len(ch.Backup.CatalogCommand) == 0) && len(c.s.Backup.CatalogCommand) == 0 {
			c.add(p, "backup.catalog needs backup.catalog_command (pgbackrest info --output=json, wal-g backup-list --json)")
		}
	case KindPgBouncer:
		pooler := c.s.Database.PoolerURL
		if ch.Database != nil && ch.Database.PoolerURL != "" {
			pooler = ch.Database.PoolerURL
			c.secretRef(p+".database.pooler_url", pooler)
		}
		if pooler == "" {
			c.add(p, "pgbouncer needs database.pooler_url (a reference to PgBouncer's admin console)")
		}
	}
	for _, name := range sortedKeys(ch.Headers) {
		if v := ch.Headers[name]; credentialHeader(name) && !strings.Contains(v, "env://") && !strings.Contains(v, "secret://") {
			c.add(p+".headers."+name, "holds a literal credential; write a reference instead (env://NAME or secret://aws/NAME#KEY)")
		}
	}
	if ch.ExpectJSON != "" && !strings.HasPrefix(ch.ExpectJSON, "$") {
		c.add(p+".expect_json", "%q is not a JSON path (start it with $)", ch.ExpectJSON)
	}
	if ch.MaxLifetimeDays < 0 {
		c.add(p+".max_lifetime_days", "must not be negative")
	}
}

// burstTarget refuses a rate_limit URL on any host other than loopback or the
// app's own: a burst is only ever sent where the spec's owner runs the app.
func (c *checker) burstTarget(path, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		c.add(path, "%q is not an absolute http(s) URL", v)
		return
	}
	if !BurstAllowed(u.Hostname(), c.s.App) {
		c.add(path, "host %s is neither loopback nor the app's host: a burst is sent only there", u.Hostname())
	}
}

// BurstAllowed reports whether a rate_limit burst may be sent to host: a
// loopback address, localhost, or the host of the app's URL or domain.
func BurstAllowed(host string, app App) bool {
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "localhost" {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	if u, err := url.Parse(app.URL); err == nil && u.Hostname() != "" && strings.EqualFold(u.Hostname(), host) {
		return true
	}
	return app.Domain != "" && strings.EqualFold(app.Domain, host)
}

// flows checks what a flow sends and expects: credentials only by reference,
// a session captured before it is used, JSON paths that start at $.
func (c *checker) flows() {
	captured := false
	for i, f := range c.s.Smoke.Flows {
		p := fmt.Sprintf("smoke.flows[%d]", i)
		for _, name := range sortedKeys(f.Headers) {
			if v := f.Headers[name]; credentialHeader(name) && !strings.Contains(v, "env://") && !strings.Contains(v, "secret://") {
				c.add(p+".headers."+name, "holds a literal credential; write a reference instead (env://NAME or secret://aws/NAME#KEY)")
			}
		}
		switch a := f.Auth; {
		case a == "" || strings.HasPrefix(a, "env://") || strings.HasPrefix(a, "secret://"):
		case a == "session":
			if !captured {
				c.add(p+".auth", "is session, but no flow before it captures one (set session: $.token on the login flow)")
			}
		default:
			c.add(p+".auth", "%q is neither session nor a reference (env://NAME, secret://aws/NAME#KEY)", a)
		}
		for field, v := range map[string]string{"session": f.Session, "expect_json": f.ExpectJSON} {
			if v != "" && !strings.HasPrefix(v, "$") {
				c.add(p+"."+field, "%q is not a JSON path (start it with $, e.g. $.token)", v)
			}
		}
		captured = captured || f.Session != ""
	}
}

// credentialHeader reports headers whose value is a credential.
func credentialHeader(name string) bool {
	switch strings.ToLower(name) {
	case "authorization", "cookie", "x-api-key", "proxy-authorization":
		return true
	}
	return false
}

// judgedMetric reports the metrics the watch judges against the checklist's limits.
func judgedMetric(name string) bool {
	return slices.Contains(JudgedMetrics, name)
}
