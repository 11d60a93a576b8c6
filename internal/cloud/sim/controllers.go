package sim

import (
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
)

// controllerOptions are shared by the simulator's controllers: many
// workers, since each reconcile is a handful of local API calls and
// thousands of instances may launch at once.
func controllerOptions() controller.Options {
	return controller.Options{MaxConcurrentReconciles: 16}
}

// kubeletOptions let many more kubelets join at once: a join spends most of
// its time waiting on the API server (its CSR approved and signed, five
// writes of ~100 ms each while a thousand nodes join), so, as on real
// machines, many booted kubelets have their requests in at once. Past 64
// the join is no faster (256 measured the same): the writes queue in etcd.
func kubeletOptions() controller.Options {
	return controller.Options{MaxConcurrentReconciles: 64}
}

// instanceUpdate is an update predicate on instances: changed decides
// whether the update matters; an object that is not an instance passes.
func instanceUpdate(changed func(old, cur *simv1.Instance) bool) func(event.UpdateEvent) bool {
	return func(e event.UpdateEvent) bool {
		old, oldOK := e.ObjectOld.(*simv1.Instance)
		cur, curOK := e.ObjectNew.(*simv1.Instance)
		return !oldOK || !curOK || changed(old, cur)
	}
}
