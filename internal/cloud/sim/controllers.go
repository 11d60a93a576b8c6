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
// its time waiting for kube-controller-manager (five workers) to approve and
// sign its CSR, so, as on real machines, every booted kubelet has its
// request in; 256 in flight keep that queue full without a goroutine per
// instance.
func kubeletOptions() controller.Options {
	return controller.Options{MaxConcurrentReconciles: 256}
}
