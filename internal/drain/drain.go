// Package drain is kdp's one drain: it cordons a node and evicts its pods
// through the Eviction API, so that PodDisruptionBudgets are honoured, as
// `kubectl drain` does. Controllers drain a node one Step at a time, from
// their reconciles, until it is empty: everything a drain has done is in
// the API server (the cordon, the evictions), so a drain resumes after a
// restart at any point, and the caller decides how long to wait (a
// lifecycle hook's timeout, EKS's 15 minutes). DaemonSet pods and mirror
// pods stay, as kubectl drain --ignore-daemonsets leaves them; pods with
// local storage and pods of no controller are evicted (their data and
// the pods themselves are lost, as on EKS).
package drain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// NodeNameIndex indexes Pods by spec.nodeName, so that a node's pods are
// found without listing every pod.
const NodeNameIndex = "spec.nodeName"

// IndexPods registers NodeNameIndex with the manager's cache; it must run
// before the cache starts.
func IndexPods(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &corev1.Pod{}, NodeNameIndex, func(o client.Object) []string {
		if n := o.(*corev1.Pod).Spec.NodeName; n != "" {
			return []string{n}
		}
		return nil
	})
}

// Drainer drains nodes.
type Drainer struct {
	client   client.Client
	recorder events.EventRecorder
}

// New returns a Drainer that reads pods and PodDisruptionBudgets through c
// (a manager's client, whose cache has IndexPods) and records events with
// recorder.
func New(c client.Client, recorder events.EventRecorder) *Drainer {
	return &Drainer{client: c, recorder: recorder}
}

// Request says what a drain is for: Reason (scale-in, node group
// deletion, ...) is written into events and metrics, and Group names the
// node group, if any.
type Request struct {
	Reason string
	Group  string
}

// Result is where a drain stands after a step.
type Result struct {
	// Done says no pod that must leave is left on the node.
	Done bool
	// Remaining are the pods still to leave: evicted and terminating, or
	// blocked.
	Remaining []types.NamespacedName
	// Blocked are the pods whose eviction was refused, and why.
	Blocked []Blocked
	// Evicted is how many evictions this step made.
	Evicted int
}

// Blocked is a pod whose eviction was refused.
type Blocked struct {
	Pod types.NamespacedName
	// Budget is the PodDisruptionBudget that refused it (namespace/name),
	// if one did.
	Budget string
	// Message says why, as a user reads it.
	Message string
}

// Step cordons the node (once) and asks for the eviction of every pod on
// it that must leave and is not already leaving. Call it again until Done.
func (d *Drainer) Step(ctx context.Context, node *corev1.Node, req Request) (Result, error) {
	if !node.Spec.Unschedulable {
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"unschedulable":true}}`))
		if err := d.client.Patch(ctx, node, patch); err != nil {
			return Result{}, fmt.Errorf("cordoning node %s: %w", node.Name, err)
		}
		d.recorder.Eventf(node, nil, corev1.EventTypeNormal, "Cordoned", "Drain", "Cordoned node %s to drain it (%s)", node.Name, req.Reason)
	}
	pods := &corev1.PodList{}
	if err := d.client.List(ctx, pods, client.MatchingFields{NodeNameIndex: node.Name}); err != nil {
		return Result{}, fmt.Errorf("listing the pods of node %s: %w", node.Name, err)
	}
	var r Result
	for i := range pods.Items {
		pod := &pods.Items[i]
		if stays(pod) {
			continue
		}
		key := client.ObjectKeyFromObject(pod)
		r.Remaining = append(r.Remaining, key)
		if !pod.DeletionTimestamp.IsZero() {
			continue // on its way out
		}
		blocked, err := d.evict(ctx, pod, node, req)
		switch {
		case err != nil:
			return Result{}, err
		case blocked != nil:
			r.Blocked = append(r.Blocked, *blocked)
		default:
			r.Evicted++
		}
	}
	r.Done = len(r.Remaining) == 0
	return r, nil
}

// Pods are the pods on a node that must leave and have not yet: those a
// drain evicts, and those evicted and still terminating. It reads only, so
// it also tells what a drain left on a node that has gone (its pods stay
// bound to its name until the pod garbage collector removes them).
func (d *Drainer) Pods(ctx context.Context, nodeName string) ([]types.NamespacedName, error) {
	pods := &corev1.PodList{}
	if err := d.client.List(ctx, pods, client.MatchingFields{NodeNameIndex: nodeName}); err != nil {
		return nil, fmt.Errorf("listing the pods of node %s: %w", nodeName, err)
	}
	var out []types.NamespacedName
	for i := range pods.Items {
		if !stays(&pods.Items[i]) {
			out = append(out, client.ObjectKeyFromObject(&pods.Items[i]))
		}
	}
	return out, nil
}

// stays reports whether a pod stays on a drained node: a DaemonSet's (its
// controller would put it back), a mirror pod (the kubelet's static pod),
// or one that has finished.
func stays(pod *corev1.Pod) bool {
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return true
	}
	if ref := metav1.GetControllerOf(pod); ref != nil && ref.Kind == "DaemonSet" && strings.HasPrefix(ref.APIVersion, "apps/") {
		return true
	}
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// evictionRequestTimeout bounds one eviction request, which a stopping
// kdp does not abandon.
const evictionRequestTimeout = 30 * time.Second

// evict asks for one pod's eviction. A refusal (a PodDisruptionBudget that
// allows no disruption now) is not an error: the pod is Blocked.
func (d *Drainer) evict(ctx context.Context, pod *corev1.Pod, node *corev1.Node, req Request) (*Blocked, error) {
	eviction := &policyv1.Eviction{
		ObjectMeta:    metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace},
		DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}},
	}
	// An eviction is two writes in the API server: the budget's (the pod
	// counted as disrupted), then the pod's deletion. A request abandoned
	// between them (kdp stopping mid-drain) leaves the budget counting the
	// pod as disrupted for two minutes (the disruption controller's
	// timeout) while the pod stays, refusing every other eviction; so an
	// eviction once sent is seen through, whatever becomes of ctx.
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), evictionRequestTimeout)
	defer cancel()
	err := d.client.SubResource("eviction").Create(ectx, pod, eviction)
	key := client.ObjectKeyFromObject(pod)
	switch {
	case err == nil:
		evictions.WithLabelValues(req.Reason, req.Group).Inc()
		log.FromContext(ctx).V(1).Info("evicted a pod", "pod", key, "node", node.Name, "reason", req.Reason)
		d.recorder.Eventf(pod, node, corev1.EventTypeNormal, "Evicted", "Drain", "Evicted from node %s before it goes (%s)", node.Name, req.Reason)
		return nil, nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil, nil // gone, or replaced by a pod of the same name: nothing of this one to evict
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		// Its namespace is being deleted, which refuses the eviction (a
		// new object in it) and deletes the pod itself: it is on its way
		// out, and the drain waits for it as for any other.
		return nil, nil
	case apierrors.IsTooManyRequests(err), isMultipleBudgets(err):
		b := d.blocked(ctx, pod, err)
		evictionsBlocked.WithLabelValues(req.Reason, req.Group).Inc()
		d.recorder.Eventf(node, pod, corev1.EventTypeWarning, "EvictionBlocked", "Drain", "%s (draining for %s)", b.Message, req.Reason)
		return b, nil
	}
	return nil, fmt.Errorf("evicting pod %s from node %s: %w", key, node.Name, err)
}

// budgetCause is what the API server said of the budget that refused an
// eviction ("The disruption budget web needs 2 healthy pods and has 2
// currently"), or "".
func budgetCause(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return ""
	}
	for _, c := range status.Status().Details.Causes {
		if c.Type == policyv1.DisruptionBudgetCause {
			return c.Message
		}
	}
	return ""
}

func isMultipleBudgets(err error) bool {
	return apierrors.IsInternalError(err) && strings.Contains(err.Error(), "more than one PodDisruptionBudget")
}

// blocked explains a refused eviction, naming the budget that refused it.
func (d *Drainer) blocked(ctx context.Context, pod *corev1.Pod, err error) *Blocked {
	key := client.ObjectKeyFromObject(pod)
	b := &Blocked{Pod: key}
	if isMultipleBudgets(err) {
		b.Message = fmt.Sprintf("pod %s blocks eviction: more than one PodDisruptionBudget selects it, and the Eviction API refuses such pods", key)
		return b
	}
	budgets := &policyv1.PodDisruptionBudgetList{}
	if d.client.List(ctx, budgets, client.InNamespace(pod.Namespace)) == nil {
		for _, pdb := range budgets.Items {
			sel, serr := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if serr != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
				continue
			}
			// A refusal means the budget allowed no disruption at that
			// moment, whatever the cache's copy of its status says.
			b.Budget = pdb.Namespace + "/" + pdb.Name
			b.Message = fmt.Sprintf("pod %s blocks eviction: PodDisruptionBudget %s allows 0 disruptions", key, b.Budget)
			if cause := budgetCause(err); cause != "" {
				b.Message += " (" + cause + ")"
			}
			break
		}
	}
	if b.Message == "" {
		b.Message = fmt.Sprintf("pod %s blocks eviction: %v", key, err)
	}
	return b
}
