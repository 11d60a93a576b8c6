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
