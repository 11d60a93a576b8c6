package kubelet

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// waitForCertificate reads the CSR from kdp's shared cache until it is
// signed, woken by the cache's updates, instead of a watch per joining node
// (the API server's cost of a thousand watches is the simulator's, not the
// kubelets').
func (k *Controller) waitForCertificate(ctx context.Context, name string, uid types.UID) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	defer k.signed.forget(name)
	for {
		updated := k.signed.wait(name) // before reading, so no update is missed
		req := &certificatesv1.CertificateSigningRequest{}
		err := k.client.Get(ctx, client.ObjectKey{Name: name}, req)
		switch {
		case err == nil && req.UID != uid:
			return nil, fmt.Errorf("CSR %s was replaced", name)
		case err == nil:
			for _, c := range req.Status.Conditions {
				if (c.Type == certificatesv1.CertificateDenied || c.Type == certificatesv1.CertificateFailed) && c.Status == corev1.ConditionTrue {
					return nil, fmt.Errorf("CSR %s %s: %s", name, c.Type, c.Message)
				}
			}
			if len(req.Status.Certificate) > 0 {
				return req.Status.Certificate, nil
			}
		case !apierrors.IsNotFound(err): // not yet in the cache is fine
			return nil, err
		}
		select {
		case <-updated:
		case <-time.After(time.Second): // the CSR's creation, which no update announces
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// waiters wakes goroutines waiting on a named object.
type waiters struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// wait returns a channel closed at the next notify of name.
func (w *waiters) wait(name string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]chan struct{}{}
	}
	ch, ok := w.m[name]
	if !ok {
		ch = make(chan struct{})
		w.m[name] = ch
	}
	return ch
}

func (w *waiters) notify(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.m[name]; ok {
		close(ch)
		delete(w.m, name)
	}
}

func (w *waiters) forget(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, name)
}

// register creates the Node as the node itself and returns its UID; a Node
// of that name already registered by this instance (before a restart of
// kdp) will do, another instance's will not. The
// node's client gets a transport of its own, outside client-go's transport
// cache (which would keep one per node certificate forever), closed once
// the Node exists.
func register(ctx context.Context, cfg *rest.Config, node *corev1.Node, instance string) (types.UID, error) {
	cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	cfg.ContentType = runtime.ContentTypeProtobuf // as the kubelet talks
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", err
	}
	defer hc.CloseIdleConnections()
	cs, err := corev1client.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return "", err
	}
	created, err := cs.Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) { // registered before a restart
		created, err = cs.Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err == nil && InstanceID(created) != instance {
			return "", fmt.Errorf("node %s is still instance %s's", node.Name, InstanceID(created)) // retried until it goes
		}
	}
	if err != nil {
		return "", err
	}
	return created.UID, nil
}
