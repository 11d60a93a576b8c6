package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
)

// MaxKubeletSkew is how many minor versions a kubelet may trail the control
// plane (Kubernetes ≥ 1.28; see ../shared/docs/eks-data-plane.md §3.3). It
// may never be newer.
const MaxKubeletSkew = 3

// Skew checks a kubelet's version against the control plane's and returns
// how many minors it trails and whether that is supported, with why not.
func Skew(server, kubelet string) (minors int, ok bool, why string, err error) {
	s, err := version.ParseGeneric(server)
	if err != nil {
		return 0, false, "", fmt.Errorf("control plane version %q: %w", server, err)
	}
	k, err := version.ParseGeneric(kubelet)
	if err != nil {
		return 0, false, "", fmt.Errorf("kubelet version %q: %w", kubelet, err)
	}
	minors = int(s.Minor()) - int(k.Minor())
	switch {
	case k.Major() != s.Major():
		return minors, false, "different major version", nil
	case minors < 0:
		return minors, false, "newer than the control plane", nil
	case minors > MaxKubeletSkew:
		return minors, false, fmt.Sprintf("more than %d minors behind the control plane", MaxKubeletSkew), nil
	}
	return minors, true, "", nil
}

func newVersionsCommand() *cobra.Command {
	f := &clusterFlags{}
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "Report every node's kubelet version against the control plane's, flagging unsupported skew",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.connect()
			if err != nil {
				return err
			}
			sv, err := c.clientset.Discovery().ServerVersion()
			if err != nil {
				return err
			}
			nodes, err := c.clientset.CoreV1().Nodes().List(cmd.Context(), metav1.ListOptions{})
			if err != nil {
				return err
			}
			return printVersions(cmd.OutOrStdout(), sv.GitVersion, nodes.Items)
		},
	}
	f.add(cmd.Flags())
	return cmd
}

func printVersions(out io.Writer, server string, nodes []corev1.Node) error {
	var rows [][]string
	outside := 0
	for _, n := range nodes {
		kubelet := n.Status.NodeInfo.KubeletVersion
		minors, ok, why, err := Skew(server, kubelet)
		status := "ok"
		switch {
		case err != nil:
			status, outside = "unknown: "+err.Error(), outside+1
		case !ok:
			status, outside = "UNSUPPORTED: "+why, outside+1
		}
		rows = append(rows, []string{n.Name, kubelet, fmt.Sprint(minors), status})
	}
	fmt.Fprintf(out, "control plane %s; kubelets may trail it by up to %d minors, never lead it\n", server, MaxKubeletSkew)
	if err := table(out, "NODE\tKUBELET\tMINORS BEHIND\tSKEW", rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d nodes, %d outside the supported skew\n", len(nodes), outside)
	return err
}
