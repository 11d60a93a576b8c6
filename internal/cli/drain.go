package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/drain"
)

type drainFlags struct {
	clusterFlags
	timeout            time.Duration
	force              bool
	deleteEmptyDirData bool
	gracePeriod        int
}

// newDrainCommand is `kubectl drain` for self-managed nodes, on kubectl's
// own drain library: cordon, then evict every pod through the Eviction API,
// so PodDisruptionBudgets are honoured (a refused eviction is retried until
// --timeout).
func newDrainCommand() *cobra.Command {
	f := &drainFlags{}
	cmd := &cobra.Command{
		Use:   "drain NODE",
		Short: "Cordon a node and evict its pods, honouring PodDisruptionBudgets (like kubectl drain)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDrain(cmd, f, args[0], cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long (0: wait forever)")
	cmd.Flags().BoolVar(&f.force, "force", false, "also delete pods that no controller manages (they are not recreated)")
	cmd.Flags().BoolVar(&f.deleteEmptyDirData, "delete-emptydir-data", false, "also evict pods with emptyDir volumes (their data is lost)")
	cmd.Flags().IntVar(&f.gracePeriod, "grace-period", -1, "seconds each pod gets to stop (-1: the pod's own terminationGracePeriodSeconds)")
	return cmd
}

func runDrain(cmd *cobra.Command, f *drainFlags, nodeName string, out io.Writer) error {
	if f.timeout < 0 {
		return fmt.Errorf("--timeout %s: must not be negative", f.timeout)
	}
	c, err := f.connect()
	if err != nil {
		return err
	}
	node, err := c.clientset.CoreV1().Nodes().Get(cmd.Context(), nodeName, metav1.GetOptions{})
	if err != nil {
		return err
	}
	start := time.Now()
	h := &drain.Helper{
		Ctx: cmd.Context(), Client: c.clientset, Force: f.force, GracePeriodSeconds: f.gracePeriod,
		IgnoreAllDaemonSets: true, Timeout: f.timeout, DeleteEmptyDirData: f.deleteEmptyDirData,
		Out: out, ErrOut: cmd.ErrOrStderr(),
		OnPodDeletionOrEvictionFinished: func(pod *corev1.Pod, usingEviction bool, err error) {
			if err == nil {
				fmt.Fprintf(out, "  evicted %s/%s (%.1fs)\n", pod.Namespace, pod.Name, time.Since(start).Seconds())
			}
		},
	}
	if err := drain.RunCordonOrUncordon(h, node, true); err != nil {
		return fmt.Errorf("cordoning %s: %w", nodeName, err)
	}
	fmt.Fprintf(out, "node %s cordoned\n", nodeName)
	if err := drain.RunNodeDrain(h, nodeName); err != nil {
		return fmt.Errorf("draining %s (still cordoned): %w", nodeName, err)
	}
	_, err = fmt.Fprintf(out, "node %s drained in %.1fs\n", nodeName, time.Since(start).Seconds())
	return err
}
