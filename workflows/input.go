package workflows

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
)

// Bounds on what refusals cost: distinct refusals kept in full (the rest are
// counted together), and the length of any text an outsider controls.
const (
	maxRefusals = 100
	maxClaim    = 64
	maxReason   = 400
	// maxUpdatePayload is the largest Update payload the validator lets into
	// the history; bigger ones are rejected before they cost anything.
	maxUpdatePayload = 16 << 10
)

// registerHandlers registers the status query, and each human input as both an
// Update and a Signal. All of them end in apply, so one validation serves both,
// and every refusal is recorded in the status and the audit ledger.
func (r *release) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StatusQuery, func() (record.Status, error) { return r.st, nil }); err != nil {
		return err
	}
	if err := registerInput(ctx, r, SignoffName, validSignoff, r.signoff); err != nil {
		return err
	}
	if err := registerInput(ctx, r, AttestName, func(a Attest) error { return needPerson(a.Person) }, r.attest); err != nil {
		return err
	}
	if err := registerInput(ctx, r, RollbackName, validRollback, r.requestRollback); err != nil {
		return err
	}
	if err := registerInput(ctx, r, AckName, validAck, r.ack); err != nil {
		return err
	}
	if err := registerInput(ctx, r, AbortName, func(a Abort) error { return needPerson(a.Person) }, r.abort); err != nil {
		return err
	}
	if err := registerInput(ctx, r, HoldName, func(h Hold) error { return needPerson(h.Person) }, r.hold); err != nil {
		return err
	}
	if err := registerInput(ctx, r, ResumeName, func(h Resume) error { return needPerson(h.Person) }, r.resume); err != nil {
		return err
	}
	if r.v < versionIdentity {
		r.registerLegacyReports(ctx)
		return nil
	}
	if r.vGuided >= guidedFailure {
		if err := r.registerDecisions(ctx); err != nil {
			return err
		}
	}
	r.refuseUnknownSignals(ctx)
	// Watch checks come only as results of the release's own check children.
	// A check-report signal is somebody else's: refused, recorded, alerted.
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, CheckReportName)
		for {
			var raw converter.RawValue
			ch.Receive(ctx, &raw)
			r.alerts.raise(ctx, r.spec.Escalation.CriticalLevel, "forged check-report signal refused: watch checks come only from the release's own check children", "forged:"+CheckReportName)
			_, _ = r.refuse(ctx, record.ChannelSignal, CheckReportName, claimOf(raw), "", "check-report signals are refused: this release takes watch checks only as results of its own check children", raw.Payload())
		}
	})
	return nil
}

// inputNames are the signals a release takes (check-report only to refuse it);
// releases since guidedFailure take decisionNames as well.
var inputNames = []string{SignoffName, AttestName, RollbackName, AckName, AbortName, HoldName, ResumeName, CheckReportName}

// refuseUnknownSignals records signals sent under a name the release has no
// handler for (a typo in the Temporal UI: "signof"), which the SDK would keep
// unread: each is refused like any other input, so none leaves no record.
func (r *release) refuseUnknownSignals(ctx workflow.Context) {
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var names []string
			if err := workflow.Await(ctx, func() bool { names = r.unknownSignals(ctx); return len(names) > 0 }); err != nil {
				return
			}
			for _, name := range names {
				ch := workflow.GetSignalChannel(ctx, name)
				var raw converter.RawValue
				for ch.ReceiveAsync(&raw) {
					_, _ = r.refuse(ctx, record.ChannelSignal, render.Truncate(name, maxClaim), claimOf(raw),
						"", fmt.Sprintf("no input is named %q; a release takes %s", render.Truncate(name, maxClaim), strings.Join(r.takes(), ", ")), raw.Payload())
				}
			}
		}
	})
}

// unknownSignals lists, sorted, the names of unread signals no handler takes.
func (r *release) unknownSignals(ctx workflow.Context) []string {
	var out []string
	for _, name := range workflow.GetUnhandledSignalNames(ctx) {
		if !slices.Contains(inputNames, name) && (r.vGuided < guidedFailure || !slices.Contains(decisionNames, name)) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// registerInput wires one input type as an Update and a Signal of the same
// name. Both take the raw payload and decode it here, strictly, so that a
// payload that is not an object of the right shape (a typo in the Temporal
// UI's Send Signal) is refused and recorded instead of dropped by the SDK.
func registerInput[T any](ctx workflow.Context, r *release, name string, valid func(T) error, apply func(workflow.Context, T) (InputResult, error)) error {
	handle := func(ctx workflow.Context, ch record.Channel, raw converter.RawValue) (InputResult, error) {
		defer r.guardHistory(ctx)
		in, err := decodeInput[T](raw.Payload(), r.v >= versionIdentity)
		if err != nil {
			if r.v < versionIdentity && ch == record.ChannelSignal {
				// Releases started before counting dropped these, as the SDK did.
				return InputResult{}, err
			}
			return r.refuse(ctx, ch, name, claimOf(raw), "", err.Error(), raw.Payload())
		}
		person, slot := inputWho(in)
		if err := valid(in); err != nil {
			return r.refuse(ctx, ch, name, person, slot, err.Error(), raw.Payload())
		}
		res, err := apply(ctx, in)
		if err != nil {
			return r.refuse(ctx, ch, name, person, slot, err.Error(), raw.Payload())
		}
		outcome := "accepted"
		if res.Duplicate {
			outcome = "duplicate"
		}
		r.inputAudit(ctx, name, person, slot, outcome, res.Message)
		r.publish(ctx)
		return res, nil
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, raw converter.RawValue) (InputResult, error) {
			return handle(ctx, record.ChannelUpdate, raw)
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, raw converter.RawValue) error {
			return validateUpdate(r, ctx, name, raw, valid)
		}})
	if err != nil {
		return fmt.Errorf("update %s: %w", name, err)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		ch := workflow.GetSignalChannel(ctx, name)
		for {
			var raw converter.RawValue
			ch.Receive(ctx, &raw)
			_, _ = handle(ctx, record.ChannelSignal, raw)
		}
	})
	return nil
}

// validateUpdate is the Update validator. A validator may not change state, so
// it cannot record a refusal: it lets every payload through to the handler,
// which refuses and records, except a payload too big to let into the history
// at all (logged by the worker). Releases started before the directory kept
// their old validation.
func validateUpdate[T any](r *release, ctx workflow.Context, name string, raw converter.RawValue, valid func(T) error) error {
	if r.v < versionIdentity {
		in, err := decodeInput[T](raw.Payload(), false)
		if err != nil {
			return err
		}
		return valid(in)
	}
	if n := len(raw.Payload().GetData()); n > maxUpdatePayload {
		workflow.GetLogger(ctx).Warn("update rejected before the history: payload too big", "input", name, "bytes", n)
		return fmt.Errorf("%s payload of %d bytes is over the %d-byte limit", name, n, maxUpdatePayload)
	}
	return nil
}

// refuse records a refused input and returns the refusal as a non-retryable
// error. The same refusal repeated is counted, not stored or audited again,
// and at most maxRefusals distinct ones are kept, so a flood costs the status
// a bounded size. Text an outsider controls is clipped.
func (r *release) refuse(ctx workflow.Context, ch record.Channel, input, person, slot, reason string, raw *commonpb.Payload) (InputResult, error) {
	if r.v < versionIdentity {
		return r.refuseLegacy(ctx, input, person, slot, reason)
	}
	person, slot, reason = render.Truncate(person, maxClaim), render.Truncate(slot, maxClaim), render.Truncate(reason, maxReason)
	now := workflow.Now(ctx)
	r.st.RefusedTotal++
	key := strings.Join([]string{string(ch), input, person, reason}, "\x00")
	if len(r.st.Refused) >= maxRefusals && r.refusals[key] == 0 {
		key, input, person, slot, reason = "overflow", "*", "*", "", fmt.Sprintf("more refusals after the first %d distinct ones, counted here", maxRefusals)
	}
	if i := r.refusals[key]; i > 0 {
		rf := &r.st.Refused[i-1]
		rf.Count++
		rf.LastAt = now
		return InputResult{}, temporal.NewNonRetryableApplicationError(reason, ErrRefused, nil)
	}
	size, digest := payloadDigest(raw)
	r.st.Refused = append(r.st.Refused, record.Refusal{
		At: now, Input: input, Person: person, Slot: slot, Reason: reason, Channel: ch, Count: 1,
		PayloadBytes: size, PayloadDigest: digest,
	})
	r.refusals[key] = len(r.st.Refused)
	data := map[string]string{"input": input, "channel": string(ch), "payload_bytes": strconv.Itoa(size), "payload_digest": digest}
	if slot != "" {
		data["slot"] = slot
	}
	r.audit(ctx, refusalKind(input), person, input+" refused", reason, data)
	workflow.Go(ctx, r.flushAudit)
	r.publish(ctx)
	workflow.GetLogger(ctx).Warn("input refused", "input", input, "channel", ch, "person", person, "reason", reason)
	return InputResult{}, temporal.NewNonRetryableApplicationError(reason, ErrRefused, nil)
}

// auditRepeats writes one ledger row per refusal that came more than once,
// with its count: the repeats were counted, not written one by one.
func (r *release) auditRepeats(ctx workflow.Context) {
	for _, rf := range r.st.Refused {
		if rf.Count > 1 {
			r.audit(ctx, refusalKind(rf.Input), rf.Person, rf.Input+" refused", rf.Reason,
				map[string]string{"input": rf.Input, "channel": string(rf.Channel), "count": strconv.Itoa(rf.Count), "last_at": rf.LastAt.UTC().Format(time.RFC3339)})
		}
	}
}

func refusalKind(input string) string {
	if input == SignoffName {
		return audit.KindApproval
	}
	return audit.KindInput
}

// decodeInput reads a raw payload as T: a JSON object, with known fields only
// when strict (releases started before the directory read them leniently, as
// the SDK did). What else came is described (a string, a list, null...).
func decodeInput[T any](p *commonpb.Payload, strict bool) (T, error) {
	var v T
	if p == nil {
		return v, errors.New("the payload is empty: send a JSON object such as {\"person\": \"ID\", ...}")
	}
	switch enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc {
	case converter.MetadataEncodingJSON:
	case converter.MetadataEncodingNil:
		return v, errors.New("the payload is null, not a JSON object")
	default:
		return v, fmt.Errorf("the payload is encoded as %q, not a JSON object", render.Truncate(enc, maxClaim))
	}
	if kind := jsonKind(p.GetData()); kind != "an object" {
		return v, fmt.Errorf("the payload is %s, not a JSON object", kind)
	}
	dec := json.NewDecoder(bytes.NewReader(p.GetData()))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("the payload does not fit: %s", render.Truncate(err.Error(), 200))
	}
	return v, nil
}

// jsonKind names the kind of a JSON value by its first byte.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// claimOf is the person an undecodable payload claims to come from, if any.
func claimOf(raw converter.RawValue) string {
	var who struct {
		Person string `json:"person"`
	}
	if p := raw.Payload(); p != nil {
		_ = json.Unmarshal(p.GetData(), &who)
	}
	return who.Person
}

func payloadDigest(p *commonpb.Payload) (int, string) {
	if p == nil {
		return 0, ""
	}
	d := sha256.Sum256(p.GetData())
	return len(p.GetData()), hex.EncodeToString(d[:])
}

func inputWho(in any) (person, slot string) {
	switch v := in.(type) {
	case Signoff:
		return v.Person, v.Slot
	case Attest:
		return v.Person, ""
	case RollbackRequest:
		return v.Person, ""
	case Ack:
		return v.Person, v.AlertID
	case Abort:
		return v.Person, ""
	case Hold:
		return v.Person, ""
	case Resume:
		return v.Person, ""
	case Retry:
		return v.Person, v.Step
	case Skip:
		return v.Person, v.Item
	case OverrideFreeze:
		return v.Person, v.Freeze
	}
	return "", ""
}

func needPerson(p string) error {
	if p == "" {
		return errors.New("person is required (golive --as ID, or \"person\" in the signal payload)")
	}
	return nil
}

func validSignoff(s Signoff) error {
	if err := needPerson(s.Person); err != nil {
		return err
	}
	if s.Decision != Approve && s.Decision != Reject {
		return fmt.Errorf("decision must be %q or %q, got %q", Approve, Reject, s.Decision)
	}
	if s.Decision == Reject && s.Comment == "" {
		return errors.New("a rejection needs a comment saying why")
	}
	return nil
}

func validRollback(q RollbackRequest) error {
	if err := needPerson(q.Person); err != nil {
		return err
	}
	if slices.Contains(RollbackReasons, q.Reason) {
		return nil
	}
	return fmt.Errorf("reason must be one of %s; got %q", RollbackReasonList(", "), q.Reason)
}

func validAck(a Ack) error {
	if err := needPerson(a.Person); err != nil {
		return err
	}
	if a.AlertID == "" {
		return errors.New("alert_id is required (golive status lists open alerts)")
	}
	return nil
}

// member checks that a person is on the team.
func (r *release) member(person string) error {
	if _, ok := r.spec.Person(person); !ok {
		return fmt.Errorf("%q is not on the team in the release spec", person)
	}
	return nil
}

// anyRole checks that a person holds one of the roles.
func (r *release) anyRole(person string, roles []string, what string) error {
	if err := r.member(person); err != nil {
		return err
	}
	for _, role := range roles {
		if r.spec.HasRole(person, role) {
			return nil
		}
	}
	return fmt.Errorf("%s may %s only with one of the roles %v; %s holds %v", person, what, roles, person, r.spec.Roles(person))
}

// dirRole checks the directory's policy grants one of roles to person.
func (r *release) dirRole(person string, roles []string, what string) error {
	if r.dir == nil || len(roles) == 0 || r.dir.AnyRole(person, roles) {
		return nil
	}
	p, _ := r.dir.Person(person)
	return fmt.Errorf("%s may %s in %s only with one of the roles %v (team directory); %s holds %v", person, what, r.dir.Environment, roles, person, p.Roles)
}
