package testenv_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

func TestIntegration_ServerReportsEmbeddedKubernetesVersion(t *testing.T) {
	v, err := env.Clientset.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v1.37.2" || v.Major != "1" || v.Minor != "37" {
		t.Fatalf("server version = %s (major %q, minor %q), want v1.37.2", v.GitVersion, v.Major, v.Minor)
	}
}

func TestIntegration_SchedulerBindsDeploymentPodsToNode(t *testing.T) {
	ctx := testenv.Context(t)
	ns := env.Namespace(t)
	node := createReadyNode(t, "node-"+ns)

	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"kubernetes.io/hostname": node.Name},
					Containers:   []corev1.Container{{Name: "web", Image: "nginx"}},
				},
			},
		},
	}
	if err := env.Client.Create(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 60*time.Second, func() error {
		var pods corev1.PodList
		if err := env.Client.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(labels)); err != nil {
			return err
		}
		bound := 0
		for _, p := range pods.Items {
			if p.Spec.NodeName == node.Name {
				bound++
			}
		}
		if bound != 3 {
			return fmt.Errorf("%d of %d pods bound to %s, want 3", bound, len(pods.Items), node.Name)
		}
		return nil
	})
}

func TestIntegration_CRDCanBeInstalledAndUsed(t *testing.T) {
	ctx := testenv.Context(t)
	ns := env.Namespace(t)
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.test.kdp.dev"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "test.kdp.dev",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
							"size": {Type: "integer", Minimum: ptr.To(1.0)},
						}},
					},
				}},
			}},
		},
	}
	scheme := env.Client.Scheme()
	_ = apiextensionsv1.AddToScheme(scheme)
	if err := env.Client.Create(ctx, crd); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(crd), crd); err != nil {
			return err
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("CRD not established: %v", crd.Status.Conditions)
	})

	dyn := dynamic.NewForConfigOrDie(env.Config).Resource(schema.GroupVersionResource{Group: "test.kdp.dev", Version: "v1", Resource: "widgets"}).Namespace(ns)
	widget := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "test.kdp.dev/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w1"},
		"spec":     map[string]any{"size": int64(3)},
	}}
	testenv.Eventually(t, 30*time.Second, func() error { // discovery catches up with the new CRD
		_, err := dyn.Create(ctx, widget, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	})
	got, err := dyn.Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if size, _, _ := unstructured.NestedInt64(got.Object, "spec", "size"); size != 3 {
		t.Fatalf("spec.size = %d, want 3", size)
	}
	// The schema is enforced: size must be >= 1.
	bad := widget.DeepCopy()
	bad.SetName("w2")
	_ = unstructured.SetNestedField(bad.Object, int64(0), "spec", "size")
	if _, err := dyn.Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("creating a widget with size 0: err = %v, want Invalid", err)
	}
}

func TestIntegration_EvictionHonoursPodDisruptionBudget(t *testing.T) {
	ctx := testenv.Context(t)
	ns := env.Namespace(t)
	labels := map[string]string{"app": "db"}
	node := createReadyNode(t, "node-"+ns)
	for i := range 2 {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("db-%d", i), Namespace: ns, Labels: labels},
			Spec: corev1.PodSpec{
				NodeName:   node.Name,
				Containers: []corev1.Container{{Name: "db", Image: "postgres"}},
			},
		}
		if err := env.Client.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		// No kubelet runs here: report the pod Running and Ready ourselves,
		// since a PDB counts only healthy pods.
		base := pod.DeepCopy()
		pod.Status = corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()},
			},
		}
		if err := env.Client.Status().Patch(ctx, pod, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr.To(intstr.FromInt32(2)),
			Selector:     &metav1.LabelSelector{MatchLabels: labels},
		},
	}
	if err := env.Client.Create(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	waitPDB := func(allowed int32) {
		t.Helper()
		testenv.Eventually(t, 30*time.Second, func() error {
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pdb), pdb); err != nil {
				return err
			}
			if pdb.Status.ObservedGeneration != pdb.Generation || pdb.Status.CurrentHealthy != 2 || pdb.Status.DisruptionsAllowed != allowed {
				return fmt.Errorf("PDB status %+v, want 2 healthy and %d disruptions allowed", pdb.Status, allowed)
			}
			return nil
		})
	}
	evict := func(name string) error {
		return env.Clientset.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		})
	}

	waitPDB(0)
	if err := evict("db-0"); !apierrors.IsTooManyRequests(err) {
		t.Fatalf("evicting with minAvailable=2 of 2: err = %v, want 429 TooManyRequests", err)
	}

	pdb.Spec.MinAvailable = ptr.To(intstr.FromInt32(1))
	if err := env.Client.Update(ctx, pdb); err != nil {
		t.Fatal(err)
	}
	waitPDB(1)
	if err := evict("db-0"); err != nil {
		t.Fatalf("evicting with minAvailable=1 of 2: %v", err)
	}
	if err := evict("db-1"); !apierrors.IsTooManyRequests(err) {
		t.Fatalf("evicting the last pod: err = %v, want 429 TooManyRequests", err)
	}
}

// createReadyNode creates a Node that reports Ready, deleted when the test ends.
func createReadyNode(t *testing.T, name string) *corev1.Node {
	t.Helper()
	ctx := testenv.Context(t)
	node := readyNode(name)
	status := node.Status
	if err := env.Client.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), node) })
	// Status is a subresource: conditions and capacity are set through it.
	// A patch, not an update: the node controllers may have written already.
	base := node.DeepCopy()
	node.Status = status
	if err := env.Client.Status().Patch(ctx, node, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	return node
}

func readyNode(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110"),
			},
			Allocatable: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110"),
			},
			Conditions: []corev1.NodeCondition{{
				Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
		},
	}
}
