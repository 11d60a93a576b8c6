package sim

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kdp-project/kdp/internal/cloud"
)

// MaxGroupSize bounds a group's maxSize, as EKS bounds a node group's.
const MaxGroupSize = 1000

// Provider is one cluster's view of the simulated cloud: what it creates is
// that cluster's, and what it lists and changes is only that cluster's.
// Besides cloud.Provider it has the simulator's own faults (faults.go).
type Provider struct {
	c       *Cloud
	cluster string
}

var _ cloud.Provider = (*Provider)(nil)

// Provider returns the view of the cloud of the cluster of that name.
func (c *Cloud) Provider(cluster string) *Provider { return &Provider{c: c, cluster: cluster} }

// Cluster is the name of the provider's cluster.
func (p *Provider) Cluster() string { return p.cluster }

// Cloud is the cloud behind the provider.
func (p *Provider) Cloud() *Cloud { return p.c }

func (p *Provider) Account(context.Context) (cloud.Account, error) {
	return cloud.Account{ID: p.c.account, Region: p.c.opts.Region}, nil
}

func (p *Provider) InstanceTypes(context.Context) ([]cloud.InstanceType, error) {
	return p.c.catalog.InstanceTypes(), nil
}

func (p *Provider) Images(context.Context) ([]cloud.Image, error) { return p.c.catalog.Images(), nil }

func (p *Provider) Subnets(context.Context) ([]cloud.Subnet, error) {
	return p.c.catalog.Subnets(), nil
}

// read runs fn with the state held for reading, unless the cloud failed to
// write it (what is in memory is then not what it will come back with).
func (p *Provider) read(fn func(st *state) error) error {
	p.c.mu.RLock()
	defer p.c.mu.RUnlock()
	if p.c.failed.Load() {
		return ErrStopped
	}
	return fn(&p.c.st)
}

// made runs a request that makes or changes one thing, and returns it.
func made[T any](c *Cloud, fn func(tx *txn) (T, error)) (*T, error) {
	var out T
	err := c.do(func(tx *txn) error {
		v, err := fn(tx)
		out = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// found reads one thing.
func found[T any](p *Provider, fn func() (T, error)) (*T, error) {
	var out T
	err := p.read(func(*state) error {
		v, err := fn()
		out = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// onGroup runs a request on one of the cluster's groups.
func (p *Provider) onGroup(name string, fn func(tx *txn, g *group) error) error {
	return p.c.do(func(tx *txn) error {
		g, err := p.group(name)
		if err != nil {
			return err
		}
		return fn(tx, g)
	})
}

func (p *Provider) CreateLaunchTemplate(_ context.Context, in cloud.LaunchTemplateInput) (*cloud.LaunchTemplate, error) {
	return made(p.c, func(tx *txn) (cloud.LaunchTemplate, error) {
		t, err := p.c.createLaunchTemplate(tx, p.cluster, in)
		if err != nil {
			return cloud.LaunchTemplate{}, err
		}
		return t.toCloud(), nil
	})
}

func (p *Provider) GetLaunchTemplate(_ context.Context, ref cloud.TemplateRef) (*cloud.LaunchTemplate, error) {
	return found(p, func() (cloud.LaunchTemplate, error) {
		t, err := p.c.findTemplate(p.cluster, ref)
		if err != nil {
			return cloud.LaunchTemplate{}, err
		}
		return t.toCloud(), nil
	})
}

func (p *Provider) ListLaunchTemplates(_ context.Context, page cloud.Page) ([]cloud.LaunchTemplate, string, error) {
	var all []cloud.LaunchTemplate
	_ = p.read(func(st *state) error {
		for _, t := range st.templates {
			if t.Cluster == p.cluster {
				all = append(all, t.toCloud())
			}
		}
		return nil
	})
	slices.SortFunc(all, func(a, b cloud.LaunchTemplate) int { return strings.Compare(a.Name, b.Name) })
	return paginate(all, func(t cloud.LaunchTemplate) string { return t.Name }, page)
}

func (p *Provider) CreateLaunchTemplateVersion(_ context.Context, ref cloud.TemplateRef, in cloud.LaunchTemplateVersionInput) (*cloud.LaunchTemplateVersion, error) {
	return made(p.c, func(tx *txn) (cloud.LaunchTemplateVersion, error) {
		return p.c.createLaunchTemplateVersion(tx, p.cluster, ref, in)
	})
}

func (p *Provider) DeleteLaunchTemplate(_ context.Context, ref cloud.TemplateRef) error {
	return p.c.do(func(tx *txn) error { return p.c.deleteLaunchTemplate(tx, p.cluster, ref) })
}

func (p *Provider) CreateGroup(_ context.Context, in cloud.GroupInput) (*cloud.Group, error) {
	return made(p.c, func(tx *txn) (cloud.Group, error) {
		g, err := p.c.createGroup(tx, p.cluster, in)
		if err != nil {
			return cloud.Group{}, err
		}
		return p.c.groupOf(g), nil
	})
}

func (p *Provider) GetGroup(_ context.Context, name string) (*cloud.Group, error) {
	return found(p, func() (cloud.Group, error) {
		g, err := p.group(name)
		if err != nil {
			return cloud.Group{}, err
		}
		return p.c.groupOf(g), nil
	})
}

// group finds a group of the provider's cluster; the state must be held.
func (p *Provider) group(name string) (*group, error) {
	g := p.c.st.groups[name]
	if g == nil || g.Cluster != p.cluster {
		return nil, &cloud.NotFoundError{Kind: "auto scaling group", Name: name}
	}
	return g, nil
}

// instance finds an instance of the provider's cluster; the state must be
// held.
func (p *Provider) instance(id string) (*instance, error) {
	i := p.c.st.instances[id]
	if i == nil || i.Cluster != p.cluster {
		return nil, &cloud.NotFoundError{Kind: "instance", Name: id}
	}
	return i, nil
}

func (p *Provider) ListGroups(_ context.Context, page cloud.Page) ([]cloud.Group, string, error) {
	var all []cloud.Group
	_ = p.read(func(st *state) error {
		for _, name := range sortedKeys(st.groups) {
			if g := st.groups[name]; g.Cluster == p.cluster {
				all = append(all, p.c.groupOf(g))
			}
		}
		return nil
	})
	return paginate(all, func(g cloud.Group) string { return g.Name }, page)
}

func (p *Provider) UpdateGroup(_ context.Context, name string, in cloud.GroupUpdate) (*cloud.Group, error) {
	return made(p.c, func(tx *txn) (cloud.Group, error) {
		g, err := p.group(name)
		if err != nil {
			return cloud.Group{}, err
		}
		if err := p.c.updateGroup(tx, g, in); err != nil {
			return cloud.Group{}, err
		}
		return p.c.groupOf(g), nil
	})
}

func (p *Provider) DeleteGroup(_ context.Context, name string) error {
	return p.onGroup(name, func(tx *txn, g *group) error {
		if !g.Deleting {
			g.Deleting = true
			tx.putGroup(g)
			p.c.log.Info("deleting group", "group", name)
		}
		return nil
	})
}

func (p *Provider) PutLifecycleHook(_ context.Context, name string, hook cloud.LifecycleHook) error {
	return p.onGroup(name, func(tx *txn, g *group) error {
		var ps cloud.Problems
		h := checkHook(&ps, "", hook)
		for _, other := range g.Hooks {
			if other.Name != h.Name && other.Transition == h.Transition {
				ps.Add("lifecycleTransition", "group %s already has hook %s for %s: kdp's groups take one hook per transition", name, other.Name, h.Transition)
			}
		}
		if err := ps.Err(); err != nil {
			return err
		}
		g.Hooks = slices.DeleteFunc(g.Hooks, func(o cloud.LifecycleHook) bool { return o.Name == h.Name })
		g.Hooks = append(g.Hooks, h)
		tx.putGroup(g)
		return nil
	})
}

func (p *Provider) DeleteLifecycleHook(_ context.Context, name, hook string) error {
	return p.onGroup(name, func(tx *txn, g *group) error {
		i := slices.IndexFunc(g.Hooks, func(h cloud.LifecycleHook) bool { return h.Name == hook })
		if i < 0 {
			return nil
		}
		h := g.Hooks[i]
		g.Hooks = slices.Delete(g.Hooks, i, i+1)
		tx.putGroup(g)
		// As EC2 Auto Scaling does, the instances waiting on it go on: a
		// launch is abandoned, a termination continues.
		result := cloud.ResultContinue
		if h.Transition == cloud.HookLaunching {
			result = cloud.ResultAbandon
		}
		for _, id := range sortedKeys(p.c.st.byGroup[g.ID]) {
			if inst := p.c.st.byGroup[g.ID][id]; inst.WaitingOn == hook {
				inst.HookResult = result
				p.c.stepInstance(tx, inst)
			}
		}
		return nil
	})
}

func (p *Provider) SuspendProcesses(ctx context.Context, name string, processes []string) error {
	return p.setProcesses(name, processes, true)
}

func (p *Provider) ResumeProcesses(ctx context.Context, name string, processes []string) error {
	return p.setProcesses(name, processes, false)
}

func (p *Provider) setProcesses(name string, processes []string, suspend bool) error {
	if len(processes) == 0 {
		processes = cloud.Processes
	}
	var ps cloud.Problems
	for i, proc := range processes {
		if !slices.Contains(cloud.Processes, proc) {
			ps.Add(fmt.Sprintf("scalingProcesses[%d]", i), "unknown process %q: kdp's groups run %s", proc, strings.Join(cloud.Processes, ", "))
		}
	}
	if err := ps.Err(); err != nil {
		return err
	}
	return p.onGroup(name, func(tx *txn, g *group) error {
		for _, proc := range processes {
			has := slices.Contains(g.Suspended, proc)
			switch {
			case suspend && !has:
				g.Suspended = append(g.Suspended, proc)
			case !suspend && has:
				g.Suspended = slices.DeleteFunc(g.Suspended, func(s string) bool { return s == proc })
			}
		}
		slices.SortFunc(g.Suspended, func(a, b string) int { return slices.Index(cloud.Processes, a) - slices.Index(cloud.Processes, b) })
		tx.putGroup(g)
		return nil
	})
}

func (p *Provider) ListActivities(_ context.Context, name string, page cloud.Page) ([]cloud.Activity, string, error) {
	type keyed struct {
		cloud.Activity
		key string
	}
	var all []keyed
	err := p.read(func(st *state) error {
		if _, err := p.group(name); err != nil {
			return err
		}
		list := st.activities[name]
		for i := len(list) - 1; i >= 0; i-- { // newest first: keys that sort the other way
			all = append(all, keyed{list[i].Activity, fmt.Sprintf("%020d", ^list[i].Seq)})
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	page1, next, err := paginate(all, func(a keyed) string { return a.key }, page)
	out := make([]cloud.Activity, len(page1))
	for i, a := range page1 {
		out[i] = a.Activity
	}
	return out, next, err
}

func (p *Provider) RunInstances(_ context.Context, in cloud.RunInput) ([]cloud.Instance, error) {
	var out []cloud.Instance
	err := p.c.do(func(tx *txn) error {
		launched, err := p.c.runInstances(tx, p.cluster, in)
		for _, i := range launched {
			out = append(out, i.toCloud())
		}
		return err
	})
	return out, err
}

func (p *Provider) GetInstance(_ context.Context, id string) (*cloud.Instance, error) {
	return found(p, func() (cloud.Instance, error) {
		i, err := p.instance(id)
		if err != nil {
			return cloud.Instance{}, err
		}
		return i.toCloud(), nil
	})
}

func (p *Provider) ListInstances(_ context.Context, f cloud.InstanceFilter, page cloud.Page) ([]cloud.Instance, string, error) {
	var out []cloud.Instance
	var next string
	err := p.read(func(st *state) error {
		from := st.instances
		if g := st.groups[f.Group]; g != nil && g.Cluster == p.cluster {
			from = st.byGroup[g.ID] // the group's (not an earlier one's of that name)
		}
		var all []*instance
		for _, i := range from {
			if i.Cluster == p.cluster && (f.Group == "" || i.Group == f.Group) && (len(f.States) == 0 || slices.Contains(f.States, i.State)) &&
				(len(f.IDs) == 0 || slices.Contains(f.IDs, i.ID)) {
				all = append(all, i)
			}
		}
		slices.SortFunc(all, launchOrder)
		all, n, err := paginate(all, launchKey, page)
		out, next = make([]cloud.Instance, len(all)), n
		for k, i := range all {
			out[k] = i.toCloud()
		}
		return err
	})
	return out, next, err
}

// launchKey orders instances by launch, to the nanosecond, then id: a
// page's token.
func launchKey(i *instance) string {
	return fmt.Sprintf("%020d/%s", i.LaunchTime.UnixNano(), i.ID)
}

// launchOrder compares instances in launchKey's order without building a key
// per comparison.
func launchOrder(a, b *instance) int {
	return cmp.Or(cmp.Compare(a.LaunchTime.UnixNano(), b.LaunchTime.UnixNano()), strings.Compare(a.ID, b.ID))
}

func (p *Provider) GetUserData(_ context.Context, id string) (string, error) {
	var out string
	err := p.read(func(*state) error {
		i, err := p.instance(id)
		if err == nil {
			out = p.c.userData(i)
		}
		return err
	})
	return out, err
}

func (p *Provider) TerminateInstance(_ context.Context, id string, decrementDesired bool) error {
	return p.c.do(func(tx *txn) error {
		i, err := p.instance(id)
		if err != nil {
			return err
		}
		if i.leaving() {
			return nil
		}
		cause := "instance " + id + " was taken out of service in response to a user request"
		if g := p.c.st.groups[i.Group]; g != nil && decrementDesired && g.Desired <= g.Min {
			return cloud.Invalid("shouldDecrementDesiredCapacity", "terminating %s without a replacement would take group %s below its minSize (%d)", id, g.Name, g.Min)
		}
		p.c.requestTermination(tx, i, termination{why: UserRequestReason, cause: cause, decrement: decrementDesired})
		p.c.log.Info("terminating instance", "instance", id, "group", i.Group, "decrementDesired", decrementDesired)
		return nil
	})
}

func (p *Provider) CompleteLifecycleAction(_ context.Context, in cloud.LifecycleAction) error {
	if in.Result != cloud.ResultContinue && in.Result != cloud.ResultAbandon {
		return cloud.Invalid("lifecycleActionResult", "must be CONTINUE or ABANDON, got %q", in.Result)
	}
	return p.c.do(func(tx *txn) error {
		i, err := p.waiting(in)
		if err != nil {
			return err
		}
		if i.HookResult == "" {
			i.HookResult = in.Result
			p.c.log.Info("lifecycle action completed", "instance", i.ID, "hook", in.Hook, "result", in.Result)
			p.c.stepInstance(tx, i)
		}
		return nil
	})
}

func (p *Provider) RecordLifecycleActionHeartbeat(_ context.Context, in cloud.LifecycleAction) error {
	return p.c.do(func(tx *txn) error {
		i, err := p.waiting(in)
		if err != nil {
			return err
		}
		if h, ok := p.c.st.groups[i.Group].hookNamed(in.Hook); ok {
			deadline := tx.now.Add(p.c.timing.Scale.Of(h.HeartbeatTimeout.Duration))
			i.HookDeadline = &deadline
			tx.putInstance(i)
		}
		return nil
	})
}

// waiting finds the instance waiting on a lifecycle action, as EC2 Auto
// Scaling does; the state must be held.
func (p *Provider) waiting(in cloud.LifecycleAction) (*instance, error) {
	i, err := p.instance(in.InstanceID)
	if err != nil || i.Group != in.Group || i.WaitingOn != in.Hook {
		return nil, cloud.Invalid("instanceId", "no active lifecycle action found with instance ID %s for hook %s of group %s", in.InstanceID, in.Hook, in.Group)
	}
	return i, nil
}

func (p *Provider) Launched(_ context.Context, id string) (*cloud.Launch, error) {
	var out *cloud.Launch
	err := p.read(func(st *state) error {
		if i := st.instances[id]; i != nil && i.Cluster == p.cluster {
			out = &cloud.Launch{InstanceID: i.ID, Cluster: i.Cluster, Group: i.Group, PrivateDNSName: i.DNSName, LaunchTime: i.LaunchTime, Ended: i.Ended}
			return nil
		}
		if l := st.launches[id]; l != nil && l.Cluster == p.cluster {
			out = &cloud.Launch{InstanceID: l.ID, Cluster: l.Cluster, Group: l.Group, PrivateDNSName: l.DNSName, LaunchTime: l.Launch, Ended: l.Ended}
			return nil
		}
		return &cloud.NotFoundError{Kind: "launch of instance", Name: id}
	})
	return out, err
}

func (p *Provider) Subscribe(ctx context.Context, since uint64) (<-chan cloud.Event, error) {
	return p.c.subscribe(ctx, since, func(e logged) bool { return e.cluster == p.cluster || e.cluster == "" })
}

// groupOf is a group as the API reports it; the state must be held.
func (c *Cloud) groupOf(g *group) cloud.Group {
	out := cloud.Group{
		Name: g.Name, ARN: c.groupARN(g.Name), LaunchTemplate: g.Template, MinSize: g.Min, MaxSize: g.Max, DesiredCapacity: g.Desired,
		InstanceTypes: slices.Clone(g.InstanceTypes), CapacityType: g.CapacityType, SubnetIDs: slices.Clone(g.SubnetIDs),
		Zones: c.groupZones(g), CapacityRebalance: g.CapacityRebalance, Tags: maps.Clone(g.Tags),
		LifecycleHooks: slices.Clone(g.Hooks), SuspendedProcesses: slices.Clone(g.Suspended), CreatedTime: g.Created,
	}
	if t := c.st.templates[g.Template.ID]; t != nil {
		out.LaunchTemplate.Name = t.Name
	}
	if g.Deleting {
		out.Status = cloud.GroupDeleting
	}
	for _, i := range c.st.byGroup[g.ID] {
		switch {
		case i.leaving():
		case i.LifecycleState == cloud.LifecycleInService:
			out.InService++
		default:
			out.Pending++
		}
	}
	return out
}

// paginate returns the page of items (sorted by key) that page asks for,
// and the token of the next page ("" if it is the last).
func paginate[T any](items []T, key func(T) string, page cloud.Page) ([]T, string, error) {
	if page.MaxResults < 0 || page.MaxResults > cloud.MaxPageSize {
		return nil, "", cloud.Invalid("maxResults", "must be between 1 and %d, got %d", cloud.MaxPageSize, page.MaxResults)
	}
	start := 0
	if page.NextToken != "" {
		after, err := base64.RawURLEncoding.DecodeString(page.NextToken)
		if err != nil {
			return nil, "", cloud.Invalid("nextToken", "%q is not a token this list gave", page.NextToken)
		}
		start, _ = slices.BinarySearchFunc(items, string(after), func(it T, k string) int { return strings.Compare(key(it), k) })
		for start < len(items) && key(items[start]) <= string(after) {
			start++
		}
	}
	items = items[start:]
	if page.MaxResults == 0 || len(items) <= page.MaxResults {
		return items, "", nil
	}
	items = items[:page.MaxResults]
	return items, base64.RawURLEncoding.EncodeToString([]byte(key(items[len(items)-1]))), nil
}
