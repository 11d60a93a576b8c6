// Package kubelet plays the part of the machines of a simulated cloud in a
// cluster: a kubelet on each running instance that joins through TLS
// bootstrap and heartbeats, the pods on its node, and the cloud node
// lifecycle controller (a cloud-controller-manager's job). They are
// simulation, not state: a restart rebuilds them from the cloud (through
// cloud.Provider, the only door to it) and the cluster. They touch only
// what kdp launched: a Node whose providerID and sim.kdp.dev/instance-id
// label name an instance the cloud has a record of launching for this
// cluster. Every other Node is left alone.
package kubelet

import (
	"context"
	"fmt"
	"time"

	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/timescale"
)

// Labels and annotations of kdp's simulated nodes and pods.
const (
	// LabelInstanceID is on every Node a simulated kubelet registers: the
	// instance it runs on.
	LabelInstanceID = "sim.kdp.dev/instance-id"
	// AnnotationRunSeconds makes a pod's containers exit 0 after this many
	// seconds (a Job's pod completes).
	AnnotationRunSeconds = "sim.kdp.dev/run-seconds"
	// AnnotationStopSeconds is how long the containers take to exit after
	// SIGTERM (default 1); the kubelet kills them at the grace period.
	AnnotationStopSeconds = "sim.kdp.dev/stop-seconds"
)

// Timing is how long the simulated machines take.
type Timing struct {
	// Join is from running to the kubelet's Node registered and Ready.
	Join time.Duration
	// PodStart is from a pod bound to a node to Running and Ready.
	PodStart time.Duration
	// MicroVMJoin is Join on a micro-VM (a Fargate pod's machine).
	MicroVMJoin time.Duration
	// ImagePull and ImagePullCached are PodStart on a micro-VM, whose pod
	// pulls its images every time: the first pull of an image in a zone
	// is cold, later ones are warm (the zone's registry cache has it).
	ImagePull, ImagePullCached time.Duration
	// Heartbeat is how often a kubelet renews its node Lease (10 s, as
	// kubelets do; not compressed, so the node controller's grace periods
	// keep their meaning).
	Heartbeat time.Duration
	// Jitter spreads each delay by up to ± this fraction, the same way for
	// the same instance or pod.
	Jitter float64
}

func (t Timing) jittered(d time.Duration, key string) time.Duration {
	return timescale.Jitter(d, t.Jitter, key)
}

// Options configure the simulated machines.
type Options struct {
	Timing Timing
	Clock  clock.Clock
}

type reconciler interface {
	Name() string
	Register(ctrl.Manager) error
}

// Setup registers the simulated machines' controllers with the manager:
// the kubelets, the pods on their nodes, and the cloud node lifecycle.
func Setup(ctx context.Context, mgr ctrl.Manager, provider cloud.Provider, o Options) error {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	m, err := loadMachines(ctx, provider)
	if err != nil {
		return err
	}
	c := mgr.GetClient()
	for _, r := range []reconciler{
		NewController(c, provider, m, o.Clock, o.Timing, mgr.GetEventRecorder("kubelet")),
		NewPodController(c, provider, m, o.Clock, o.Timing),
		NewNodeLifecycleController(c, provider, mgr.GetEventRecorder("cloud-node-lifecycle-controller")),
	} {
		if err := r.Register(mgr); err != nil {
			return fmt.Errorf("registering %s: %w", r.Name(), err)
		}
	}
	return nil
}

// controllerOptions are shared by the controllers: many workers, since a
// reconcile is a handful of local calls and thousands of instances may
// start at once.
func controllerOptions() controller.Options {
	return controller.Options{MaxConcurrentReconciles: 16}
}

// kubeletOptions let many more kubelets join at once: a join spends most of
// its time waiting on the API server (its CSR approved and signed), so, as
// on real machines, many booted kubelets have their requests in at once.
// Past 64 the join is no faster: the writes queue in etcd.
func kubeletOptions() controller.Options {
	return controller.Options{MaxConcurrentReconciles: 64}
}

// machines is what the kubelets need to know of the cloud's catalogue.
type machines struct {
	types   map[string]cloud.InstanceType
	images  map[string]cloud.Image
	subnets []cloud.Subnet
}

func loadMachines(ctx context.Context, p cloud.Catalog) (*machines, error) {
	m := &machines{types: map[string]cloud.InstanceType{}, images: map[string]cloud.Image{}}
	types, err := p.InstanceTypes(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		m.types[t.Name] = t
	}
	images, err := p.Images(ctx)
	if err != nil {
		return nil, err
	}
	for _, i := range images {
		m.images[i.ID] = i
	}
	if m.subnets, err = p.Subnets(ctx); err != nil {
		return nil, err
	}
	return m, nil
}
