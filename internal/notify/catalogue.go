// Package notify is golive's message catalogue and delivery: Go templates for
// every event the checklist names (HTML and plain-text email, short SMS), email
// through Resend, SMS through Twilio, an idempotency key per (release, event,
// recipient, occurrence), retries with backoff on 429 and 5xx, no retries on
// permanent failures, and fallback from one channel to the other.
//
// Messages carry release facts only (service, environment, version, stage, the
// workflow's one-line summary): facts with other keys are dropped, and e-mail
// addresses and phone numbers in free text are redacted. Never patient data.
package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/golive/golive/internal/record"
)

// Events of the catalogue, in lifecycle order. The workflow sends these names.
const (
	EventSignoffRequested     = "signoff_requested"
	EventSignoffReminder      = "signoff_reminder"
	EventSignoffTimeout       = "signoff_timeout"
	EventAttestationRequested = "attestation_requested"
	EventTeamNotification     = "team_notification"
	EventMaintenanceWindow    = "maintenance_window"
	EventCodeFreeze           = "code_freeze"
	EventDeployStarted        = "deploy_started"
	EventDeployCompleted      = "deploy_completed"
	EventCodeFreezeLifted     = "code_freeze_lifted"
	EventSmokeFailed          = "smoke_failed"
	EventTestMessage          = "test_message"
	EventAlertLevel1          = "alert_level_1"
	EventAlertLevel2          = "alert_level_2"
	EventAlertLevel3          = "alert_level_3"
	EventRollbackDeclared     = "rollback_declared"
	EventRollbackCompleted    = "rollback_completed"
	EventReviewDue            = "review_due"
)

// alertPrefix starts the name of an escalation alert event: alert_level_N for any level N.
const alertPrefix = "alert_level_"

// AlertEvent names the alert event of an escalation level (EventAlertLevel1 for 1).
func AlertEvent(level int) string { return alertPrefix + strconv.Itoa(level) }

// Channel names, as in the spec's notify.channels.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// MaxSMS is the longest SMS body the catalogue renders: one GSM-7 segment.
// Templates put free text last, so a long message loses the end of its summary.
const MaxSMS = 160

// maxText bounds the workflow's free-text summary in an email.
const maxText = 1000

// Route says which channels an event goes by.
type Route int

const (
	// EmailFirst sends by email; SMS is the fallback when email fails.
	EmailFirst Route = iota
	// SMSFirst sends by SMS; email is the fallback when SMS fails (urgent events).
	SMSFirst
	// EveryChannel sends by every channel the recipient has an address for, with
	// no fallback: the T+1h test message checks that each channel works.
	EveryChannel
)

// Event is one entry of the catalogue.
type Event struct {
	// Name is what the workflow sends, e.g. "alert_level_2".
	Name string
	// Title says what it is, for documentation and logs.
	Title string
	// Section is the checklist section the event belongs to.
	Section string
	// Route chooses the channels.
	Route Route
	// Action: the event asks its recipients to act (sign, attest, acknowledge),
	// so each notice carries the recipient's link to the approval pages.
	Action bool
}

var catalogue = []Event{
	{EventSignoffRequested, "Sign-off requested", "Sign-offs", EmailFirst, true},
	{EventSignoffReminder, "Sign-off reminder", "Sign-offs", EmailFirst, true},
	{EventSignoffTimeout, "Sign-off timed out", "Sign-offs", EmailFirst, true},
	{EventAttestationRequested, "Checklist items wait for an attestation", "Pre-Deployment Checklist", EmailFirst, true},
	{EventTeamNotification, "Team notification (T-4 hours)", "Deployment Day: Pre-Deployment", EmailFirst, false},
	{EventMaintenanceWindow, "Maintenance window notice to users (T-4 hours)", "Deployment Day: Pre-Deployment", EmailFirst, false},
	{EventCodeFreeze, "Code freeze on", "Deployment", EmailFirst, false},
	{EventDeployStarted, "Deploy started", "Deployment", EmailFirst, false},
	{EventDeployCompleted, "Deploy completed", "Deployment", EmailFirst, false},
	{EventCodeFreezeLifted, "Code freeze lifted", "Deployment", EmailFirst, false},
	{EventSmokeFailed, "Smoke test failure", "Deployment", SMSFirst, false},
	{EventTestMessage, "Test message: Email/SMS notifications working", "Post-Deployment (T+1 hour)", EveryChannel, false},
	{EventAlertLevel1, "Alert, level 1 (minor issue)", "Escalation Procedures", SMSFirst, true},
	{EventAlertLevel2, "Alert, level 2 (major issue)", "Escalation Procedures", SMSFirst, true},
	{EventAlertLevel3, "Alert, level 3 (critical issue)", "Escalation Procedures", SMSFirst, true},
	{EventRollbackDeclared, "Rollback declared", "Rollback Procedures", SMSFirst, false},
	{EventRollbackCompleted, "Rollback completed", "Rollback Procedures", EmailFirst, false},
	{EventReviewDue, "Post-deployment review due", "Post-Deployment Review", EmailFirst, true},
}

// Events returns the catalogue in lifecycle order.
func Events() []Event { return slices.Clone(catalogue) }

// Lookup returns the catalogue entry of an event. Alerts above level 3
// (alert_level_4...) share the alert entry.
func Lookup(name string) (Event, bool) {
	for _, e := range catalogue {
		if e.Name == name {
			return e, true
		}
	}
	if n, ok := alertLevel(name); ok {
		return Event{Name: name, Title: fmt.Sprintf("Alert, level %d", n), Section: "Escalation Procedures", Route: SMSFirst, Action: true}, true
	}
	return Event{}, false
}

func alertLevel(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, alertPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}

// templateName is the template that renders an event: alerts share "alert".
func templateName(event string) string {
	if _, ok := alertLevel(event); ok {
		return "alert"
	}
	return event
}

// Fact is one release fact a message may carry.
type Fact struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// AllowedFacts are the fact keys a message may carry, in the order they are
// listed in an email. Any other fact is dropped before rendering.
var AllowedFacts = []string{
	"service", "environment", "version", "previous_version", "live_version", "stage",
	"window", "alert", "level", "level_name", "reason", "text",
}

// factLabels are the labels of the facts table; text is the message body, not a row.
var factLabels = map[string]string{
	"service": "Service", "environment": "Environment", "version": "Version",
	"previous_version": "Previous version", "live_version": "Live version", "stage": "Stage",
	"window": "Window", "alert": "Alert", "level": "Level", "level_name": "Severity", "reason": "Reason",
}

// Data is what a template sees.
type Data struct {
	// ReleaseID is the workflow ID (release:<service>:<environment>); Ref is the
	// same without the prefix, as typed on the command line.
	ReleaseID, Ref string
	Event          string
	Level          int
	// Service, Environment, Version, Stage come from the facts of the same name.
	Service, Environment, Version, Stage string
	// Text is the workflow's one-line summary (redacted).
	Text string
	// AlertID, LevelName and Reason describe an escalation alert.
	AlertID, LevelName, Reason string
	// Recipient is the recipient's name, for the greeting.
	Recipient string
	// Link is the recipient's own short link to the release's approval page
	// (events that ask them to act, Event.Action), empty when none is configured.
	Link string
	// Decided are the decisions made so far (sign-offs), oldest first; Last is the newest, shortened.
	Decided []Decision
	Last    string
	// Facts are the allowed facts for the facts table, without text.
	Facts []Fact
}

// alertText is the workflow's alert line: "[A1] Level 2 Major issue: reason (ack with: ...)".
var alertText = regexp.MustCompile(`^\[([A-Za-z0-9_-]+)\] Level (\d+) ([^:]*): (.*?)(?: \(ack with: [^)]*\))?$`)

// NewData builds a template's data from release facts: facts outside
// AllowedFacts are dropped, e-mail addresses and phone numbers are redacted.
func NewData(releaseID, event string, level int, recipient string, facts []Fact) Data {
	d := Data{ReleaseID: releaseID, Ref: record.ShortRelease(releaseID), Event: event, Level: level, Recipient: Redact(recipient)}
	get := map[string]string{}
	for _, f := range facts {
		if !slices.Contains(AllowedFacts, f.Key) || f.Value == "" {
			continue
		}
		if _, dup := get[f.Key]; dup {
			continue
		}
		get[f.Key] = Redact(f.Value)
	}
	d.Service, d.Environment, d.Version, d.Stage = get["service"], get["environment"], get["version"], get["stage"]
	d.Text = truncate(get["text"], maxText)
	d.AlertID, d.LevelName, d.Reason = get["alert"], get["level_name"], get["reason"]
	if m := alertText.FindStringSubmatch(d.Text); m != nil {
		d.AlertID = cmp(d.AlertID, m[1])
		if d.Level == 0 {
			d.Level, _ = strconv.Atoi(m[2])
		}
		d.LevelName = cmp(d.LevelName, m[3])
		d.Reason = cmp(d.Reason, m[4])
	}
	if n, ok := alertLevel(event); ok && d.Level == 0 {
		d.Level = n
	}
	if d.Reason == "" {
		d.Reason = d.Text
	}
	for _, k := range AllowedFacts {
		if v, ok := get[k]; ok && k != "text" {
			d.Facts = append(d.Facts, Fact{Key: k, Value: v})
		}
	}
	return d
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var (
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	phonePattern = regexp.MustCompile(`\+[0-9][0-9 ().-]{6,18}[0-9]`)
)

// Redact replaces e-mail addresses and E.164 phone numbers in free text. It is
// applied to every fact and every provider error golive records, so neither a
// message nor the release record repeats a contact detail.
func Redact(s string) string {
	s = emailPattern.ReplaceAllString(s, "[address]")
	return phonePattern.ReplaceAllString(s, "[number]")
}

// Message is one rendered catalogue entry.
type Message struct {
	Event   string
	Subject string
	// Text and HTML are the two parts of the email.
	Text string
	HTML string
	// SMS is at most MaxSMS ASCII characters.
	SMS string
}

//go:embed templates/*.tmpl
var templateFS embed.FS

var funcs = map[string]any{
	"label": func(k string) string { return factLabels[k] },
	"short": truncate,
}

var (
	subjects = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/subject.tmpl"))
	texts    = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/text.tmpl"))
	smss     = template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/sms.tmpl"))
	htmls    = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(templateFS, "templates/html.tmpl"))
)

// layoutData is what the layouts see: the data and the rendered body.
type layoutData struct {
	Data
	Subject string
	Body    any
}

// Render renders the catalogue entry of d.Event.
func Render(d Data) (Message, error) {
	if _, ok := Lookup(d.Event); !ok {
		return Message{}, fmt.Errorf("event %q is not in the message catalogue", d.Event)
	}
	name := templateName(d.Event)
	m := Message{Event: d.Event}
	var err error
	if m.Subject, err = execText(subjects, name, d); err != nil {
		return Message{}, err
	}
	m.Subject = "[golive] " + oneLine(m.Subject)
	body, err := execText(texts, name, d)
	if err != nil {
		return Message{}, err
	}
	if m.Text, err = execText(texts, "layout", layoutData{Data: d, Subject: m.Subject, Body: strings.TrimSpace(body)}); err != nil {
		return Message{}, err
	}
	var hb bytes.Buffer
	if err := htmls.ExecuteTemplate(&hb, name, d); err != nil {
		return Message{}, fmt.Errorf("html template %s: %w", name, err)
	}
	var h bytes.Buffer
	if err := htmls.ExecuteTemplate(&h, "layout", layoutData{Data: d, Subject: m.Subject, Body: htmltemplate.HTML(hb.String())}); err != nil {
		return Message{}, fmt.Errorf("html layout: %w", err)
	}
	m.HTML = h.String()
	sms, err := execText(smss, name, d)
	if err != nil {
		return Message{}, err
	}
	if d.Last != "" && len(gsmSafe(oneLine(sms))) > MaxSMS {
		// The last decision is a courtesy: leave it out rather than cut it.
		d.Last = ""
		if sms, err = execText(smss, name, d); err != nil {
			return Message{}, err
		}
	}
	m.SMS = truncate(gsmSafe(oneLine(sms)), MaxSMS)
	return m, nil
}

func execText(t *template.Template, name string, data any) (string, error) {
	tt := t.Lookup(name)
	if tt == nil {
		return "", fmt.Errorf("template %s is missing", name)
	}
	var b bytes.Buffer
	if err := tt.Execute(&b, data); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return b.String(), nil
}

// oneLine folds whitespace runs, newlines included, into single spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate shortens s to at most n characters, ending in "..." when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-3]), " ") + "..."
}

// gsmSafe keeps an SMS in plain ASCII, so it stays one GSM-7 segment of 160 characters.
func gsmSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 128:
			b.WriteRune(r)
		case r == '\u2013' || r == '\u2014' || r == '\u2212':
			b.WriteByte('-')
		case r == '\u2018' || r == '\u2019':
			b.WriteByte('\'')
		case r == '\u201c' || r == '\u201d':
			b.WriteByte('"')
		case r == '\u2026':
			b.WriteString("...")
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
