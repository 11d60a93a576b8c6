package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

func newUpdateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "update",
		Annotations: map[string]string{annotationNamesCommand: "true"},
		Aliases:     []string{"updates"},
		Short:       "A node group's updates: list, describe (and watch) them",
	}
	cmd.AddCommand(newUpdateListCommand(), newUpdateDescribeCommand())
	return cmd
}

type updateListFlags struct {
	eksFlags
	nodegroup string
}

func newUpdateListCommand() *cobra.Command {
	f := &updateListFlags{}
	cmd := &cobra.Command{
		Use:   "list [NODEGROUP]",
		Short: "List a node group's updates, oldest first (aws eks list-updates)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, name, err := f.open(cmd, args, "nodegroup-name", f.nodegroup, "node group")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if f.output != "table" {
				ids, err := s.updateIDs(ctx, name)
				if err != nil {
					return err
				}
				return printDocument(cmd.OutOrStdout(), f.output, &types.ListUpdatesResponse{UpdateIds: ids})
			}
			updates, err := s.updates(ctx, name)
			if err != nil {
				return err
			}
			return printUpdateTable(cmd.OutOrStdout(), updates, s.clock.Now())
		},
	}
	f.add(cmd.Flags(), "table", "json", "yaml")
	nameFlag(cmd, &f.nodegroup, "nodegroup-name", "the node group", completeNodegroups)
	return cmd
}

type updateDescribeFlags struct {
	eksFlags
	waitFlags
	id, nodegroup string
}

func newUpdateDescribeCommand() *cobra.Command {
	f := &updateDescribeFlags{}
	cmd := &cobra.Command{
		Use:   "describe [UPDATE_ID]",
		Short: "Describe an update with its rollout's progress (aws eks describe-update); --wait watches it",
		Long: `Describe an update: its status, parameters and errors, and for a version update its
phase, the nodes replaced, the pods evicted and the drains in progress. The node group is
found from the id when --nodegroup-name is not given. --wait watches an update in
progress, e.g. again after Ctrl-C stopped an earlier --wait.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, id, err := f.open(cmd, args, "update-id", f.id, "update id")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			group := f.nodegroup
			if group == "" {
				if group, err = s.nodegroupOfUpdate(ctx, id); err != nil {
					return err
				}
			}
			p, err := s.svc.DescribeUpdateProgress(ctx, s.cluster, group, id)
			if err != nil {
				return explain(err, map[string]string{"updateId": "--update-id", "nodegroupName": "--nodegroup-name"})
			}
			if f.wait {
				if p.Update.Type == types.UpdateTypeVersionUpdate {
					return f.waitFlags.watch(cmd, s.watchVersionUpdate(group, id))
				}
				return f.waitFlags.watch(cmd, s.watchConfigUpdate(group, id, "config update", desiredOf(p.Update)))
			}
			return printUpdate(cmd.OutOrStdout(), f.output, p.Update, p, s.clock.Now())
		},
	}
	fs := cmd.Flags()
	f.eksFlags.add(fs, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	fs.StringVar(&f.id, "update-id", "", "the update (or give it as the argument)")
	fs.StringVar(&f.nodegroup, "nodegroup-name", "", "its node group (default: found from the id)")
	registerNameCompletion(cmd, "nodegroup-name", completeNodegroups)
	cmd.ValidArgsFunction = completeUpdates
	return cmd
}

// nodegroupOfUpdate finds the node group an update is of.
func (s *eksSession) nodegroupOfUpdate(ctx context.Context, id string) (string, error) {
	names, err := s.nodegroupNames(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		_, err := s.svc.DescribeUpdate(ctx, &types.DescribeUpdateRequest{Name: s.cluster, NodegroupName: n, UpdateId: id})
		switch {
		case err == nil:
			return n, nil
		case !eks.IsNotFound(err):
			return "", explain(err, nodegroupFlags)
		}
	}
	return "", fmt.Errorf("ResourceNotFoundException: No update found for ID: %s (in any node group of cluster %s)", id, s.cluster)
}

// desiredOf is the desired size a config update sets, -1 if it sets none.
func desiredOf(u *types.Update) int32 {
	for _, p := range u.Params {
		if p.Type == types.UpdateParamTypeDesiredSize {
			if n, err := strconv.ParseInt(p.Value, 10, 32); err == nil {
				return int32(n)
			}
		}
	}
	return -1
}
