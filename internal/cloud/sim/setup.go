package sim

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/timescale"
)

// Options configure the simulated cloud.
type Options struct {
	Region  string
	Zones   int
	Profile string
	Scale   timescale.Scale
}

// DefaultOptions are `kdp up`'s defaults.
func DefaultOptions() Options {
	return Options{Region: "us-east-1", Zones: 3, Profile: "fast", Scale: timescale.Real}
}

// Validate checks the options, naming the flag at fault.
func (o Options) Validate() error {
	if o.Region == "" {
		return fmt.Errorf("--region: must not be empty")
	}
	if o.Zones < 1 || o.Zones > 6 {
		return fmt.Errorf("--zones %d: must be between 1 and 6", o.Zones)
	}
	if _, err := Profile(o.Profile, o.Scale); err != nil {
		return err
	}
	return o.Scale.Validate()
}

// ConfigMapName is where `kdp up` records the simulated cloud's options in
// kube-system, so that the CLI builds the same catalogue.
const ConfigMapName = "kdp-sim"

// reconciler is what each of the simulator's controllers is.
type reconciler interface {
	Name() string
	Register(ctrl.Manager) error
}

// Setup registers the simulated cloud's controllers with the manager and
// records its options in the cluster. It returns the cloud's provider.
func Setup(ctx context.Context, mgr ctrl.Manager, direct client.Client, o Options) (*Provider, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	catalog, err := NewCatalog(o.Region, o.Zones)
	if err != nil {
		return nil, err
	}
	timing, _ := Profile(o.Profile, o.Scale)
	if err := saveOptions(ctx, direct, o); err != nil {
		return nil, err
	}
	clk := clock.RealClock{}
	c := mgr.GetClient()
	broker := NewBroker(o.Region)
	controllers := []reconciler{
		NewGroupController(c, catalog, clk, mgr.GetEventRecorder("sim-autoscaling")),
		NewInstanceController(c, catalog, clk, timing, broker, mgr.GetEventRecorder("sim-ec2")),
		NewKubeletController(c, catalog, clk, timing, mgr.GetEventRecorder("kubelet")),
		NewNodeLifecycleController(c, mgr.GetEventRecorder("cloud-node-lifecycle-controller")),
		NewPodController(c, catalog, clk, timing),
	}
	for _, ctl := range controllers {
		if err := ctl.Register(mgr); err != nil {
			return nil, fmt.Errorf("registering %s: %w", ctl.Name(), err)
		}
	}
	// The provider reads through the direct client: a caller that creates a
	// launch template and then a group must find the template.
	return NewProvider(direct, catalog, clk, timing, broker), nil
}

func saveOptions(ctx context.Context, c client.Client, o Options) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: metav1.NamespaceSystem},
		Data: map[string]string{
			"region": o.Region, "zones": strconv.Itoa(o.Zones), "profile": o.Profile,
			"timeScale": strconv.FormatFloat(float64(o.Scale), 'g', -1, 64),
		},
	}
	err := c.Create(ctx, cm)
	if apierrors.IsAlreadyExists(err) {
		err = c.Update(ctx, cm)
	}
	if err != nil {
		return fmt.Errorf("recording the simulated cloud's options: %w", err)
	}
	return nil
}

// LoadOptions reads the options `kdp up` recorded.
func LoadOptions(ctx context.Context, c client.Client) (Options, error) {
	cm := &corev1.ConfigMap{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: ConfigMapName}, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return Options{}, fmt.Errorf("this cluster runs no simulated cloud (no ConfigMap kube-system/%s): start it with kdp up", ConfigMapName)
		}
		return Options{}, err
	}
	zones, _ := strconv.Atoi(cm.Data["zones"])
	scale, _ := strconv.ParseFloat(cm.Data["timeScale"], 64)
	return Options{Region: cm.Data["region"], Zones: zones, Profile: cm.Data["profile"], Scale: timescale.Scale(scale)}, nil
}
