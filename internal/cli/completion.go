package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Shell completion (cobra's `kdp completion bash|zsh|fish|powershell`)
// completes node group, Fargate profile and update names from the live
// cluster, through the same library the commands use.

// completionTimeout bounds a completion's look-up: a shell waits for it.
const completionTimeout = 3 * time.Second

type completer func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective)

// registerNameCompletion completes a name flag with fn (no completion
// when fn is nil: a name to create).
func registerNameCompletion(cmd *cobra.Command, flag string, fn completer) {
	if fn == nil {
		fn = cobra.NoFileCompletions
	}
	_ = cmd.RegisterFlagCompletionFunc(flag, fn)
}

// completionSession opens the library with the command's own flags
// (--data-dir, --kubeconfig, --cluster-name), as the command would.
func completionSession(cmd *cobra.Command) (*eksSession, context.Context, context.CancelFunc, bool) {
	f := &eksFlags{}
	fs := cmd.Flags()
	f.flags = fs
	f.dataDir, _ = fs.GetString("data-dir")
	f.kubeconfig, _ = fs.GetString("kubeconfig")
	f.clusterName, _ = fs.GetString("cluster-name")
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	s, err := f.session(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, false
	}
	return s, ctx, cancel, true
}

func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// completeNames completes a command's one name with those list answers.
func completeNames(list func(*eksSession, context.Context) ([]string, error)) completer {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp // one name only
		}
		s, ctx, cancel, ok := completionSession(cmd)
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer cancel()
		names, err := list(s, ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNodegroups and completeFargateProfiles complete with the
// cluster's node groups and Fargate profiles.
var (
	completeNodegroups      = completeNames((*eksSession).nodegroupNames)
	completeFargateProfiles = completeNames((*eksSession).fargateProfileNames)
)

// completeUpdates completes an update id with the updates of
// --nodegroup-name, or of every node group, each described by its group,
// type and status.
func completeUpdates(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, ctx, cancel, ok := completionSession(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	groups := []string{}
	if g, _ := cmd.Flags().GetString("nodegroup-name"); g != "" {
		groups = append(groups, g)
	} else if names, err := s.nodegroupNames(ctx); err == nil {
		groups = names
	}
	var out []string
	for _, g := range groups {
		updates, err := s.updates(ctx, g)
		if err != nil {
			continue
		}
		for _, u := range updates {
			if strings.HasPrefix(u.Id, toComplete) {
				out = append(out, u.Id+"\t"+g+" "+string(u.Type)+" "+string(u.Status))
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeNodes completes a node's name with the cluster's nodes.
func completeNodes(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	f := &clusterFlags{flags: cmd.Flags()}
	f.dataDir, _ = cmd.Flags().GetString("data-dir")
	f.kubeconfig, _ = cmd.Flags().GetString("kubeconfig")
	c, err := f.connect()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	nodes, err := c.clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names := make([]string, 0, len(nodes.Items))
	for _, n := range nodes.Items {
		names = append(names, n.Name)
	}
	return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}
