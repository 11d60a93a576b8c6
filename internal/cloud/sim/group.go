package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

// Group condition types and reasons.
const (
	// ConditionCapacityAvailable is False while the group cannot launch
	// the instances it wants (no capacity for any of its types).
	ConditionCapacityAvailable = "CapacityAvailable"
	ReasonLaunched             = "Launched"
	ReasonInsufficientCapacity = "InsufficientInstanceCapacity"
)

// GroupController plays EC2 Auto Scaling: it keeps each group at its
// desired capacity, launching instances balanced across the group's zones
// and terminating the surplus. With capacity rebalancing, a spot instance
// that got a rebalance recommendation is replaced first and terminated once
// its replacement is in service.
type GroupController struct {
	client   client.Client
	catalog  *Catalog
	clock    clock.Clock
	recorder events.EventRecorder
}

// NewGroupController returns the group controller.
func NewGroupController(c client.Client, catalog *Catalog, clk clock.Clock, recorder events.EventRecorder) *GroupController {
	return &GroupController{client: c, catalog: catalog, clock: clk, recorder: recorder}
}

// Name is the controller's name.
func (*GroupController) Name() string { return "sim.group" }

// Register adds the controller to the manager.
func (g *GroupController) Register(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(g.Name()).
		For(&simv1.AutoScalingGroup{}).
		Watches(&simv1.Instance{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			if group := o.GetLabels()[simv1.LabelGroup]; group != "" {
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Name: group}}}
			}
			return nil
		}), builder.WithPredicates(predicate.Funcs{UpdateFunc: groupChange})).
		Complete(g)
}

// groupChange tells whether an instance update concerns its group: what
// counts it as active, at risk or in service, or asks to lower the desired
// capacity (not, say, its kubelet's record of the join).
var groupChange = instanceUpdate(func(old, cur *simv1.Instance) bool {
	return old.Status.State != cur.Status.State || old.Status.LifecycleState != cur.Status.LifecycleState ||
		(old.Spec.TerminationRequested == nil) != (cur.Spec.TerminationRequested == nil) ||
		(old.Spec.RebalanceRecommended == nil) != (cur.Spec.RebalanceRecommended == nil) ||
		old.Spec.DecrementDesired != cur.Spec.DecrementDesired
})

// Reconcile brings one group to its desired capacity.
func (g *GroupController) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	asg := &simv1.AutoScalingGroup{}
	if err := g.client.Get(ctx, req.NamespacedName, asg); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	var list simv1.InstanceList
	// Read-only: the group copies an instance before it changes one.
	if err := g.client.List(ctx, &list, client.MatchingLabels{simv1.LabelGroup: asg.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return reconcile.Result{}, err
	}
	// active instances count towards the desired capacity; those at risk
	// (a rebalance recommendation, with capacity rebalancing on) are being
	// replaced and do not.
	// A termination that asked to lower the desired capacity still counts
	// until the group has lowered it (in one write with the record of it).
	decremented := strings.Split(asg.Annotations[simv1.AnnotationDecremented], ",")
	var active, atRisk []*simv1.Instance
	for i := range list.Items {
		inst := &list.Items[i]
		switch {
		case inst.Spec.DecrementDesired && !slices.Contains(decremented, inst.Name):
			return reconcile.Result{}, g.decrement(ctx, asg, inst, list.Items)
		case inst.Spec.TerminationRequested != nil || inst.Status.State == simv1.StateTerminated:
		case asg.Spec.CapacityRebalance && inst.Spec.RebalanceRecommended != nil:
			atRisk = append(atRisk, inst)
		default:
			active = append(active, inst)
		}
	}

	if !asg.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, g.finalize(ctx, asg, list.Items)
	}

	base := asg.DeepCopy()
	want := int(asg.Spec.DesiredCapacity)
	var launchErr error
	switch {
	case len(active) < want:
		launchErr = g.launch(ctx, asg, list.Items, active, want-len(active))
	case len(active) > want:
		for _, inst := range surplus(active, len(active)-want) {
			if err := RequestTermination(ctx, g.client, g.clock, inst.DeepCopy(), "scale-in"); err != nil {
				return reconcile.Result{}, err
			}
			g.recorder.Eventf(asg, inst, corev1.EventTypeNormal, "Terminating", "ScaleIn",
				"Terminating %s in %s: desired capacity is %d", inst.Name, inst.Spec.Zone, want)
		}
	}

	asg.Status.InService, asg.Status.Pending = 0, 0
	for _, inst := range append(slices.Clone(active), atRisk...) {
		if inst.Status.LifecycleState == simv1.LifecycleInService {
			asg.Status.InService++
		} else {
			asg.Status.Pending++
		}
	}
	if len(atRisk) > 0 && inService(active) >= want {
		for _, inst := range atRisk {
			if err := RequestTermination(ctx, g.client, g.clock, inst.DeepCopy(), "capacity rebalance: replacement in service"); err != nil {
				return reconcile.Result{}, err
			}
			g.recorder.Eventf(asg, inst, corev1.EventTypeNormal, "Terminating", "CapacityRebalance",
				"Terminating %s: its replacement is in service", inst.Name)
		}
	}
	asg.Status.ObservedGeneration = asg.Generation
	cond := metav1.Condition{Type: ConditionCapacityAvailable, Status: metav1.ConditionTrue, Reason: ReasonLaunched, ObservedGeneration: asg.Generation}
	if cloud.IsInsufficientCapacity(launchErr) {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, ReasonInsufficientCapacity, launchErr.Error()
	}
	apimeta.SetStatusCondition(&asg.Status.Conditions, cond)
	if !equality.Semantic.DeepEqual(base.Status, asg.Status) {
		if err := g.client.Status().Patch(ctx, asg, client.MergeFrom(base)); err != nil {
			return reconcile.Result{}, err
		}
	}
	if cloud.IsInsufficientCapacity(launchErr) {
		// EC2 Auto Scaling retries a failed launch; so do we.
		return reconcile.Result{RequeueAfter: 10 * time.Second}, nil
	}
	return reconcile.Result{}, launchErr
}

// launchConcurrency is how many instance records a launch creates at once.
const launchConcurrency = 16

// launch starts n instances, each in the zone with the fewest active
// instances of the group, and waits until the cache sees them, so that the
// next reconcile does not launch them again.
func (g *GroupController) launch(ctx context.Context, asg *simv1.AutoScalingGroup, all []simv1.Instance, active []*simv1.Instance, n int) error {
	lt := &simv1.LaunchTemplate{}
	if err := g.client.Get(ctx, client.ObjectKey{Name: asg.Spec.LaunchTemplate.Name}, lt); err != nil {
		return fmt.Errorf("launch template %s: %w", asg.Spec.LaunchTemplate.Name, err)
	}
	ltv, err := ResolveVersion(lt, asg.Spec.LaunchTemplate.Version)
	if err != nil {
		return err
	}
	perZone := map[string]int{}
	for _, inst := range active {
		perZone[inst.Spec.Zone]++
	}
	pool, err := g.pool(ctx)
	if err != nil {
		return err
	}
	faults, err := g.faults(asg, all)
	if err != nil {
		return err
	}
	// Place every instance first (placement depends on the ones before),
	// then create them launchConcurrency at a time, as EC2 Auto Scaling
	// launches a batch at once rather than one after the other.
	var placed []*simv1.Instance
	var lastErr error
	for range n {
		inst, err := g.place(asg, ltv, perZone, pool)
		if err != nil {
			lastErr = err
			g.recorder.Eventf(asg, nil, corev1.EventTypeWarning, "LaunchFailed", "Launch", "Launching an instance: %v", err)
			break
		}
		inst.Spec.LaunchTemplate = &simv1.LaunchTemplateRef{Name: lt.Name, Version: fmt.Sprint(ltv.Number)}
		faults.apply(inst)
		perZone[inst.Spec.Zone]++
		pool.add(inst)
		placed = append(placed, inst)
	}
	var (
		mu        sync.Mutex
		created   []string
		createErr error
		wg        sync.WaitGroup
	)
	slots := make(chan struct{}, launchConcurrency)
	for _, inst := range placed {
		slots <- struct{}{}
		mu.Lock()
		failed := createErr != nil
		mu.Unlock()
		if failed {
			break // the first failure ends the launch
		}
		wg.Go(func() {
			defer func() { <-slots }()
			err := g.client.Create(ctx, inst)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				createErr = err // and still wait for the ones created, so a retry does not launch them again
				return
			}
			created = append(created, inst.Name)
			log.FromContext(ctx).Info("launched instance", "instance", inst.Name, "type", inst.Spec.InstanceType, "zone", inst.Spec.Zone, "lifecycle", inst.Spec.Lifecycle)
		})
	}
	wg.Wait()
	if createErr != nil {
		lastErr = errors.Join(lastErr, createErr) // a capacity error from placement stays visible
	}
	// One Event per launch, summarised: a scale-up of hundreds would
	// otherwise write hundreds of Events.
	if len(created) > 0 {
		g.recorder.Eventf(asg, nil, corev1.EventTypeNormal, "Launched", "Launch", "Launched %d instance(s) to reach desired capacity %d: %s",
			len(created), asg.Spec.DesiredCapacity, summarize(created, 5))
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, name := range created {
		if err := wait.PollUntilContextCancel(waitCtx, 20*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			return g.client.Get(ctx, client.ObjectKey{Name: name}, &simv1.Instance{}) == nil, nil
		}); err != nil {
			return fmt.Errorf("launched instances not seen after 10s: %w", err)
		}
	}
	return lastErr
}

// pool is what the region holds right now: the capacity limits, the live
// instances of each type in each zone, and the addresses in use.
type pool struct {
	capacity Capacity
	live     map[string]int // capacityKey → instances
	usedIPs  map[string]bool
}

func (p *pool) add(inst *simv1.Instance) {
	p.live[capacityKey(inst.Spec.InstanceType, inst.Spec.Zone)]++
	p.usedIPs[inst.Spec.SubnetID+"/"+inst.Spec.PrivateIP] = true
}

// available reports whether the zone has room for one more of the type.
func (p *pool) available(instanceType, zone string) bool {
	limit, limited := p.capacity.Limit(instanceType, zone)
	return !limited || p.live[capacityKey(instanceType, zone)] < limit
}

func (g *GroupController) pool(ctx context.Context) (*pool, error) {
	capacity, err := LoadCapacity(ctx, g.client)
	if err != nil {
		return nil, err
	}
	var list simv1.InstanceList
	if err := g.client.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil { // read-only
		return nil, err
	}
	p := &pool{capacity: capacity, live: map[string]int{}, usedIPs: map[string]bool{}}
	for i := range list.Items {
		inst := &list.Items[i]
		p.usedIPs[inst.Spec.SubnetID+"/"+inst.Spec.PrivateIP] = true // held until the record goes
		if inst.Status.State != simv1.StateTerminated && inst.Status.State != simv1.StateShuttingDown {
			p.live[capacityKey(inst.Spec.InstanceType, inst.Spec.Zone)]++
		}
	}
	return p, nil
}

// place chooses the zone, subnet and instance type of a new instance.
func (g *GroupController) place(asg *simv1.AutoScalingGroup, ltv simv1.LaunchTemplateVersion, perZone map[string]int, pool *pool) (*simv1.Instance, error) {
	types := asg.Spec.InstanceTypes
	if len(types) == 0 {
		types = []string{ltv.InstanceType}
	}
	subnets := make([]cloud.Subnet, 0, len(asg.Spec.SubnetIDs))
	for _, id := range asg.Spec.SubnetIDs {
		if s, ok := g.catalog.Subnet(id); ok {
			subnets = append(subnets, s)
		}
	}
	// Zones with the fewest instances first (zone balancing).
	slices.SortStableFunc(subnets, func(a, b cloud.Subnet) int { return perZone[a.Zone] - perZone[b.Zone] })
	var err error = &cloud.InsufficientCapacityError{InstanceType: types[0], Zone: "any zone"}
	for _, subnet := range subnets {
		candidates := slices.Clone(types)
		if asg.Spec.CapacityType == cloud.Spot {
			slices.SortStableFunc(candidates, func(a, b string) int {
				pa, _ := g.catalog.SpotPrice(a, subnet.Zone)
				pb, _ := g.catalog.SpotPrice(b, subnet.Zone)
				return cmp.Compare(pa, pb)
			})
		}
		for _, t := range candidates {
			if !pool.available(t, subnet.Zone) {
				err = &cloud.InsufficientCapacityError{InstanceType: t, Zone: subnet.Zone}
				continue
			}
			ip, ipErr := freeIP(subnet, pool.usedIPs)
			if ipErr != nil {
				return nil, ipErr
			}
			tags := map[string]string{"aws:autoscaling:groupName": asg.Name}
			for k, v := range ltv.Tags {
				tags[k] = v
			}
			for k, v := range asg.Spec.Tags {
				tags[k] = v
			}
			return &simv1.Instance{
				ObjectMeta: metav1.ObjectMeta{
					Name:   "i-" + randomHex(17),
					Labels: map[string]string{simv1.LabelGroup: asg.Name},
				},
				Spec: simv1.InstanceSpec{
					LaunchTime:   ptr.To(metav1.NewMicroTime(g.clock.Now())),
					InstanceType: t, ImageID: ltv.ImageID, SubnetID: subnet.ID, Zone: subnet.Zone, PrivateIP: ip,
					Lifecycle: asg.Spec.CapacityType, UserData: ltv.UserData, Group: asg.Name, Tags: tags,
				},
			}, nil
		}
	}
	return nil, err
}

// freeIP picks the first address of the subnet that no instance holds.
func freeIP(subnet cloud.Subnet, used map[string]bool) (string, error) {
	for n := 0; ; n++ {
		ip, err := NthIP(subnet.CIDR, n)
		if err != nil {
			return "", fmt.Errorf("subnet %s: %w", subnet.ID, err)
		}
		if !used[subnet.ID+"/"+ip] {
			return ip, nil
		}
	}
}

func inService(instances []*simv1.Instance) int {
	n := 0
	for _, inst := range instances {
		if inst.Status.LifecycleState == simv1.LifecycleInService {
			n++
		}
	}
	return n
}

// surplus picks the instances a scale-in terminates, as EC2's default
// termination policy does: from the zone with the most instances, an
// instance still pending before a running one, then the oldest.
func surplus(active []*simv1.Instance, n int) []*simv1.Instance {
	remaining := slices.Clone(active)
	var out []*simv1.Instance
	for range n {
		perZone := map[string]int{}
		for _, inst := range remaining {
			perZone[inst.Spec.Zone]++
		}
		slices.SortStableFunc(remaining, func(a, b *simv1.Instance) int {
			if d := perZone[b.Spec.Zone] - perZone[a.Spec.Zone]; d != 0 {
				return d
			}
			if ra, rb := a.Status.State == simv1.StateRunning, b.Status.State == simv1.StateRunning; ra != rb {
				if ra {
					return 1
				}
				return -1
			}
			return launchTime(a).Compare(launchTime(b))
		})
		out = append(out, remaining[0])
		remaining = remaining[1:]
	}
	return out
}

// decrement lowers the group's desired capacity for an instance terminated
// with --decrement-desired, recording the instance in the same write, and
// forgets the records of instances that are gone.
func (g *GroupController) decrement(ctx context.Context, asg *simv1.AutoScalingGroup, inst *simv1.Instance, all []simv1.Instance) error {
	base := asg.DeepCopy()
	var keep []string
	for _, name := range strings.Split(asg.Annotations[simv1.AnnotationDecremented], ",") {
		if name != "" && slices.ContainsFunc(all, func(i simv1.Instance) bool { return i.Name == name }) {
			keep = append(keep, name)
		}
	}
	if asg.Annotations == nil {
		asg.Annotations = map[string]string{}
	}
	asg.Annotations[simv1.AnnotationDecremented] = strings.Join(append(keep, inst.Name), ",")
	asg.Spec.DesiredCapacity = max(asg.Spec.DesiredCapacity-1, asg.Spec.MinSize)
	if err := g.client.Patch(ctx, asg, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	g.recorder.Eventf(asg, inst, corev1.EventTypeNormal, "DesiredCapacityDecremented", "Terminate",
		"Desired capacity lowered to %d: %s terminated without replacement", asg.Spec.DesiredCapacity, inst.Name)
	return nil
}

// finalize terminates a deleted group's instances and lets the group go
// once none is left running.
func (g *GroupController) finalize(ctx context.Context, asg *simv1.AutoScalingGroup, instances []simv1.Instance) error {
	left := 0
	for i := range instances {
		inst := &instances[i]
		if inst.Status.State == simv1.StateTerminated {
			continue
		}
		left++
		if err := RequestTermination(ctx, g.client, g.clock, inst.DeepCopy(), "group deleted"); err != nil {
			return err
		}
	}
	if left > 0 {
		return nil // the instances' updates requeue the group
	}
	if controllerutil.RemoveFinalizer(asg, simv1.Finalizer) {
		return g.client.Update(ctx, asg)
	}
	return nil
}

// summarize lists the first n names and counts the rest.
func summarize(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// launchTime is when an instance was launched, to the microsecond when known.
func launchTime(inst *simv1.Instance) time.Time {
	if inst.Spec.LaunchTime != nil {
		return inst.Spec.LaunchTime.Time
	}
	return inst.CreationTimestamp.Time
}
