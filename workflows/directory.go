package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/golive/golive/activities"
	"github.com/golive/golive/internal/approval"
	"github.com/golive/golive/internal/audit"
	"github.com/golive/golive/internal/directory"
	"github.com/golive/golive/internal/record"
	"github.com/golive/golive/internal/render"
	"github.com/golive/golive/internal/spec"
)

// pinDirectory resolves the team directory once, through an activity, and
// records what the release uses (digest, signers, people, roles, key
// fingerprints) in its history and status: the release is judged by the
// directory it started with, and replay never reads the file again. Then it
// judges the start itself: the spec may only name what the directory holds,
// the requester must hold a role that may start releases here, and the start
// must carry the requester's signature where the policy requires signatures.
func (r *release) pinDirectory(ctx workflow.Context) error {
	var snap directory.Snapshot
	in := activities.ResolveInput{ReleaseID: r.st.ReleaseID, Service: r.spec.Service, Environment: r.spec.Environment}
	if err := workflow.ExecuteActivity(act(ctx, "Pin the team directory (people, roles, keys, policy)", 0), teamDir.Resolve, in).Get(ctx, &snap); err != nil {
		return r.refuseStart(ctx, errText(err))
	}
	r.dir = &snap
	r.st.Directory = pinnedRecord(snap)
	r.audit(ctx, audit.KindDirectory, "golive", "directory pinned", snap.Digest, map[string]string{
		"file": snap.File, "digest": snap.Digest, "environment": snap.Environment, "signers": strings.Join(snap.Signers, ","),
	})
	if problems := snap.CheckSpec(r.spec); len(problems) > 0 {
		return r.refuseStart(ctx, fmt.Sprintf("the release spec %s names what the team directory does not hold: %s",
			r.in.SpecFile, strings.Join(problems, "; ")))
	}
	if len(r.spec.Team) == 0 {
		r.spec.Team = teamOf(snap)
	}
	if err := r.dirRole(r.in.Requester, snap.Policy.Start, "start a release"); err != nil {
		return r.refuseStart(ctx, err.Error())
	}
	// The start was signed when it was sent: judge its age from the workflow's start.
	late := workflow.Now(ctx).Sub(workflow.GetInfo(ctx).WorkflowStartTime)
	st := r.in.StartStatement()
	fp, err := r.prove(ctx, StartName, r.in.Requester, r.in.StartSignature, r.in.StartSignedAt, inputMaxAge+max(late, 0),
		func(keys string) (approval.Verified, error) {
			return approval.VerifyInput(st, r.in.StartSignature, keys)
		})
	if err != nil {
		return r.refuseStart(ctx, err.Error())
	}
	r.st.RequesterFingerprint = fp
	r.proven(ctx, StartName, r.in.Requester, fp, "version "+r.in.Version)
	r.audit(ctx, audit.KindInput, r.in.Requester, "start accepted", "version "+r.in.Version, map[string]string{"fingerprint": fp})
	return nil
}

// refuseStart ends a release whose start golive does not accept: the refusal
// is recorded like any refused input, and nothing was changed.
func (r *release) refuseStart(ctx workflow.Context, reason string) error {
	_, _ = r.refuse(ctx, record.ChannelStart, StartName, r.in.Requester, "", reason, nil)
	return end(record.OutcomeFailed, "start refused: "+render.Truncate(reason, maxReason))
}

// requesterNote names the requester as proven: with the key that signed the
// start, or marked unsigned.
func (r *release) requesterNote() string {
	switch {
	case r.v < versionIdentity:
		return r.in.Requester
	case r.st.RequesterFingerprint != "":
		return r.in.Requester + " (signed " + r.st.RequesterFingerprint + ")"
	}
	return r.in.Requester + " (unsigned)"
}

// pinnedRecord is the directory as the status and the evidence show it.
func pinnedRecord(s directory.Snapshot) *record.Directory {
	d := &record.Directory{File: s.File, Digest: s.Digest, Environment: s.Environment, Signers: s.Signers, RequireSigned: s.RequireSigned()}
	for _, p := range s.People {
		var fps []string
		for _, k := range p.Keys {
			fps = append(fps, k.Fingerprint)
		}
		d.People = append(d.People, fmt.Sprintf("%s: %s; %s", p.ID, strings.Join(p.Roles, ", "), orNone(strings.Join(fps, ", "))))
	}
	return d
}

func orNone(s string) string {
	if s == "" {
		return "no key"
	}
	return s
}

// teamOf is the spec team a release without one of its own gets: every role
// the directory grants, with its people.
func teamOf(s directory.Snapshot) map[string][]spec.Person {
	team := map[string][]spec.Person{}
	for _, p := range s.People {
		for _, role := range p.Roles {
			team[role] = append(team[role], spec.Person{ID: p.ID, Name: p.Name, Email: p.Email, Phone: p.Phone})
		}
	}
	return team
}
