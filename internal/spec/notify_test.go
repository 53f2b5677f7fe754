package spec_test

import (
	"strings"
	"testing"

	"github.com/golive/golive/internal/spec"
)

func TestNotifyCredentialsDefaultToEnvironmentReferences(t *testing.T) {
	l, err := spec.Parse("n.yaml", []byte(minimal+"notify: {channel: live, from: releases@example.org}\n"))
	if err != nil {
		t.Fatal(err)
	}
	n := l.Spec.Notify
	if strings.Join(n.Channels, ",") != "email,sms" {
		t.Errorf("channels %v, want email and sms", n.Channels)
	}
	for got, want := range map[string]string{
		n.ResendAPIKey: "env://RESEND_API_KEY", n.TwilioAccountSID: "env://TWILIO_ACCOUNT_SID",
		n.TwilioAuthToken: "env://TWILIO_AUTH_TOKEN", n.TwilioFrom: "env://TWILIO_FROM",
	} {
		if got != want {
			t.Errorf("credential %q, want %q", got, want)
		}
	}
}

func TestNotifyRefusesLiteralCredentialsAndUnknownChannels(t *testing.T) {
	_, err := spec.Parse("n.yaml", []byte(minimal+`notify:
  channel: live
  from: releases@example.org
  channels: [email, pager, email]
  resend_api_key: re_123456789
  twilio_auth_token: secret://aws/golive/twilio#auth_token
`))
	if err == nil {
		t.Fatal("spec with a literal API key loaded")
	}
	for _, want := range []string{
		`n.yaml:25:21: notify.channels[1]: unknown value "pager" (want one of email, sms)`,
		`notify.channels[2]: "email" is listed twice`,
		`n.yaml:26:19: notify.resend_api_key: holds a literal credential; write a reference instead`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "twilio_auth_token") {
		t.Errorf("a secret:// reference was refused:\n%v", err)
	}
}
