package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Allowed values of the spec's enumerations.
var (
	// VersionFroms are the values of version.from.
	VersionFroms = []string{"flag", "file", "env"}
	// DeployTargets are the values of deploy.target.
	DeployTargets = []string{"demo", "command", "ecs", "s3-static"}
	// MetricsProviders are the values of metrics.provider.
	MetricsProviders = []string{"http", "prometheus", "postgres", "cloudwatch"}
	// BackupTypes are the values of backup.type.
	BackupTypes = []string{"none", "postgres", "rds"}
	// NotifyChannels are the values of notify.channel.
	NotifyChannels = []string{"log", "live"}
	// NotifyLiveChannels are the values of notify.channels.
	NotifyLiveChannels = []string{"email", "sms"}
	// OnTimeouts are the values of a sign-off block's on_timeout.
	OnTimeouts = []string{"abort", "hold"}
	// CheckKinds (kinds.go) are the values of an automatic check's kind.
	// FlowMethods are the HTTP methods a smoke flow may use.
	FlowMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
)

// namePattern is what service, environment and IDs may look like: they end up
// in workflow IDs (release:<service>:<environment>) and on command lines.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// checker collects semantic problems of a spec with defaults applied.
type checker struct {
	s    *Spec
	file string
	// at places a field path in the file; nil when the spec has no file.
	at func(path string) (line, col int)
	// raw holds each item list as written (by path), before the defaults were merged in.
	raw  map[string][]Item
	errs Errors
}

// Validate checks a spec with defaults applied (see ApplyDefaults) and returns
// Errors naming every problem, or nil. Load and Parse run it already.
func (s *Spec) Validate() error {
	if errs := validate(s, "", nil, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

// validate runs every semantic check; raw may be nil when the lists were not merged from a file.
func validate(s *Spec, file string, at func(string) (int, int), raw map[string][]Item) Errors {
	c := &checker{s: s, file: file, at: at, raw: raw}
	c.top()
	c.team()
	c.signoffs("approvals", &s.Approvals)
	c.signoffs("completion", &s.Completion)
	c.signoffs("review.signoffs", &s.Review.Signoffs)
	c.allItems()
	c.watch()
	c.freezes()
	c.failure()
	c.escalation()
	c.thresholds()
	c.metrics()
	c.metricsAnalysis()
	c.smoke()
	c.flows()
	c.repeats()
	return c.errs
}

// add records a problem at a field path.
func (c *checker) add(path, format string, args ...any) {
	e := &FieldError{File: c.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if c.at != nil {
		e.Line, e.Column = c.at(path)
	}
	c.errs = append(c.errs, e)
}

// required reports an empty value.
func (c *checker) required(path, v, why string) bool {
	if strings.TrimSpace(v) == "" {
		c.add(path, "is required (%s)", why)
		return false
	}
	return true
}

// enum reports a value outside its allowed set.
func (c *checker) enum(path, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.add(path, "unknown value %q (want one of %s)", v, strings.Join(allowed, ", "))
	}
}

// name reports a value unfit for workflow IDs and command lines.
func (c *checker) name(path, v, why string) {
	if c.required(path, v, why) && !namePattern.MatchString(v) {
		c.add(path, "%q may hold only letters, digits, '.', '_' and '-'", v)
	}
}

// top checks the plain top-level fields and the integrations' settings.
func (c *checker) top() {
	s := c.s
	c.name("service", s.Service, "the service being released")
	c.environment()
	c.enum("version.from", s.Version.From, VersionFroms)
	if s.Version.From == "file" {
		c.required("version.file", s.Version.File, "version.from is file")
	}
	if s.Version.From == "env" {
		c.required("version.env", s.Version.Env, "version.from is env")
	}
	if c.required("app.url", s.App.URL, "the base URL probes and smoke tests use") {
		c.httpURL("app.url", s.App.URL)
	}
	c.absPath("app.health_path", s.App.HealthPath)
	c.absPath("app.version_path", s.App.VersionPath)
	if c.required("deploy.target", s.Deploy.Target, "one of "+strings.Join(DeployTargets, ", ")) {
		c.enum("deploy.target", s.Deploy.Target, DeployTargets)
	}
	if s.Deploy.Target == "command" && len(s.Deploy.Command) == 0 {
		c.add("deploy.command", "is required when deploy.target is command")
	}
	c.awsDeploy()
	c.enum("backup.type", s.Backup.Type, BackupTypes)
	if s.Backup.Type == "rds" {
		c.required("backup.instance", s.Backup.Instance, "backup.type is rds")
	}
	if s.Backup.Type == "postgres" && s.Database.URL == "" {
		c.add("database.url", "is required when backup.type is postgres")
	}
	if s.Database.Migrations != "" && s.Database.URL == "" {
		c.add("database.url", "is required when database.migrations is set")
	}
	c.secretRef("database.url", s.Database.URL)
	c.database()
	c.drills()
	c.notify()
	c.required("evidence.dir", s.Evidence.Dir, "where the filled checklist is written")
	if s.Window.PrepareLead < 0 || s.Window.Duration < 0 {
		c.add("window", "durations must not be negative")
	}
}

// notify checks the channel, the live channels with the credentials each needs,
// and that credentials are references: specs travel in workflow payloads.
func (c *checker) notify() {
	n := c.s.Notify
	c.enum("notify.channel", n.Channel, NotifyChannels)
	live := map[string]bool{}
	for i, ch := range n.Channels {
		p := fmt.Sprintf("notify.channels[%d]", i)
		c.enum(p, ch, NotifyLiveChannels)
		if live[ch] {
			c.add(p, "%q is listed twice", ch)
		}
		live[ch] = true
	}
	c.credentialRef("notify.resend_api_key", n.ResendAPIKey)
	c.credentialRef("notify.twilio_auth_token", n.TwilioAuthToken)
	if n.Channel != "live" {
		return
	}
	if len(n.Channels) == 0 {
		c.add("notify.channels", "is empty (want email, sms or both when notify.channel is live)")
	}
	if live["email"] {
		c.required("notify.from", n.From, "the sender address when notify.channel is live")
		c.required("notify.resend_api_key", n.ResendAPIKey, "a reference to the Resend API key when email is a live channel")
	}
	if live["sms"] {
		c.required("notify.twilio_account_sid", n.TwilioAccountSID, "the Twilio account when sms is a live channel")
		c.required("notify.twilio_auth_token", n.TwilioAuthToken, "a reference to the Twilio auth token when sms is a live channel")
		c.required("notify.twilio_from", n.TwilioFrom, "the sending number or Messaging Service SID when sms is a live channel")
	}
}

// credentialRef reports a credential written as its value instead of a reference.
func (c *checker) credentialRef(path, v string) {
	if v != "" && !strings.HasPrefix(v, "env://") && !strings.HasPrefix(v, "secret://") {
		c.add(path, "holds a literal credential; write a reference instead (env://NAME or secret://aws/NAME#KEY)")
	}
}

// httpURL reports a URL that is not absolute http(s).
func (c *checker) httpURL(path, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(path, "%q is not an absolute http(s) URL", v)
	}
}

// absPath reports a URL path that does not start with a slash.
func (c *checker) absPath(path, v string) {
	if !strings.HasPrefix(v, "/") {
		c.add(path, "%q must start with /", v)
	}
}

// secretRef reports a connection string that carries a password: specs travel in
// workflow payloads, so they hold references (env://NAME, secret://...), never secrets.
func (c *checker) secretRef(path, v string) {
	if v == "" || strings.HasPrefix(v, "env://") || strings.HasPrefix(v, "secret://") {
		return
	}
	u, err := url.Parse(v)
	if err != nil {
		c.add(path, "is neither a reference (env://NAME, secret://aws/NAME#KEY) nor a URL")
		return
	}
	if _, hasPass := u.User.Password(); hasPass || u.Query().Has("password") {
		c.add(path, "holds a password; write a reference instead (env://NAME or secret://aws/NAME#KEY)")
	}
}

// thresholds checks that the limits are ordered: target <= critical <= rollback.
func (c *checker) thresholds() {
	t := c.s.Thresholds
	if t.Critical.ErrorRate < t.Targets.ErrorRate {
		c.add("thresholds.critical.error_rate", "%s is below the T+1h target %s", t.Critical.ErrorRate, t.Targets.ErrorRate)
	}
	if t.Rollback.ErrorRate < t.Critical.ErrorRate {
		c.add("thresholds.rollback.error_rate", "%s is below the critical limit %s", t.Rollback.ErrorRate, t.Critical.ErrorRate)
	}
	if t.Critical.LatencyP95 < t.Targets.LatencyP95 {
		c.add("thresholds.critical.latency_p95", "%s is below the T+1h target %s", short(t.Critical.LatencyP95), short(t.Targets.LatencyP95))
	}
	if t.Critical.SlowQueries < 0 {
		c.add("thresholds.critical.slow_queries_per_hour", "must not be negative")
	}
}

// metrics checks each provider, its queries, and the queries the thresholds need.
func (c *checker) metrics() {
	m := c.s.Metrics
	defined := map[string]string{} // metric -> where it is defined
	for n := 0; n <= len(m.Sources); n++ {
		src, p := m.ProviderOf(n), sourcePath(n)
		c.enum(p+".provider", src.Provider, MetricsProviders)
		if src.Provider == "http" || src.Provider == "prometheus" {
			if c.required(p+".url", src.URL, p+".provider is "+src.Provider) {
				c.httpURL(p+".url", src.URL)
			}
		}
		if n > 0 && len(src.Queries) == 0 {
			c.add(p+".queries", "is empty: a source answers at least one metric")
		}
		names := make([]string, 0, len(src.Queries))
		for name := range src.Queries {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if strings.TrimSpace(src.Queries[name]) == "" {
				c.add(p+".queries."+name, "is empty")
			}
			if first, dup := defined[name]; dup {
				c.add(p+".queries."+name, "metric %q is already read from %s: define each metric once", name, first)
				continue
			}
			defined[name] = p
		}
	}
	for _, name := range []string{MetricErrorRate, MetricLatencyP95} {
		if _, ok := defined[name]; !ok {
			c.add("metrics.queries", "%s is required (the T+1h target and rollback trigger read it)", name)
		}
	}
}

// smoke checks the critical user flows.
func (c *checker) smoke() {
	seen := map[string]string{}
	for i, f := range c.s.Smoke.Flows {
		p := fmt.Sprintf("smoke.flows[%d]", i)
		if c.required(p+".id", f.ID, "names the flow in results") {
			if first, dup := seen[f.ID]; dup {
				c.add(p+".id", "duplicate id %q (also %s)", f.ID, first)
			}
			seen[f.ID] = p
		}
		c.enum(p+".method", f.Method, FlowMethods)
		c.absPath(p+".path", f.Path)
		if f.ExpectStatus < 100 || f.ExpectStatus > 599 {
			c.add(p+".expect_status", "%d is not an HTTP status", f.ExpectStatus)
		}
	}
}

// short formats a duration as a spec would write it: "30m" rather than "30m0s".
func short(d Duration) string {
	t := d.String()
	if strings.HasSuffix(t, "m0s") {
		t = strings.TrimSuffix(t, "0s")
	}
	if strings.HasSuffix(t, "h0m") {
		t = strings.TrimSuffix(t, "0m")
	}
	return t
}
