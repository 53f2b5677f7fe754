package approval

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// inputHeader is the first line of every canonical input statement; it
// differs from statementHeader, so a sign-off signature never verifies as
// another input and the other way round.
const inputHeader = "golive-input-v1"

// Field is one named field of a human input, as signed.
type Field struct {
	Name  string
	Value string
}

// InputStatement is what a person signs for any human input other than a
// sign-off (start, attest, ack, abort, hold, resume, rollback): the release,
// the run, the input's name, the person, the version and spec, the time, and
// the input's own fields in a fixed order. The workflow rebuilds it from what
// it knows and from the input's fields, so a signature made for another
// release, run, input or field value never verifies.
type InputStatement struct {
	// WorkflowID is the release's workflow ID.
	WorkflowID string
	// RunID is the release's run ID; empty for "start", whose run does not exist yet.
	RunID string
	// Input is the input's name: start, attest, ack, abort, hold, resume, rollback.
	Input string
	// Person is the signer's person ID in the team directory.
	Person     string
	Version    string
	SpecDigest string
	SignedAt   time.Time
	// Fields are the input's own fields (items, alert, reason, comment...), in
	// the order the input type defines.
	Fields []Field
}

// Bytes returns the canonical form: one "name value" line per field, each value
// quoted with strconv.QuoteToASCII, the time in UTC RFC 3339 with nanoseconds.
func (s InputStatement) Bytes() []byte {
	var b strings.Builder
	b.WriteString(inputHeader)
	b.WriteByte('\n')
	line := func(name, value string) {
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(strconv.QuoteToASCII(value))
		b.WriteByte('\n')
	}
	line("workflow-id", s.WorkflowID)
	line("run-id", s.RunID)
	line("input", s.Input)
	line("person", s.Person)
	line("version", s.Version)
	line("spec-digest", s.SpecDigest)
	line("signed-at", s.SignedAt.UTC().Format(time.RFC3339Nano))
	for _, f := range s.Fields {
		line("field."+f.Name, f.Value)
	}
	return []byte(b.String())
}

// String is the canonical form as text.
func (s InputStatement) String() string { return string(s.Bytes()) }

// Validate reports a statement that cannot be signed or verified.
func (s InputStatement) Validate() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"workflow ID", s.WorkflowID}, {"input", s.Input}, {"person", s.Person},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if s.RunID == "" && s.Input != "start" {
		missing = append(missing, "run ID")
	}
	if s.SignedAt.IsZero() {
		missing = append(missing, "signing time")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: input statement without %s", ErrMalformed, strings.Join(missing, ", "))
	}
	return nil
}

func (s InputStatement) who() string     { return s.Person }
func (s InputStatement) when() time.Time { return s.SignedAt }
func (s InputStatement) describe() string {
	run := s.RunID
	if run == "" {
		run = "(new)"
	}
	return fmt.Sprintf("%s by %s (%s run %s, with these fields and time)", s.Input, s.Person, s.WorkflowID, run)
}

// SignInput signs an input statement (armored SSHSIG, namespace golive-approval).
func SignInput(signer ssh.Signer, st InputStatement) (string, error) { return sign(signer, st) }

// VerifyInput checks signature over st against trusted keys (ParseKeys syntax).
// Pure: no clock, I/O or randomness, so workflow code may call it.
func VerifyInput(st InputStatement, signature, trusted string) (Verified, error) {
	return verifyTrusted(st, signature, trusted)
}
