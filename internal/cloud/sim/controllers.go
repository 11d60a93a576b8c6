package sim

import (
	"sigs.k8s.io/controller-runtime/pkg/controller"
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
