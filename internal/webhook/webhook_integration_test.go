package webhook

import (
	"context"
	"net"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/kdp-project/kdp/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// The API server calls both hooks over TLS with the registered CA, keeps
// doing so without a single failure while the CA is renewed and the old one
// expires, and again once the server restarts.
func TestIntegration_AdmissionThroughRotation(t *testing.T) {
	ns := env.Namespace(t)
	name := "kdp-test-" + ns
	removeAtEnd(t, name)
	// The API server checks certificates against the real time: the fake
	// clock starts where certificates of an hour issued on it, and their
	// renewals, are valid now.
	clk := clocktesting.NewFakeClock(time.Now().Add(-50 * time.Minute).Truncate(time.Second))
	o := Options{Dir: t.TempDir(), Name: name, Clock: clk, CAValidity: time.Hour, ServingValidity: time.Hour}
	first := run(t, o, testHooks(ns)...)
	first.waitReady(t)
	// The API server's informer sees the configurations a moment later.
	testenv.Eventually(t, 30*time.Second, func() error { return admissionProblem(context.Background(), ns) })
	settleClock(t, clk)
	oldCA := first.rotator.certs.ca.Cert

	// Besides the API server's own calls (whose connections may outlive a
	// renewal), new handshakes as from an API server with the bundle the
	// cluster holds at that moment, and with the old bundle.
	watchers := []*watcher{
		watch(func(ctx context.Context) error { return admissionProblem(ctx, ns) }),
		watch(func(ctx context.Context) error { return clusterBundleProblem(ctx, first.Server) }),
	}
	oldBundle := watch(func(context.Context) error { return handshakeProblem(first.Server, oldCA) })
	clk.SetTime(renewAt(oldCA, caRenewPart))
	settleClock(t, clk)
	newCA := first.rotator.certs.ca.Cert
	if newCA.Equal(oldCA) || !issuedBy(first.rotator.serving.Load().Leaf, newCA) {
		t.Fatal("CA and serving certificate not renewed")
	}
	if v, m := registeredCAs(t, name); v != 2 || m != 2 {
		t.Fatalf("caBundles after the renewal hold %d and %d CAs, want both CAs in each", v, m)
	}
	waitChecks(t, 20, append(watchers, oldBundle)...) // requests and handshakes with the new certificate
	for _, p := range oldBundle.stop() {
		t.Errorf("during the renewal, with the old caBundle: %v", p)
	}
	clk.SetTime(oldCA.NotAfter)
	settleClock(t, clk)
	if v, m := registeredCAs(t, name); v != 1 || m != 1 {
		t.Fatalf("caBundles after the old CA expired hold %d and %d CAs, want the new CA alone", v, m)
	}
	waitChecks(t, 20, watchers...)
	for _, w := range watchers {
		for _, p := range w.stop() {
			t.Errorf("during the rotation: %v", p)
		}
	}

	// On the same port, as kdp's reserved one would be.
	first.stop()
	o.Port = first.Addr().(*net.TCPAddr).Port
	second := run(t, o, testHooks(ns)...)
	second.waitReady(t)
	if !second.rotator.certs.ca.Cert.Equal(newCA) {
		t.Error("the restarted server made a new CA")
	}
	testenv.Eventually(t, 30*time.Second, func() error { return admissionProblem(context.Background(), ns) })

	second.stop()
	if err := Remove(context.Background(), env.Client, name); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []client.Object{&admissionregistrationv1.ValidatingWebhookConfiguration{}, &admissionregistrationv1.MutatingWebhookConfiguration{}} {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%s after Remove: %v, want not found", kindOf(obj), err)
		}
	}
}

// A server without mutating hooks has no MutatingWebhookConfiguration: it
// deletes the one an earlier start with such hooks left.
func TestIntegration_OnlyTheConfigurationsOfItsHooks(t *testing.T) {
	ns := env.Namespace(t)
	name := "kdp-test-" + ns
	removeAtEnd(t, name)
	o := Options{Dir: t.TempDir(), Name: name}
	hooks := testHooks(ns)
	both := run(t, o, hooks...)
	both.waitReady(t)
	both.stop()

	validatingOnly := run(t, o, hooks[0])
	validatingOnly.waitReady(t)
	err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, &admissionregistrationv1.MutatingWebhookConfiguration{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("MutatingWebhookConfiguration of a server without mutating hooks: %v, want not found", err)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, &admissionregistrationv1.ValidatingWebhookConfiguration{}); err != nil {
		t.Fatal(err)
	}
}

// A configuration of the server's name that is not kdp's is neither
// updated nor removed, and the server does not report ready.
func TestIntegration_LeavesOthersConfigurations(t *testing.T) {
	ns := env.Namespace(t)
	name := "kdp-test-" + ns
	theirs := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}
	ctx := testenv.Context(t)
	if err := env.Client.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), theirs) })

	clk := clocktesting.NewFakeClock(time.Now())
	s := run(t, Options{Dir: t.TempDir(), Name: name, Clock: clk}, testHooks(ns)...)
	settleClock(t, clk) // its first check, which fails, is done
	if err := s.ReadyCheck()(nil); err == nil {
		t.Error("ready although it could not register its configurations")
	}
	if err := Remove(ctx, env.Client, name); err != nil {
		t.Fatal(err)
	}
	got := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, got); err != nil {
		t.Fatalf("the other configuration: %v", err)
	}
	if len(got.Webhooks) != 0 || got.ResourceVersion != theirs.ResourceVersion {
		t.Errorf("the other configuration was changed: %d webhooks, resourceVersion %s (was %s)", len(got.Webhooks), got.ResourceVersion, theirs.ResourceVersion)
	}
}

// Run by a manager that never becomes the leader (another process holds
// its Lease), the server serves and registers all the same: every replica
// does.
func TestIntegration_WithManagerNotLeader(t *testing.T) {
	ns := env.Namespace(t)
	name := "kdp-test-" + ns
	removeAtEnd(t, name)
	ctx := testenv.Context(t)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To("another-kdp"),
			LeaseDurationSeconds: ptr.To[int32](3600),
			AcquireTime:          &metav1.MicroTime{Time: time.Now()},
			RenewTime:            &metav1.MicroTime{Time: time.Now()},
		},
	}
	if err := env.Client.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		LeaderElection:          true,
		LeaderElectionID:        name,
		LeaderElectionNamespace: ns,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(mgr.GetConfig(), Options{Dir: t.TempDir(), Name: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range testHooks(ns) {
		if err := s.Add(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddToManager(mgr); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	mgrCtx, stop := context.WithCancel(ctx)
	go func() { done <- mgr.Start(mgrCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	testenv.Eventually(t, 30*time.Second, func() error { return s.ReadyCheck()(nil) })
	testenv.Eventually(t, 30*time.Second, func() error { return admissionProblem(ctx, ns) })
	select {
	case <-mgr.Elected():
		t.Error("the manager became the leader although another holds its Lease")
	default:
	}
}
