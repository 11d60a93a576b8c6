package admission

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// cacheReader stands for the manager's cache asked with
// UnsafeDisableDeepCopy: a list of its own objects, copied into the list
// by value. The fake client would measure its own deep copies instead.
type cacheReader struct{ profiles []eksv1.FargateProfile }

func (r cacheReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return apierrors.NewNotFound(schema.GroupResource{}, "")
}

func (r cacheReader) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	l := list.(*eksv1.FargateProfileList)
	l.Items = append(l.Items[:0], r.profiles...)
	return nil
}

// BenchmarkPodHook is the handler's share of a pod create: a pod of a
// Deployment, ten profiles, the last by name matching.
func BenchmarkPodHook(b *testing.B) {
	var profiles []eksv1.FargateProfile
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "web"} {
		fp := profile(name, eksv1.FargateActive, name+"-*", "shared")
		fp.Spec.Selectors[1].Labels = map[string]string{"app.kubernetes.io/*": name + "-?"}
		profiles = append(profiles, *fp)
	}
	pods := &podHandler{checker: NewChecker(cacheReader{profiles}, subnets)}
	pod := newPod("web-prod", map[string]string{"app.kubernetes.io/name": "web", "pod-template-hash": "5d8f7c9b4"})
	pod.GenerateName = "web-5d8f7c9b4-"
	pod.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2030-01-01T00:00:00Z"}
	req := createRequest(b, pod, "web-prod")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp := pods.Handle(ctx, req); len(resp.Patch) == 0 {
			b.Fatalf("not placed: %+v", resp.Result)
		}
	}
}
