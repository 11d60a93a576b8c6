package fargate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/fargate"
	"github.com/kdp-project/kdp/internal/fargate/resources"
	"github.com/kdp-project/kdp/internal/testenv"
	"github.com/kdp-project/kdp/internal/testenv/kdptest"
	"github.com/kdp-project/kdp/internal/timescale"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

const (
	clusterName = "fargate-test"
	role        = "arn:aws:iam::111122223333:role/AmazonEKSFargatePodExecutionRole"
)

// start runs kdp with the Fargate controllers and their webhooks, in dir
// (a new one if empty).
func start(t testing.TB, dir string) *kdptest.KDP {
	t.Helper()
	return startWith(t, dir, "", 0)
}

// startWith is start with the cloud's timing profile and the time scale.
func startWith(t testing.TB, dir, profile string, scale timescale.Scale) *kdptest.KDP {
	t.Helper()
	return kdptest.Start(t, env, kdptest.Options{
		Cluster: clusterName, Dir: dir, Profile: profile, Scale: scale,
		Setup: func(ctx context.Context, s kdptest.Setup) error {
			return fargate.Setup(ctx, s.Manager, s.Provider, s.Hooks, resources.Env{
				Cluster: clusterName, Account: s.Account, Join: s.Join, Clock: clock.RealClock{}, Scale: s.Scale,
			})
		},
		Ready: func(ctx context.Context) error {
			bad := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: "probe"}}
			err := env.Client.Create(ctx, bad, client.DryRunAll)
			if err == nil || !strings.Contains(err.Error(), "podExecutionRoleArn") {
				return fmt.Errorf("the webhook is not answering yet: %v", err)
			}
			return nil
		},
	})
}

// profile creates an ACTIVE profile of the selectors (namespace, then
// label pairs) and deletes it when the test ends.
func profile(t testing.TB, name string, selectors ...eksv1.FargateProfileSelector) *eksv1.FargateProfile {
	t.Helper()
	ctx := context.Background()
	fp := &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: eksv1.FargateProfileSpec{PodExecutionRoleArn: role, Selectors: selectors}}
	if err := env.Client.Create(ctx, fp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteProfile(t, name) })
	return waitProfile(t, name, eksv1.FargateActive)
}

func waitProfile(t testing.TB, name string, want eksv1.FargateProfileStatusValue) *eksv1.FargateProfile {
	t.Helper()
	fp := &eksv1.FargateProfile{}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, fp); err != nil {
			return err
		}
		if fp.Status.Status != want {
			return fmt.Errorf("profile %s is %q (issues %+v), want %s", name, fp.Status.Status, fp.Status.Health.Issues, want)
		}
		return nil
	})
	return fp
}

// deleteProfile deletes a profile and waits until it is gone.
func deleteProfile(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Delete(ctx, &eksv1.FargateProfile{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &eksv1.FargateProfile{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errors.Join(err, errors.New("profile "+name+" is still there"))
	})
}

func selector(namespace string, labels ...string) eksv1.FargateProfileSelector {
	s := eksv1.FargateProfileSelector{Namespace: namespace}
	for i := 0; i+1 < len(labels); i += 2 {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[labels[i]] = labels[i+1]
	}
	return s
}

// pod is a pod of one container (image app) with the requests (cpu,
// memory) given, in ns.
func pod(ns, name string, cpu, memory string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}},
	}
	if cpu != "" || memory != "" {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{}
		if cpu != "" {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if memory != "" {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceMemory] = resource.MustParse(memory)
		}
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func create(t testing.TB, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// running waits until a pod runs, and returns it.
func running(t testing.TB, ns, name string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("pod %s/%s is %s on %q (conditions %+v)", ns, name, p.Status.Phase, p.Spec.NodeName, p.Status.Conditions)
		}
		return nil
	})
	return p
}

// node reads a node.
func node(t testing.TB, name string) *corev1.Node {
	t.Helper()
	n := &corev1.Node{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fargateNodes lists the Fargate nodes.
func fargateNodes(t testing.TB) []corev1.Node {
	t.Helper()
	nodes := &corev1.NodeList{}
	if err := env.Client.List(context.Background(), nodes, client.MatchingLabels{eksv1.LabelComputeType: eksv1.ComputeTypeFargate}); err != nil {
		t.Fatal(err)
	}
	return nodes.Items
}

// microVMs lists the cloud's micro-VMs that boot or run.
func microVMs(t testing.TB, k *kdptest.KDP) []cloud.Instance {
	t.Helper()
	is, _, err := k.Provider.ListInstances(context.Background(), cloud.InstanceFilter{States: []string{cloud.StatePending, cloud.StateRunning}}, cloud.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(is, func(i cloud.Instance) bool { return i.MicroVM == nil })
}

// events lists the events about an object (by name) with the reason.
func events(t testing.TB, ns, name, reason string) []corev1.Event {
	t.Helper()
	list := &corev1.EventList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// deployment is a Deployment of replicas pods labelled app=name.
func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + name + ":1"}}},
			},
		},
	}
}

// metric is the value of a metric of kdp's registry with the labels (the
// sample count of a histogram), or -1 if there is none.
func metric(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func ctrlmetricsRegistryGather() ([]*dto.MetricFamily, error) { return ctrlmetrics.Registry.Gather() }
