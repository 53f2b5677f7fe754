package awsfake

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

const rdsNS = "http://rds.amazonaws.com/doc/2014-10-31/"

// RDS fakes Amazon RDS (awsQuery, version 2014-10-31): DescribeDBInstances,
// DescribeDBSnapshots, CreateDBSnapshot and DescribeDBInstanceAutomatedBackups.
// A new manual snapshot is "creating" for SnapshotPolls DescribeDBSnapshots
// calls, then "available".
type RDS struct {
	mu        sync.Mutex
	instances map[string]*rdsInstance
	snapshots []*rdsSnapshot
	// SnapshotPolls is how many polls see a new snapshot "creating" (default 1).
	SnapshotPolls int
	// StuckSnapshots keeps new snapshots "creating" forever.
	StuckSnapshots bool
	// Now is the fake's clock (default time.Now).
	Now func() time.Time
}

type rdsInstance struct {
	id              string
	retentionDays   int
	created         time.Time
	latestRestore   time.Time
	earliestRestore time.Time
}

type rdsSnapshot struct {
	id, instance, kind string
	created            time.Time
	pendingPoll        int
	stuck              bool
	tags               map[string]string
}

func newRDS() *RDS {
	return &RDS{instances: map[string]*rdsInstance{}, SnapshotPolls: 1, Now: time.Now}
}

// AddInstance creates an available instance with automated backups kept
// retentionDays days (0: automated backups off); its point-in-time restore
// window spans from earliest to 5 minutes ago.
func (r *RDS) AddInstance(id string, retentionDays int, earliest time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.Now()
	r.instances[id] = &rdsInstance{id: id, retentionDays: retentionDays, created: earliest.Add(-time.Hour),
		latestRestore: now.Add(-5 * time.Minute), earliestRestore: earliest}
}

// AddSnapshot stores an available snapshot of instance taken at created; kind is automated or manual.
func (r *RDS) AddSnapshot(id, instance, kind string, created time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snapshots = append(r.snapshots, &rdsSnapshot{id: id, instance: instance, kind: kind, created: created})
}

// Snapshots lists the identifiers of instance's snapshots of kind ("" for all), oldest first.
func (r *RDS) Snapshots(instance, kind string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.snapshots {
		if s.instance == instance && (kind == "" || s.kind == kind) {
			out = append(out, s.id)
		}
	}
	return out
}

// SnapshotTags are the tags of snapshot id.
func (r *RDS) SnapshotTags(id string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.snapshots {
		if s.id == id {
			return s.tags
		}
	}
	return nil
}

func (r *RDS) operation(_ *http.Request, body []byte) string {
	q, _ := url.ParseQuery(string(body))
	return q.Get("Action")
}

func (r *RDS) writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
		rdsNS, xmlEscape(code), xmlEscape(msg))
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (r *RDS) respond(w http.ResponseWriter, action, inner string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`,
		action, rdsNS, action, inner, action, action)
}

func (r *RDS) serve(w http.ResponseWriter, _ *http.Request, op string, body []byte) {
	q, _ := url.ParseQuery(string(body))
	if q.Get("Version") != "2014-10-31" {
		r.writeError(w, 400, "InvalidAction", "unknown version")
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id := q.Get("DBInstanceIdentifier")
	switch op {
	case "DescribeDBInstances":
		var b strings.Builder
		ids := make([]string, 0, len(r.instances))
		for k := range r.instances {
			if id == "" || k == id {
				ids = append(ids, k)
			}
		}
		if id != "" && len(ids) == 0 {
			r.writeError(w, 404, "DBInstanceNotFound", fmt.Sprintf("DBInstance %s not found.", id))
			return
		}
		sort.Strings(ids)
		for _, k := range ids {
			in := r.instances[k]
			fmt.Fprintf(&b, `<DBInstance><DBInstanceIdentifier>%s</DBInstanceIdentifier><DBInstanceArn>arn:aws:rds:%s:%s:db:%s</DBInstanceArn><Engine>postgres</Engine><DBInstanceStatus>available</DBInstanceStatus><BackupRetentionPeriod>%d</BackupRetentionPeriod><PreferredBackupWindow>03:00-03:30</PreferredBackupWindow><InstanceCreateTime>%s</InstanceCreateTime>`,
				in.id, Region, Account, in.id, in.retentionDays, ts(in.created))
			if in.retentionDays > 0 {
				fmt.Fprintf(&b, `<LatestRestorableTime>%s</LatestRestorableTime>`, ts(in.latestRestore))
			}
			b.WriteString(`</DBInstance>`)
		}
		r.respond(w, op, "<DBInstances>"+b.String()+"</DBInstances>")
	case "DescribeDBInstanceAutomatedBackups":
		var b strings.Builder
		if in := r.instances[id]; in != nil && in.retentionDays > 0 {
			fmt.Fprintf(&b, `<DBInstanceAutomatedBackup><DBInstanceIdentifier>%s</DBInstanceIdentifier><Status>active</Status><BackupRetentionPeriod>%d</BackupRetentionPeriod><RestoreWindow><EarliestTime>%s</EarliestTime><LatestTime>%s</LatestTime></RestoreWindow></DBInstanceAutomatedBackup>`,
				in.id, in.retentionDays, ts(in.earliestRestore), ts(in.latestRestore))
		}
		r.respond(w, op, "<DBInstanceAutomatedBackups>"+b.String()+"</DBInstanceAutomatedBackups>")
	case "DescribeDBSnapshots":
		snapID, kind := q.Get("DBSnapshotIdentifier"), q.Get("SnapshotType")
		var b strings.Builder
		found := 0
		for _, s := range r.snapshots {
			if (snapID != "" && s.id != snapID) || (id != "" && s.instance != id) || (kind != "" && s.kind != kind) {
				continue
			}
			found++
			status := "available"
			if s.stuck || s.pendingPoll > 0 {
				status = "creating"
				if s.pendingPoll > 0 {
					s.pendingPoll--
				}
			}
			fmt.Fprintf(&b, `<DBSnapshot><DBSnapshotIdentifier>%s</DBSnapshotIdentifier><DBInstanceIdentifier>%s</DBInstanceIdentifier><SnapshotType>%s</SnapshotType><Status>%s</Status><Engine>postgres</Engine><SnapshotCreateTime>%s</SnapshotCreateTime><PercentProgress>%d</PercentProgress><DBSnapshotArn>arn:aws:rds:%s:%s:snapshot:%s</DBSnapshotArn></DBSnapshot>`,
				s.id, s.instance, s.kind, status, ts(s.created), map[bool]int{true: 100, false: 40}[status == "available"], Region, Account, s.id)
		}
		if snapID != "" && found == 0 {
			r.writeError(w, 404, "DBSnapshotNotFound", fmt.Sprintf("DBSnapshot %s not found.", snapID))
			return
		}
		r.respond(w, op, "<DBSnapshots>"+b.String()+"</DBSnapshots>")
	case "CreateDBSnapshot":
		snapID := q.Get("DBSnapshotIdentifier")
		if r.instances[id] == nil {
			r.writeError(w, 404, "DBInstanceNotFound", fmt.Sprintf("DBInstance %s not found.", id))
			return
		}
		for _, s := range r.snapshots {
			if s.id == snapID {
				r.writeError(w, 400, "DBSnapshotAlreadyExists", fmt.Sprintf("Cannot create the snapshot because a snapshot with the identifier %s already exists.", snapID))
				return
			}
		}
		tags := map[string]string{}
		for i := 1; q.Has(fmt.Sprintf("Tags.Tag.%d.Key", i)) || q.Has(fmt.Sprintf("Tags.member.%d.Key", i)); i++ {
			for _, f := range []string{"Tags.Tag.%d.", "Tags.member.%d."} {
				p := fmt.Sprintf(f, i)
				if q.Has(p + "Key") {
					tags[q.Get(p+"Key")] = q.Get(p + "Value")
				}
			}
		}
		s := &rdsSnapshot{id: snapID, instance: id, kind: "manual", created: r.Now(), pendingPoll: r.SnapshotPolls, stuck: r.StuckSnapshots, tags: tags}
		r.snapshots = append(r.snapshots, s)
		r.respond(w, op, fmt.Sprintf(`<DBSnapshot><DBSnapshotIdentifier>%s</DBSnapshotIdentifier><DBInstanceIdentifier>%s</DBInstanceIdentifier><SnapshotType>manual</SnapshotType><Status>creating</Status><SnapshotCreateTime>%s</SnapshotCreateTime></DBSnapshot>`,
			snapID, id, ts(s.created)))
	default:
		r.writeError(w, 400, "InvalidAction", "awsfake RDS does not implement "+op)
	}
}
