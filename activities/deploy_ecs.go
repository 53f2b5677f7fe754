package activities

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/golive/golive/internal/spec"
)

// Tags golive puts on the task definition revisions it registers, so the
// revision that ran before is found again exactly, without a rebuild.
const (
	tagRelease         = "golive:release"
	tagVersion         = "golive:version"
	tagPrevious        = "golive:previous-task-definition"
	tagPreviousVersion = "golive:previous-version"
)

// ecsRevertSearch bounds how many older revisions a revert inspects when the
// live revision carries no golive:previous-task-definition tag.
const ecsRevertSearch = 25

// imageTagPattern is what an image tag (the version) may look like.
var imageTagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ecsState is what an ECS service runs now.
type ecsState struct {
	service   types.Service
	td        *types.TaskDefinition
	tags      map[string]string
	container int    // index of the target container in td.ContainerDefinitions
	image     string // its image
}

func (s ecsState) arn() string { return aws.ToString(s.td.TaskDefinitionArn) }

// ecsImage is the image reference of version: the template with {version}
// replaced, or the repository tagged with the version.
func ecsImage(tmpl, version string) string {
	if strings.Contains(tmpl, "{version}") {
		return strings.ReplaceAll(tmpl, "{version}", version)
	}
	return tmpl + ":" + version
}

// ecsVersion reads the version back out of an image reference, or reports false.
func ecsVersion(tmpl, image string) (string, bool) {
	prefix, suffix := tmpl+":", ""
	if i := strings.Index(tmpl, "{version}"); i >= 0 {
		prefix, suffix = tmpl[:i], tmpl[i+len("{version}"):]
	}
	if len(image) > len(prefix)+len(suffix) && strings.HasPrefix(image, prefix) && strings.HasSuffix(image, suffix) {
		return image[len(prefix) : len(image)-len(suffix)], true
	}
	return "", false
}

// shortTD turns a task definition ARN into family:revision for messages.
func shortTD(arn string) string {
	if i := strings.LastIndex(arn, "task-definition/"); i >= 0 {
		return arn[i+len("task-definition/"):]
	}
	return arn
}

func ecsTarget(in DeployInput) (*spec.ECSTarget, error) {
	t := in.Deploy.ECS
	if t == nil || t.Cluster == "" || t.Service == "" || t.Image == "" {
		return nil, badInput("deploy target ecs needs deploy.ecs.cluster, .service and .image")
	}
	return t, nil
}

func ecsResource(t *spec.ECSTarget) string {
	if strings.HasPrefix(t.Service, "arn:") {
		return t.Service
	}
	return "service " + t.Cluster + "/" + t.Service
}

func (d *Deployer) ecsClient(ctx context.Context) (*ecs.Client, error) {
	cfg, err := d.awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	return ecs.NewFromConfig(cfg), nil
}

// ecsState describes the service and the task definition it runs.
func (d *Deployer) ecsState(ctx context.Context, c *ecs.Client, t *spec.ECSTarget) (ecsState, error) {
	res := ecsResource(t)
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(t.Cluster), Services: []string{t.Service}})
	if err != nil {
		return ecsState{}, awsErr(err, res)
	}
	if len(out.Services) == 0 {
		reason := "not found"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return ecsState{}, badInput(fmt.Sprintf("ECS %s: %s", res, reason))
	}
	svc := out.Services[0]
	if st := aws.ToString(svc.Status); st != "ACTIVE" {
		return ecsState{}, badInput(fmt.Sprintf("ECS %s is %s", res, st))
	}
	st := ecsState{service: svc}
	st.td, st.tags, err = ecsDescribeTD(ctx, c, aws.ToString(svc.TaskDefinition))
	if err != nil {
		return ecsState{}, err
	}
	st.container, err = ecsContainer(st.td, t)
	if err != nil {
		return ecsState{}, err
	}
	st.image = aws.ToString(st.td.ContainerDefinitions[st.container].Image)
	return st, nil
}

func ecsDescribeTD(ctx context.Context, c *ecs.Client, ref string) (*types.TaskDefinition, map[string]string, error) {
	out, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		return nil, nil, awsErr(err, "task definition "+shortTD(ref))
	}
	if out.TaskDefinition == nil {
		return nil, nil, deployFailed("task definition %s: empty answer", shortTD(ref))
	}
	tags := map[string]string{}
	for _, tg := range out.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return out.TaskDefinition, tags, nil
}

// ecsContainer picks the container whose image changes: the named one, the
// only one, or the one named like the service.
func ecsContainer(td *types.TaskDefinition, t *spec.ECSTarget) (int, error) {
	var names []string
	for i, c := range td.ContainerDefinitions {
		n := aws.ToString(c.Name)
		names = append(names, n)
		if t.Container != "" && n == t.Container {
			return i, nil
		}
	}
	if t.Container == "" {
		if len(names) == 1 {
			return 0, nil
		}
		for i, n := range names {
			if n == t.Service {
				return i, nil
			}
		}
	}
	return 0, badInput(fmt.Sprintf("task definition %s has containers [%s]: set deploy.ecs.container to one of them",
		shortTD(aws.ToString(td.TaskDefinitionArn)), strings.Join(names, ", ")))
}

// versionOf names what a task definition runs: the version read from its
// image, or its ARN when the image does not follow deploy.ecs.image.
func (s ecsState) versionOf(t *spec.ECSTarget) string {
	if v, ok := ecsVersion(t.Image, s.image); ok {
		return v
	}
	return s.arn()
}

// ecsCurrent returns the version the service runs (the image tag), or the
// task definition ARN when its image does not follow deploy.ecs.image.
func (d *Deployer) ecsCurrent(ctx context.Context, in DeployInput) (string, error) {
	t, err := ecsTarget(in)
	if err != nil {
		return "", err
	}
	c, err := d.ecsClient(ctx)
	if err != nil {
		return "", err
	}
	st, err := d.ecsState(ctx, c, t)
	if err != nil {
		return "", err
	}
	return st.versionOf(t), nil
}

// ecsDeploy registers a revision of the live task definition that runs the
// release image (tagged with the release, the version and the revision it
// replaces), points the service at it and waits for a steady service. A
// retried activity reuses the revision an earlier attempt registered, and a
// service already running the image is only waited for.
func (d *Deployer) ecsDeploy(ctx context.Context, in DeployInput) (DeployResult, error) {
	t, err := ecsTarget(in)
	if err != nil {
		return DeployResult{}, err
	}
	if !imageTagPattern.MatchString(in.Version) {
		return DeployResult{}, badInput(fmt.Sprintf("version %q cannot be an image tag", in.Version))
	}
	c, err := d.ecsClient(ctx)
	if err != nil {
		return DeployResult{}, err
	}
	st, err := d.ecsState(ctx, c, t)
	if err != nil {
		return DeployResult{}, err
	}
	want := ecsImage(t.Image, in.Version)
	key := releaseKey(ctx, in.ReleaseID)
	previous, from, target := st.versionOf(t), st.arn(), st.arn()
	if st.image == want {
		// A retried attempt, or the release is live already: record what the
		// revision replaced when this release registered it, else the plan's record.
		switch {
		case st.tags[tagRelease] == key && st.tags[tagPreviousVersion] != "":
			previous, from = st.tags[tagPreviousVersion], st.tags[tagPrevious]
		case in.Previous != "":
			previous = in.Previous
		}
	} else {
		if target, err = d.ecsRegister(ctx, c, st, key, in.Version, want, previous); err != nil {
			return DeployResult{}, err
		}
		if err := d.ecsUpdate(ctx, c, t, target); err != nil {
			return DeployResult{}, err
		}
	}
	steady, err := d.ecsWait(ctx, c, t, target, in)
	if err != nil {
		return DeployResult{}, err
	}
	d.logger().Info("ecs deploy", "release", in.ReleaseID, "service", ecsResource(t), "from", shortTD(from), "to", shortTD(target))
	return DeployResult{Previous: previous, Live: in.Version,
		Output: fmt.Sprintf("ECS %s: task definition %s → %s (%s), %s", ecsResource(t), shortTD(from), shortTD(target), want, steady)}, nil
}

// ecsRegister returns the revision that runs image want for this release:
// the family's latest when an earlier attempt registered it, else a new one
// copied from the live revision.
func (d *Deployer) ecsRegister(ctx context.Context, c *ecs.Client, st ecsState, key, version, want, previous string) (string, error) {
	family := aws.ToString(st.td.Family)
	list, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family),
		Sort: types.SortOrderDesc, MaxResults: aws.Int32(1), Status: types.TaskDefinitionStatusActive})
	if err != nil {
		return "", awsErr(err, "task definition family "+family)
	}
	if len(list.TaskDefinitionArns) == 1 && list.TaskDefinitionArns[0] != st.arn() {
		td, tags, err := ecsDescribeTD(ctx, c, list.TaskDefinitionArns[0])
		if err != nil {
			return "", err
		}
		if tags[tagRelease] == key && tags[tagVersion] == version && st.container < len(td.ContainerDefinitions) &&
			aws.ToString(td.ContainerDefinitions[st.container].Image) == want {
			return aws.ToString(td.TaskDefinitionArn), nil
		}
	}
	src := st.td
	containers := make([]types.ContainerDefinition, len(src.ContainerDefinitions))
	copy(containers, src.ContainerDefinitions)
	containers[st.container].Image = aws.String(want)
	tags := []types.Tag{}
	for k, v := range st.tags {
		if !strings.HasPrefix(k, "golive:") && !strings.HasPrefix(k, "aws:") {
			tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	tags = append(tags,
		types.Tag{Key: aws.String(tagRelease), Value: aws.String(tagValue(key))},
		types.Tag{Key: aws.String(tagVersion), Value: aws.String(tagValue(version))},
		types.Tag{Key: aws.String(tagPrevious), Value: aws.String(st.arn())},
		types.Tag{Key: aws.String(tagPreviousVersion), Value: aws.String(tagValue(previous))})
	out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: src.Family, ContainerDefinitions: containers, Cpu: src.Cpu, Memory: src.Memory,
		EnableFaultInjection: src.EnableFaultInjection, EphemeralStorage: src.EphemeralStorage,
		ExecutionRoleArn: src.ExecutionRoleArn, TaskRoleArn: src.TaskRoleArn, InferenceAccelerators: src.InferenceAccelerators,
		IpcMode: src.IpcMode, PidMode: src.PidMode, NetworkMode: src.NetworkMode, PlacementConstraints: src.PlacementConstraints,
		ProxyConfiguration: src.ProxyConfiguration, RequiresCompatibilities: src.RequiresCompatibilities,
		RuntimePlatform: src.RuntimePlatform, Volumes: src.Volumes, Tags: tags,
	})
	if err != nil {
		return "", awsErr(err, "task definition family "+family)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// tagValue keeps a tag value within ECS's 256 characters.
func tagValue(s string) string {
	if len(s) > 256 {
		return s[:256]
	}
	return s
}

func (d *Deployer) ecsUpdate(ctx context.Context, c *ecs.Client, t *spec.ECSTarget, td string) error {
	_, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(t.Cluster), Service: aws.String(t.Service), TaskDefinition: aws.String(td)})
	if err != nil {
		return awsErr(err, ecsResource(t))
	}
	return nil
}

// ecsWait waits (with the SDK's ServicesStable waiter, bounded by the wait
// budget) until the service has one deployment with every task running, then
// checks that deployment runs td: the deployment circuit breaker may have
// rolled the service back. A rollout that ECS marks FAILED ends the wait at once.
func (d *Deployer) ecsWait(ctx context.Context, c *ecs.Client, t *spec.ECSTarget, td string, in DeployInput) (string, error) {
	budget := waitBudget(ctx, in.Deploy)
	var lastSeen string
	w := ecs.NewServicesStableWaiter(c, func(o *ecs.ServicesStableWaiterOptions) {
		d.waits().Apply(&o.MinDelay, &o.MaxDelay)
		stable := o.Retryable
		o.Retryable = func(ctx context.Context, in *ecs.DescribeServicesInput, out *ecs.DescribeServicesOutput, err error) (bool, error) {
			if err == nil && out != nil && len(out.Services) == 1 {
				s := out.Services[0]
				lastSeen = ecsProgress(s)
				for _, dep := range s.Deployments {
					if aws.ToString(dep.Status) == "PRIMARY" && dep.RolloutState == types.DeploymentRolloutStateFailed {
						return false, fmt.Errorf("rollout of %s failed: %s", shortTD(aws.ToString(dep.TaskDefinition)), aws.ToString(dep.RolloutStateReason))
					}
				}
			}
			return stable(ctx, in, out, err)
		}
	})
	stop := keepAlive(ctx, "waiting for a steady ECS service")
	out, err := w.WaitForOutput(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(t.Cluster), Services: []string{t.Service}}, budget)
	stop()
	if err != nil {
		return "", waitErr(ctx, err, "ECS "+ecsResource(t), "steady on "+shortTD(td), budget, lastSeen)
	}
	s := out.Services[0]
	if got := aws.ToString(s.TaskDefinition); got != td {
		return "", deployFailed("ECS %s settled on %s, not %s: the deployment was rolled back (deployment circuit breaker?)", ecsResource(t), shortTD(got), shortTD(td))
	}
	return fmt.Sprintf("steady with %d/%d tasks", s.RunningCount, s.DesiredCount), nil
}

// ecsProgress summarizes a service's rollout for a timeout message.
func ecsProgress(s types.Service) string {
	var parts []string
	for _, dep := range s.Deployments {
		parts = append(parts, fmt.Sprintf("%s %s %d/%d running (%s)", aws.ToString(dep.Status), shortTD(aws.ToString(dep.TaskDefinition)),
			dep.RunningCount, dep.DesiredCount, dep.RolloutState))
	}
	return strings.Join(parts, "; ")
}

// ecsRevert points the service back at the revision that ran in.Previous and
// waits for a steady service. That revision is, in order: in.Previous itself
// when it is a task definition ARN; the live one when it already runs the
// previous image; the one the live revision's golive:previous-task-definition
// tag names; or the newest of the family's last 25 revisions running the
// previous image. Nothing is rebuilt or re-registered.
func (d *Deployer) ecsRevert(ctx context.Context, in DeployInput) (DeployResult, error) {
	t, err := ecsTarget(in)
	if err != nil {
		return DeployResult{}, err
	}
	c, err := d.ecsClient(ctx)
	if err != nil {
		return DeployResult{}, err
	}
	st, err := d.ecsState(ctx, c, t)
	if err != nil {
		return DeployResult{}, err
	}
	target, err := d.ecsRevertTarget(ctx, c, t, st, in.Previous)
	if err != nil {
		return DeployResult{}, err
	}
	if target != st.arn() {
		if err := d.ecsUpdate(ctx, c, t, target); err != nil {
			return DeployResult{}, err
		}
	}
	steady, err := d.ecsWait(ctx, c, t, target, in)
	if err != nil {
		return DeployResult{}, err
	}
	d.logger().Info("ecs revert", "release", in.ReleaseID, "service", ecsResource(t), "from", shortTD(st.arn()), "to", shortTD(target))
	return DeployResult{Previous: st.versionOf(t), Live: in.Previous,
		Output: fmt.Sprintf("ECS %s: task definition %s → %s, %s", ecsResource(t), shortTD(st.arn()), shortTD(target), steady)}, nil
}

func (d *Deployer) ecsRevertTarget(ctx context.Context, c *ecs.Client, t *spec.ECSTarget, st ecsState, previous string) (string, error) {
	if strings.HasPrefix(previous, "arn:") && strings.Contains(previous, ":task-definition/") {
		return previous, nil
	}
	want := ecsImage(t.Image, previous)
	if st.image == want {
		return st.arn(), nil
	}
	if p := st.tags[tagPrevious]; p != "" && st.tags[tagPreviousVersion] == previous {
		return p, nil
	}
	family := aws.ToString(st.td.Family)
	list, err := c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family),
		Sort: types.SortOrderDesc, MaxResults: aws.Int32(ecsRevertSearch)})
	if err != nil {
		return "", awsErr(err, "task definition family "+family)
	}
	for _, arn := range list.TaskDefinitionArns {
		if arn == st.arn() {
			continue
		}
		td, _, err := ecsDescribeTD(ctx, c, arn)
		if err != nil {
			return "", err
		}
		if i, err := ecsContainer(td, t); err == nil && aws.ToString(td.ContainerDefinitions[i].Image) == want {
			return arn, nil
		}
		heartbeat(ctx, "searching the revision of "+previous)
	}
	return "", deployFailed("ECS %s: none of the last %d revisions of %s runs %s; revert by hand", ecsResource(t), ecsRevertSearch, family, want)
}
