package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/join"
)

func newNodesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "nodes",
		Annotations: map[string]string{annotationNamesCommand: "true"},
		Short:       "List and describe the cluster's nodes; tools for self-managed nodes: join credentials, drain, version skew",
		Long:        nodesLong + "\n\nWithout a subcommand, kdp nodes lists the nodes, as kdp nodes list does.",
		Args:        cobra.NoArgs,
	}
	listNodesRunE(cmd)
	cmd.AddCommand(newNodesListCommand(), newNodesDescribeCommand(), newJoinConfigCommand(), newDrainCommand(), newVersionsCommand())
	return cmd
}

type joinConfigFlags struct {
	clusterFlags
	ttl    time.Duration
	labels string
	taints string
}

func newJoinConfigCommand() *cobra.Command {
	f := &joinConfigFlags{}
	cmd := &cobra.Command{
		Use:   "join-config",
		Short: "Issue a bootstrap token and print the NodeConfig user data a node joins with",
		Long: `Issue a bootstrap token (a bootstrap-token-<id> Secret in kube-system, expiring after --ttl)
and print the NodeConfig (YAML) a node needs to join: the API endpoint, the cluster CA,
the token, and the labels and taints the node registers with. Give it to a launch
template as user data (kdp sim launch-template create --user-data FILE).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runJoinConfig(cmd, f, cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().DurationVar(&f.ttl, "ttl", 24*time.Hour, "how long the token is valid")
	cmd.Flags().StringVar(&f.labels, "labels", "", "labels the node registers with: k=v,k2=v2")
	cmd.Flags().StringVar(&f.taints, "taints", "", "taints the node registers with: k=v:NoSchedule,k2:NoExecute")
	return cmd
}

func runJoinConfig(cmd *cobra.Command, f *joinConfigFlags, out io.Writer) error {
	labels, err := join.ParseLabels(f.labels)
	if err != nil {
		return fmt.Errorf("--labels: %w", err)
	}
	taints, err := join.ParseTaints(f.taints)
	if err != nil {
		return fmt.Errorf("--taints: %w", err)
	}
	if f.ttl <= 0 {
		return fmt.Errorf("--ttl %s: must be positive", f.ttl)
	}
	c, err := f.connect()
	if err != nil {
		return err
	}
	// The kubeconfig may name its CA by file: nodes need the data.
	if err := rest.LoadTLSFiles(c.config); err != nil {
		return fmt.Errorf("--kubeconfig: %w", err)
	}
	if len(c.config.CAData) == 0 {
		return fmt.Errorf("--kubeconfig: the cluster has no certificate authority, which nodes need to trust the API server")
	}
	nc, err := join.Issue(cmd.Context(), c.clientset, clock.RealClock{}.Now(), join.Options{
		ClusterName: c.clusterName, Server: c.config.Host, CA: c.config.CAData, ServiceCIDR: cluster.ServiceCIDR,
		TTL: f.ttl, Labels: labels, Taints: taints, Description: "kdp nodes join-config",
	})
	if err != nil {
		return err
	}
	data, err := nc.Render()
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}
