package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ECS fakes Amazon ECS (awsJson1.1, target prefix AmazonEC2ContainerServiceV20141113):
// DescribeServices, UpdateService, DescribeTaskDefinition, RegisterTaskDefinition,
// ListTaskDefinitions. A service rolls out a new deployment one task per
// DescribeServices call; tasks of a broken image never start, so such a
// deployment never reaches a steady state.
type ECS struct {
	mu       sync.Mutex
	defs     map[string]*taskDef // by ARN
	latest   map[string]int      // family -> highest revision
	services map[string]*ecsService
	broken   map[string]bool
	seq      int
}

type taskDef struct {
	arn    string
	family string
	rev    int
	body   map[string]any // the registered fields, as sent
	tags   map[string]string
	at     time.Time
}

type ecsService struct {
	cluster, name string
	desired       int
	taskDef       string
	deployments   []*ecsDeployment
}

type ecsDeployment struct {
	id, status, taskDef, rollout string
	running                      int
	created                      time.Time
}

func newECS() *ECS {
	return &ECS{defs: map[string]*taskDef{}, latest: map[string]int{}, services: map[string]*ecsService{}, broken: map[string]bool{}}
}

func clusterArn(c string) string {
	if strings.HasPrefix(c, "arn:") {
		return c
	}
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", Region, Account, c)
}

func clusterName(c string) string {
	if c == "" {
		return "default"
	}
	if i := strings.LastIndexByte(c, '/'); strings.HasPrefix(c, "arn:") && i >= 0 {
		return c[i+1:]
	}
	return c
}

func serviceName(s string) string {
	if i := strings.LastIndexByte(s, '/'); strings.HasPrefix(s, "arn:") && i >= 0 {
		return s[i+1:]
	}
	return s
}

// AddService registers a task definition revision of family whose containers
// run the given images (container name -> image) and creates a steady service
// running it. It returns the task definition ARN.
func (e *ECS) AddService(cluster, name, family string, images map[string]string, desired int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(images))
	for n := range images {
		names = append(names, n)
	}
	sort.Strings(names)
	var containers []any
	for _, n := range names {
		containers = append(containers, map[string]any{"name": n, "image": images[n], "essential": true, "memory": 512.0})
	}
	td := e.register(map[string]any{"family": family, "containerDefinitions": containers, "networkMode": "awsvpc",
		"requiresCompatibilities": []any{"FARGATE"}, "cpu": "256", "memory": "512"}, map[string]string{"team": "portal"})
	e.seq++
	e.services[clusterName(cluster)+"/"+name] = &ecsService{cluster: clusterName(cluster), name: name, desired: desired, taskDef: td.arn,
		deployments: []*ecsDeployment{{id: fmt.Sprintf("ecs-svc/%d", e.seq), status: "PRIMARY", taskDef: td.arn, rollout: "COMPLETED", running: desired, created: time.Now()}}}
	return td.arn
}

// BreakImage makes tasks running image fail to start, so a deployment of it never becomes steady.
func (e *ECS) BreakImage(image string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.broken[image] = true
}

// ServiceTaskDefinition is the task definition ARN the service runs (its primary deployment's).
func (e *ECS) ServiceTaskDefinition(cluster, name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s := e.services[clusterName(cluster)+"/"+name]; s != nil {
		return s.taskDef
	}
	return ""
}

// Steady reports whether the service has one deployment with every task running.
func (e *ECS) Steady(cluster, name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.services[clusterName(cluster)+"/"+name]
	return s != nil && len(s.deployments) == 1 && s.deployments[0].running == s.desired
}

// Image is the image of container in the task definition arn.
func (e *ECS) Image(arn, container string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if td := e.defs[arn]; td != nil {
		for n, img := range td.images() {
			if n == container {
				return img
			}
		}
	}
	return ""
}

// Tags are the tags of the task definition arn.
func (e *ECS) Tags(arn string) map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]string{}
	if td := e.defs[arn]; td != nil {
		for k, v := range td.tags {
			out[k] = v
		}
	}
	return out
}

// Revisions is how many revisions of family are registered.
func (e *ECS) Revisions(family string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, td := range e.defs {
		if td.family == family {
			n++
		}
	}
	return n
}

func (td *taskDef) images() map[string]string {
	out := map[string]string{}
	cs, _ := td.body["containerDefinitions"].([]any)
	for _, c := range cs {
		m, _ := c.(map[string]any)
		n, _ := m["name"].(string)
		img, _ := m["image"].(string)
		out[n] = img
	}
	return out
}

func (td *taskDef) json() map[string]any {
	out := map[string]any{}
	for k, v := range td.body {
		out[k] = v
	}
	out["taskDefinitionArn"] = td.arn
	out["family"] = td.family
	out["revision"] = td.rev
	out["status"] = "ACTIVE"
	out["registeredAt"] = float64(td.at.UnixMilli()) / 1000
	out["compatibilities"] = []any{"EC2", "FARGATE"}
	return out
}

func tagList(tags map[string]string) []any {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []any{}
	for _, k := range keys {
		out = append(out, map[string]any{"key": k, "value": tags[k]})
	}
	return out
}

// register stores a new revision; e.mu is held.
func (e *ECS) register(body map[string]any, tags map[string]string) *taskDef {
	family, _ := body["family"].(string)
	e.latest[family]++
	rev := e.latest[family]
	td := &taskDef{arn: fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", Region, Account, family, rev),
		family: family, rev: rev, body: body, tags: tags, at: time.Now()}
	e.defs[td.arn] = td
	return td
}

// lookup finds a task definition by ARN, family:revision or family (latest); e.mu is held.
func (e *ECS) lookup(ref string) *taskDef {
	if td := e.defs[ref]; td != nil {
		return td
	}
	if i := strings.LastIndexByte(ref, '/'); strings.HasPrefix(ref, "arn:") && i >= 0 {
		ref = ref[i+1:]
	}
	family, rev, ok := strings.Cut(ref, ":")
	if !ok {
		rev = strconv.Itoa(e.latest[family])
	}
	return e.defs[fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%s", Region, Account, family, rev)]
}

func (e *ECS) operation(r *http.Request, _ []byte) string { return jsonOperation(r) }

func (e *ECS) writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSONError(w, status, code, msg)
}

func (e *ECS) serve(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSONError(w, 400, "SerializationException", err.Error())
		return
	}
	str := func(k string) string { s, _ := in[k].(string); return s }
	e.mu.Lock()
	defer e.mu.Unlock()
	switch op {
	case "DescribeServices":
		cluster := clusterName(str("cluster"))
		out := map[string]any{"services": []any{}, "failures": []any{}}
		names, _ := in["services"].([]any)
		for _, n := range names {
			name := serviceName(fmt.Sprint(n))
			s := e.services[cluster+"/"+name]
			if s == nil {
				out["failures"] = append(out["failures"].([]any), map[string]any{
					"arn": fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", Region, Account, cluster, name), "reason": "MISSING"})
				continue
			}
			e.advance(s)
			out["services"] = append(out["services"].([]any), s.json())
		}
		writeJSON(w, out)
	case "UpdateService":
		cluster, name := clusterName(str("cluster")), serviceName(str("service"))
		s := e.services[cluster+"/"+name]
		if s == nil {
			writeJSONError(w, 400, "ServiceNotFoundException", "Service not found.")
			return
		}
		if ref := str("taskDefinition"); ref != "" {
			td := e.lookup(ref)
			if td == nil {
				writeJSONError(w, 400, "ClientException", "Unable to describe task definition.")
				return
			}
			force, _ := in["forceNewDeployment"].(bool)
			if td.arn != s.taskDef || force {
				for _, d := range s.deployments {
					d.status, d.rollout = "ACTIVE", "COMPLETED"
				}
				e.seq++
				s.deployments = append([]*ecsDeployment{{id: fmt.Sprintf("ecs-svc/%d", e.seq), status: "PRIMARY", taskDef: td.arn,
					rollout: "IN_PROGRESS", created: time.Now()}}, s.deployments...)
				s.taskDef = td.arn
			}
		}
		writeJSON(w, map[string]any{"service": s.json()})
	case "DescribeTaskDefinition":
		td := e.lookup(str("taskDefinition"))
		if td == nil {
			writeJSONError(w, 400, "ClientException", "Unable to describe task definition.")
			return
		}
		out := map[string]any{"taskDefinition": td.json()}
		if inc, _ := in["include"].([]any); len(inc) > 0 && fmt.Sprint(inc[0]) == "TAGS" {
			out["tags"] = tagList(td.tags)
		}
		writeJSON(w, out)
	case "RegisterTaskDefinition":
		tags := map[string]string{}
		if tl, _ := in["tags"].([]any); tl != nil {
			for _, t := range tl {
				m, _ := t.(map[string]any)
				tags[fmt.Sprint(m["key"])] = fmt.Sprint(m["value"])
			}
		}
		delete(in, "tags")
		if str("family") == "" {
			writeJSONError(w, 400, "ClientException", "Family is required.")
			return
		}
		td := e.register(in, tags)
		writeJSON(w, map[string]any{"taskDefinition": td.json(), "tags": tagList(tags)})
	case "ListTaskDefinitions":
		prefix := str("familyPrefix")
		var tds []*taskDef
		for _, td := range e.defs {
			if prefix == "" || td.family == prefix {
				tds = append(tds, td)
			}
		}
		desc := str("sort") == "DESC"
		sort.Slice(tds, func(i, j int) bool {
			if tds[i].family != tds[j].family {
				return tds[i].family < tds[j].family
			}
			if desc {
				return tds[i].rev > tds[j].rev
			}
			return tds[i].rev < tds[j].rev
		})
		if mr, ok := in["maxResults"].(float64); ok && int(mr) < len(tds) {
			tds = tds[:int(mr)]
		}
		arns := []any{}
		for _, td := range tds {
			arns = append(arns, td.arn)
		}
		writeJSON(w, map[string]any{"taskDefinitionArns": arns})
	default:
		writeJSONError(w, 400, "UnknownOperationException", "awsfake ECS does not implement "+op)
	}
}

// advance moves a rollout on by one task; e.mu is held.
func (e *ECS) advance(s *ecsService) {
	if len(s.deployments) == 0 {
		return
	}
	p := s.deployments[0]
	td := e.defs[p.taskDef]
	healthy := td != nil
	if td != nil {
		for _, img := range td.images() {
			if e.broken[img] {
				healthy = false
			}
		}
	}
	if healthy && p.running < s.desired {
		p.running++
		// drain one task of an older deployment
		for i := len(s.deployments) - 1; i > 0; i-- {
			if s.deployments[i].running > 0 {
				s.deployments[i].running--
				break
			}
		}
	}
	if p.running == s.desired {
		p.rollout = "COMPLETED"
		s.deployments = s.deployments[:1]
	}
}

func (s *ecsService) json() map[string]any {
	running, pending := 0, 0
	var deps []any
	for _, d := range s.deployments {
		running += d.running
		p := 0
		if d.status == "PRIMARY" {
			p = s.desired - d.running
			pending += p
		}
		deps = append(deps, map[string]any{"id": d.id, "status": d.status, "taskDefinition": d.taskDef,
			"desiredCount": s.desired, "runningCount": d.running, "pendingCount": p, "failedTasks": 0,
			"rolloutState": d.rollout, "createdAt": float64(d.created.UnixMilli()) / 1000, "launchType": "FARGATE"})
	}
	return map[string]any{
		"serviceArn":  fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", Region, Account, s.cluster, s.name),
		"serviceName": s.name, "clusterArn": clusterArn(s.cluster), "status": "ACTIVE",
		"desiredCount": s.desired, "runningCount": running, "pendingCount": pending,
		"taskDefinition": s.taskDef, "deployments": deps, "launchType": "FARGATE",
	}
}
