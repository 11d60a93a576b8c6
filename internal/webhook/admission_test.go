package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kdp-project/kdp/internal/testenv"
)

// The integration tests' hooks, servers and checks of what the API server
// admits.

// What the test hooks do to ConfigMaps of the test's namespace.
const (
	refuseLabel     = "test.kdp.dev/refuse"
	refusal         = "ConfigMaps labelled " + refuseLabel + " are refused"
	addedAnnotation = "test.kdp.dev/seen-by-webhook"
)

// testHooks are a validating hook that refuses ConfigMaps carrying
// refuseLabel and a mutating one that annotates them, both for ns alone.
func testHooks(ns string) []Hook {
	rules := []admissionregistrationv1.RuleWithOperations{{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
	}}
	only := &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: ns}}
	refuse := admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
		var cm metav1.PartialObjectMetadata
		if err := json.Unmarshal(req.Object.Raw, &cm); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		if _, ok := cm.Labels[refuseLabel]; ok {
			return admission.Denied(refusal)
		}
		return admission.Allowed("")
	})
	annotate := admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
		var cm corev1.ConfigMap
		if err := json.Unmarshal(req.Object.Raw, &cm); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
		metav1.SetMetaDataAnnotation(&cm.ObjectMeta, addedAnnotation, "yes")
		raw, err := json.Marshal(&cm)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
		return admission.PatchResponseFromRaw(req.Object.Raw, raw)
	})
	return []Hook{
		{Name: "refuse.test.kdp.dev", Path: "/refuse", Rules: rules, NamespaceSelector: only, Handler: refuse},
		{Name: "annotate.test.kdp.dev", Path: "/annotate", Mutating: true, Rules: rules, NamespaceSelector: only, Handler: annotate},
	}
}

// running is a Server started for a test, until stop or the test's end.
type running struct {
	*Server
	stop func()
}

func run(t *testing.T, o Options, hooks ...Hook) *running {
	t.Helper()
	s, err := New(env.Config, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hooks {
		if err := s.Add(h); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	r := &running{Server: s, stop: sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	})}
	t.Cleanup(r.stop)
	return r
}

func (r *running) waitReady(t *testing.T) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error { return r.ReadyCheck()(nil) })
}

// removeAtEnd deletes the test's configurations when it ends.
func removeAtEnd(t *testing.T, name string) {
	t.Cleanup(func() {
		if err := Remove(context.Background(), env.Client, name); err != nil {
			t.Errorf("Remove: %v", err)
		}
	})
}

// admissionProblem is what the API server did with two ConfigMaps of ns (dry
// run): one carrying refuseLabel must be refused with the hook's message,
// another admitted with the annotation of the mutating hook. It returns
// what went otherwise.
func admissionProblem(ctx context.Context, ns string) error {
	cms := env.Clientset.CoreV1().ConfigMaps(ns)
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
	bad := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "bad-", Labels: map[string]string{refuseLabel: "yes"}}}
	_, err := cms.Create(ctx, bad, dryRun)
	if err == nil {
		return errors.New("a ConfigMap labelled " + refuseLabel + " was admitted")
	}
	if !strings.Contains(err.Error(), refusal) {
		return fmt.Errorf("a ConfigMap labelled %s: %w", refuseLabel, err)
	}
	good, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "good-"}}, dryRun)
	if err != nil {
		return fmt.Errorf("a ConfigMap without the label: %w", err)
	}
	if good.Annotations[addedAnnotation] != "yes" {
		return fmt.Errorf("a ConfigMap without the label was admitted without the mutating hook's annotation: %v", good.Annotations)
	}
	return nil
}

// handshakeProblem is what went wrong with a new TLS connection to s from
// a client that trusts roots, as an API server that has not yet seen a
// new caBundle is (in real time: the certificates on the fake clock are
// valid now).
func handshakeProblem(s *Server, roots ...*x509.Certificate) error {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	conn, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		return fmt.Errorf("TLS handshake trusting %d CAs: %w", len(roots), err)
	}
	return conn.Close()
}

// clusterBundleProblem is handshakeProblem with the caBundle the cluster
// holds now.
func clusterBundleProblem(ctx context.Context, s *Server) error {
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: s.opts.Name}, vwc); err != nil {
		return err
	}
	roots, err := parseCerts(vwc.Webhooks[0].ClientConfig.CABundle)
	if err != nil {
		return err
	}
	return handshakeProblem(s, roots...)
}

// watcher runs a check over and over, keeping every problem it sees and
// counting the checks it finished.
type watcher struct {
	checks   atomic.Int64
	problems []error
	cancel   func()
	done     chan struct{}
}

// watch starts a watcher of check.
func watch(check func(context.Context) error) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			if err := check(ctx); err != nil && ctx.Err() == nil {
				w.problems = append(w.problems, fmt.Errorf("%s: %w", time.Now().Format(time.StampMilli), err))
			}
			w.checks.Add(1)
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
	}()
	return w
}

// stop ends the watcher and returns every problem it saw.
func (w *watcher) stop() []error {
	w.cancel()
	<-w.done
	return w.problems
}

// waitChecks waits until each watcher has finished n more checks from
// now: each has then exercised what changed before the call n times.
func waitChecks(t *testing.T, n int64, watchers ...*watcher) {
	t.Helper()
	from := make([]int64, len(watchers))
	for i, w := range watchers {
		from[i] = w.checks.Load()
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		for i, w := range watchers {
			if done := w.checks.Load() - from[i]; done < n {
				return fmt.Errorf("watcher %d made %d of %d checks", i, done, n)
			}
		}
		return nil
	})
}

// settleClock waits until the server waits on clk again, its check done.
func settleClock(t *testing.T, clk *clocktesting.FakeClock) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, func() error {
		if !clk.HasWaiters() {
			return errors.New("the webhook server's check has not ended")
		}
		return nil
	})
}

// registeredCAs is how many CAs the caBundle of each configuration holds.
func registeredCAs(t *testing.T, name string) (validating, mutating int) {
	t.Helper()
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	for _, obj := range []client.Object{vwc, mwc} {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, obj); err != nil {
			t.Fatal(err)
		}
	}
	return len(parseBundle(t, vwc.Webhooks[0].ClientConfig.CABundle)), len(parseBundle(t, mwc.Webhooks[0].ClientConfig.CABundle))
}
