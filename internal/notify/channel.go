package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/resend/resend-go/v2"
	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// Address is one recipient: a team member, or the users' list address.
type Address struct {
	// Person is the team member's ID ("users" for the maintenance notice).
	Person string `json:"person"`
	Name   string `json:"name,omitempty"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
	// Link is this person's own short link to the release's approval page,
	// added to notices of events that ask them to act (Event.Action).
	Link string `json:"link,omitempty"`
}

// has reports whether the address can be reached on a channel.
func (a Address) has(channel string) bool {
	switch channel {
	case ChannelEmail:
		return a.Email != ""
	case ChannelSMS:
		return a.Phone != ""
	}
	return false
}

// Channel sends one message to one recipient.
type Channel interface {
	// Name is ChannelEmail or ChannelSMS.
	Name() string
	// Send sends m to to under an idempotency key and returns the provider's message ID.
	// Errors are *Error, saying whether retrying can help.
	Send(ctx context.Context, key string, to Address, m Message) (id string, err error)
}

// Error is a failed send on one channel.
type Error struct {
	Channel string
	// Status is the HTTP status, 0 when no response came back.
	Status int
	// Code is the provider's error code (Twilio's 21211...), 0 when none.
	Code int
	// Permanent errors are not retried: invalid number, unverified sender, bad credentials.
	Permanent bool
	// Reason is short and redacted: no credential, address or number.
	Reason string
	// RetryAfter is the provider's requested wait on 429, 0 when it named none.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Channel)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Permanent {
		b.WriteString(" [permanent]")
	}
	return b.String()
}

// ClientOptions are shared by both providers' clients.
type ClientOptions struct {
	// HTTP is the client requests go through (default: 30 s timeout). Its Transport is wrapped, never changed.
	HTTP *http.Client
	// BaseURL sends the provider's requests to another scheme and host, e.g. a
	// contract mock on loopback. Empty means the provider's own API.
	BaseURL string
}

// roundTrip is a per-send transport: it binds the send's context (twilio-go
// builds requests without one), sends to BaseURL when set, and keeps the last
// response's status and Retry-After for error classification.
type roundTrip struct {
	base    http.RoundTripper
	ctx     context.Context
	rewrite *url.URL

	mu         sync.Mutex
	status     int
	retryAfter string
}

func (t *roundTrip) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(t.ctx)
	if t.rewrite != nil {
		req.URL.Scheme, req.URL.Host = t.rewrite.Scheme, t.rewrite.Host
		req.URL.Path = strings.TrimSuffix(t.rewrite.Path, "/") + req.URL.Path
		req.Host = t.rewrite.Host
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(req)
	if err == nil {
		t.mu.Lock()
		t.status, t.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
		t.mu.Unlock()
	}
	return res, err
}

func (t *roundTrip) last() (int, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status, t.retryAfter
}

func (o ClientOptions) client(ctx context.Context) (*http.Client, *roundTrip, error) {
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	rt := &roundTrip{base: hc.Transport, ctx: ctx}
	if o.BaseURL != "" {
		u, err := url.Parse(o.BaseURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, nil, fmt.Errorf("base URL %q is not absolute", o.BaseURL)
		}
		rt.rewrite = u
	}
	c := *hc
	c.Transport = rt
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c, rt, nil
}

// Resend sends email through the Resend API (resend-go v2).
type Resend struct {
	// APIKey is the resolved key (never logged or recorded).
	APIKey string
	// From is the sender, "Name <address>" or an address on a verified domain.
	From string
	ClientOptions
}

// Name implements Channel.
func (r *Resend) Name() string { return ChannelEmail }

// Send implements Channel. The key goes out as Resend's Idempotency-Key header,
// so a retried send within Resend's 24 h window is delivered once.
func (r *Resend) Send(ctx context.Context, key string, to Address, m Message) (string, error) {
	hc, rt, err := r.client(ctx)
	if err != nil {
		return "", &Error{Channel: ChannelEmail, Permanent: true, Reason: err.Error()}
	}
	c := resend.NewCustomClient(hc, r.APIKey)
	if rt.rewrite != nil {
		c.BaseURL = &url.URL{Scheme: "https", Host: "api.resend.com", Path: "/"}
	}
	req := &resend.SendEmailRequest{
		From: r.From, To: []string{to.Email}, Subject: m.Subject, Html: m.HTML, Text: m.Text,
		Tags: []resend.Tag{{Name: "golive_event", Value: tagValue(m.Event)}},
	}
	res, err := c.Emails.SendWithOptions(ctx, req, &resend.SendEmailOptions{IdempotencyKey: key})
	if err != nil {
		status, after := rt.last()
		return "", classifyResend(ctx, err, status, after)
	}
	return res.Id, nil
}

var tagUnsafe = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// tagValue keeps a Resend tag to the characters it allows.
func tagValue(s string) string { return tagUnsafe.ReplaceAllString(s, "_") }

func classifyResend(ctx context.Context, err error, status int, retryAfter string) *Error {
	e := &Error{Channel: ChannelEmail, Status: status, Reason: Redact(strings.TrimPrefix(err.Error(), "[ERROR]: "))}
	var rl *resend.RateLimitError
	if errors.As(err, &rl) {
		e.Status, e.Reason = http.StatusTooManyRequests, "rate limited"
		e.RetryAfter = parseRetryAfter(cmp(rl.RetryAfter, retryAfter))
		return e
	}
	transientOrPermanent(ctx, e)
	switch {
	case strings.Contains(strings.ToLower(e.Reason), "not verified"):
		e.Reason = "sender domain not verified: " + e.Reason
	case status == http.StatusUnauthorized || status == http.StatusForbidden && strings.Contains(strings.ToLower(e.Reason), "api key"):
		e.Reason = "API key refused: " + e.Reason
	}
	return e
}

// Twilio sends SMS through the Twilio Messages API (twilio-go).
type Twilio struct {
	// AccountSID and AuthToken are the resolved credentials (never logged or recorded).
	AccountSID, AuthToken string
	// From is the sending number (E.164) or a Messaging Service SID (MG...).
	From string
	ClientOptions
}

// Name implements Channel.
func (t *Twilio) Name() string { return ChannelSMS }

// Send implements Channel. Twilio's Messages API takes no idempotency key: the
// key is kept by the Dispatcher's ledger, which is what stops a second send.
func (t *Twilio) Send(ctx context.Context, key string, to Address, m Message) (string, error) {
	hc, rt, err := t.client(ctx)
	if err != nil {
		return "", &Error{Channel: ChannelSMS, Permanent: true, Reason: err.Error()}
	}
	base := &twclient.Client{Credentials: twclient.NewCredentials(t.AccountSID, t.AuthToken), HTTPClient: hc}
	base.SetAccountSid(t.AccountSID)
	c := twilio.NewRestClientWithParams(twilio.ClientParams{Client: base})
	p := (&twapi.CreateMessageParams{}).SetTo(to.Phone).SetBody(m.SMS)
	if strings.HasPrefix(t.From, "MG") {
		p.SetMessagingServiceSid(t.From)
	} else {
		p.SetFrom(t.From)
	}
	res, err := c.Api.CreateMessage(p)
	if err != nil {
		status, after := rt.last()
		return "", classifyTwilio(ctx, err, status, after)
	}
	if res.Sid == nil {
		return "", nil
	}
	return *res.Sid, nil
}

// twilioPermanent are Twilio error codes that retrying cannot fix, with a short reason.
var twilioPermanent = map[int]string{
	20003: "authentication failed",
	21211: "invalid 'To' phone number",
	21212: "invalid 'From' phone number",
	21606: "'From' number cannot send SMS (unverified sender)",
	21608: "trial account: 'To' number is not verified",
	21610: "recipient has opted out (STOP)",
	21612: "'To' number cannot be reached from this sender",
	21614: "'To' number is not a mobile number",
	21659: "'From' is not a Twilio number of this account (unverified sender)",
	21408: "no permission to send to this region",
}

func classifyTwilio(ctx context.Context, err error, status int, retryAfter string) *Error {
	e := &Error{Channel: ChannelSMS, Status: status, Reason: Redact(err.Error())}
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		if te.Status != 0 {
			e.Status = te.Status
		}
		e.Code, e.Reason = te.Code, Redact(te.Message)
		if why, ok := twilioPermanent[te.Code]; ok {
			e.Permanent, e.Reason = true, why+": "+e.Reason
			return e
		}
	}
	transientOrPermanent(ctx, e)
	if e.Status == http.StatusTooManyRequests {
		e.RetryAfter = parseRetryAfter(retryAfter)
	}
	return e
}

// transientOrPermanent decides by HTTP status: no response (network), 408, 429
// and 5xx are worth retrying; other 4xx are not. A cancelled send is permanent
// for this attempt: the activity's own retry takes over.
func transientOrPermanent(ctx context.Context, e *Error) {
	switch {
	case ctx.Err() != nil:
		e.Permanent, e.Reason = true, "cancelled: "+ctx.Err().Error()
	case e.Status == 0, e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests, e.Status >= 500:
		e.Permanent = false
	default:
		e.Permanent = true
	}
}

// parseRetryAfter reads a Retry-After value in seconds (dates are ignored).
func parseRetryAfter(v string) time.Duration {
	if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	return 0
}
