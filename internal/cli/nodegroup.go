package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"k8s.io/utils/ptr"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/shorthand"
)

// nodegroupFlags are the flags of node group requests' members, as the
// aws CLI names them (aws eks create-nodegroup, update-nodegroup-config,
// update-nodegroup-version): an error about a member names its flag.
var nodegroupFlags = map[string]string{
	"nodegroupName": "--nodegroup-name", "scalingConfig": "--scaling-config", "subnets": "--subnets",
	"instanceTypes": "--instance-types", "amiType": "--ami-type", "capacityType": "--capacity-type",
	"diskSize": "--disk-size", "labels": "--labels", "taints": "--taints", "tags": "--tags",
	"nodeRole": "--node-role", "releaseVersion": "--release-version", "version": "--kubernetes-version",
	"updateConfig": "--update-config", "launchTemplate": "--launch-template", "remoteAccess": "--remote-access",
	"nodeRepairConfig": "--node-repair-config", "clientRequestToken": "--client-request-token", "force": "--force",
}

func newNodegroupCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "nodegroup",
		Annotations: map[string]string{annotationNamesCommand: "true"},
		Aliases:     []string{"nodegroups", "ng"},
		Short:       "Managed node groups: create, list, describe, scale, update-config, upgrade, delete",
		Long: `Managed node groups through kdp's EKS library, with the flags of aws eks
(--nodegroup-name, --scaling-config minSize=1,maxSize=3,desiredSize=2, --labels k=v,
--taints key=k,value=v,effect=NO_SCHEDULE, ...). Tables by default; -o json|yaml prints
the EKS API's documents (times in RFC 3339). Long operations take --wait.`,
	}
	cmd.AddCommand(newNodegroupCreateCommand(), newNodegroupListCommand(), newNodegroupDescribeCommand(),
		newNodegroupScaleCommand(), newNodegroupUpdateConfigCommand(), newNodegroupUpgradeCommand(), newNodegroupDeleteCommand())
	return cmd
}

// structFlag parses a structure flag's shorthand or JSON into out, naming
// the flag in its error.
func structFlag(flag, value string, out any) error {
	if value == "" {
		return nil
	}
	if err := shorthand.Parse(value, out); err != nil {
		return fmt.Errorf("--%s: %w", flag, err)
	}
	return nil
}

// flagTarget is a structure flag and the request member it fills.
type flagTarget struct {
	flag string
	dst  any
}

// structFlags parses the structure flags given on cmd, in order, adding
// every problem to errs.
func structFlags(cmd *cobra.Command, errs []string, targets ...flagTarget) []string {
	for _, t := range targets {
		if err := structFlag(t.flag, cmd.Flags().Lookup(t.flag).Value.String(), t.dst); err != nil {
			errs = append(errs, err.Error())
		}
	}
	return errs
}

type nodegroupCreateFlags struct {
	eksFlags
	waitFlags
	name, scaling, labels, tags, updateConfig, launchTemplate, remoteAccess, nodeRepair string
	taints, subnets, instanceTypes                                                      []string
	amiType, capacityType, nodeRole, release, version, token                            string
	diskSize                                                                            int32
}

func newNodegroupCreateCommand() *cobra.Command {
	f := &nodegroupCreateFlags{}
	cmd := &cobra.Command{
		Use:   "create [NAME]",
		Short: "Create a managed node group (aws eks create-nodegroup)",
		Long: `Create a managed node group. The aws CLI's required flags have defaults here:
--subnets every private subnet of the cloud, --node-role arn:aws:iam::ACCOUNT:role/KdpNodeRole,
--scaling-config minSize=1,maxSize=2,desiredSize=2 (EKS's own default), --instance-types t3.medium.
With --wait, watch the group until it is ACTIVE (exit 0) or CREATE_FAILED (exit 1).`,
		Example: `  kdp nodegroup create web --scaling-config minSize=1,maxSize=3,desiredSize=2 --instance-types m5.large --wait
  kdp nodegroup create gpu --labels team=ml --taints key=gpu,value=true,effect=NO_SCHEDULE --capacity-type SPOT`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNodegroupCreate(cmd, args, f)
		},
	}
	fs := cmd.Flags()
	f.eksFlags.add(fs, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	fs.StringVar(&f.name, "nodegroup-name", "", "the node group's name (or give it as the argument)")
	fs.StringVar(&f.scaling, "scaling-config", "", "minSize=N,maxSize=N,desiredSize=N")
	fs.StringSliceVar(&f.subnets, "subnets", nil, "subnet ids, comma-separated or repeated (default: every private subnet)")
	fs.StringSliceVar(&f.instanceTypes, "instance-types", nil, "instance types, comma-separated or repeated (default t3.medium)")
	fs.StringVar(&f.amiType, "ami-type", "", "AL2023_x86_64_STANDARD, AL2023_ARM_64_STANDARD, BOTTLEROCKET_x86_64, ... (default from the instance types)")
	fs.StringVar(&f.capacityType, "capacity-type", "", "ON_DEMAND (default) or SPOT")
	fs.Int32Var(&f.diskSize, "disk-size", 0, "root volume size in GiB (default 20)")
	fs.StringVar(&f.labels, "labels", "", "Kubernetes labels of the nodes: k=v,k2=v2")
	fs.StringArrayVar(&f.taints, "taints", nil, "a taint of the nodes, repeated: key=k,value=v,effect=NO_SCHEDULE|NO_EXECUTE|PREFER_NO_SCHEDULE")
	fs.StringVar(&f.tags, "tags", "", "tags of the node group: k=v,k2=v2")
	fs.StringVar(&f.nodeRole, "node-role", "", "the nodes' IAM role ARN (default arn:aws:iam::ACCOUNT:role/KdpNodeRole)")
	fs.StringVar(&f.release, "release-version", "", "the image release (default the newest for the version)")
	fs.StringVar(&f.version, "kubernetes-version", "", "the nodes' Kubernetes version (default the cluster's)")
	fs.StringVar(&f.updateConfig, "update-config", "", "maxUnavailable=N or maxUnavailablePercentage=N, updateStrategy=DEFAULT|MINIMAL")
	fs.StringVar(&f.launchTemplate, "launch-template", "", "name=NAME,version=V or id=ID,version=V")
	fs.StringVar(&f.remoteAccess, "remote-access", "", "ec2SshKey=KEY,sourceSecurityGroups=sg-1")
	fs.StringVar(&f.nodeRepair, "node-repair-config", "", "enabled=true")
	fs.StringVar(&f.token, "client-request-token", "", "idempotency token (default: a new one)")
	registerNameCompletion(cmd, "nodegroup-name", nil)
	return cmd
}

func runNodegroupCreate(cmd *cobra.Command, args []string, f *nodegroupCreateFlags) error {
	name, err := nameArg(args, "nodegroup-name", f.name, "node group")
	if err != nil {
		return err
	}
	in := &types.CreateNodegroupRequest{
		NodegroupName: name, Subnets: f.subnets, InstanceTypes: f.instanceTypes, AmiType: types.AMITypes(f.amiType),
		CapacityType: types.CapacityTypes(f.capacityType), NodeRole: f.nodeRole, ReleaseVersion: f.release,
		Version: f.version, ClientRequestToken: f.token,
	}
	if cmd.Flags().Changed("disk-size") {
		in.DiskSize = &f.diskSize
	}
	var errs []string
	errs = structFlags(cmd, errs, flagTarget{"scaling-config", &in.ScalingConfig}, flagTarget{"update-config", &in.UpdateConfig},
		flagTarget{"launch-template", &in.LaunchTemplate}, flagTarget{"remote-access", &in.RemoteAccess},
		flagTarget{"node-repair-config", &in.NodeRepairConfig}, flagTarget{"labels", &in.Labels}, flagTarget{"tags", &in.Tags})
	for _, t := range f.taints {
		// One taint, or a JSON list of them.
		var taints []types.Taint
		if err := structFlag("taints", t, &taints); err != nil {
			errs = append(errs, err.Error())
		}
		in.Taints = append(in.Taints, taints...)
	}
	if len(errs) > 0 {
		return failed(errs...)
	}
	ctx := cmd.Context()
	s, err := f.session(ctx)
	if err != nil {
		return err
	}
	in.ClusterName = s.cluster
	if err := s.defaultNodegroup(ctx, in); err != nil {
		return err
	}
	out, err := s.svc.CreateNodegroup(ctx, in)
	if err != nil {
		return explain(err, nodegroupFlags)
	}
	if f.wait {
		return f.waitFlags.watch(cmd, s.watchNodegroup(name, "creation", types.NodegroupStatusActive))
	}
	return printNodegroup(cmd.OutOrStdout(), f.output, out, out.Nodegroup, s.clock.Now())
}

// defaultNodegroup fills what the aws CLI requires and kdp can choose:
// the cloud's private subnets, a node role in the account, EKS's default
// size and instance type.
func (s *eksSession) defaultNodegroup(ctx context.Context, in *types.CreateNodegroupRequest) error {
	if len(in.Subnets) == 0 {
		subnets, err := s.privateSubnets(ctx)
		if err != nil {
			return err
		}
		in.Subnets = subnets
	}
	if in.NodeRole == "" {
		in.NodeRole = "arn:aws:iam::" + s.account.ID + ":role/KdpNodeRole"
	}
	if in.ScalingConfig == nil {
		two, one := int32(2), int32(1)
		in.ScalingConfig = &types.NodegroupScalingConfig{MinSize: &one, MaxSize: &two, DesiredSize: &two}
	}
	if len(in.InstanceTypes) == 0 && in.LaunchTemplate == nil {
		in.InstanceTypes = []string{"t3.medium"}
	}
	if in.ClientRequestToken == "" {
		in.ClientRequestToken = uuid.NewString()
	}
	return nil
}

// privateSubnets are the ids of the cloud's private subnets, sorted.
func (s *eksSession) privateSubnets(ctx context.Context) ([]string, error) {
	return privateSubnetIDs(ctx, s.cloud)
}

// privateSubnetIDs are the ids of the cloud's private subnets, sorted.
func privateSubnetIDs(ctx context.Context, p cloud.Provider) ([]string, error) {
	all, err := p.Subnets(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the cloud's subnets: %w", err)
	}
	var out []string
	for _, sn := range all {
		if !sn.Public {
			out = append(out, sn.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

type nodegroupListFlags struct{ eksFlags }

func newNodegroupListCommand() *cobra.Command {
	f := &nodegroupListFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the cluster's managed node groups (aws eks list-nodegroups)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := f.session(ctx)
			if err != nil {
				return err
			}
			names, err := s.nodegroupNames(ctx)
			if err != nil {
				return err
			}
			if f.output != "table" {
				return printDocument(cmd.OutOrStdout(), f.output, &types.ListNodegroupsResponse{Nodegroups: names})
			}
			groups, err := describeEach(names, func(n string) (*eks.NodegroupProgress, error) {
				return s.svc.DescribeNodegroupProgress(ctx, s.cluster, n)
			})
			if err != nil {
				return explain(err, nodegroupFlags)
			}
			return printNodegroupTable(cmd.OutOrStdout(), groups, s.clock.Now())
		},
	}
	f.add(cmd.Flags(), "table", "json", "yaml")
	return cmd
}

// nodegroupNames are every node group's name, all pages.
func (s *eksSession) nodegroupNames(ctx context.Context) ([]string, error) {
	return allPages(func(token string) ([]string, string, error) {
		out, err := s.svc.ListNodegroups(ctx, &types.ListNodegroupsRequest{ClusterName: s.cluster, MaxResults: ptrTo[int32](100), NextToken: token})
		if err != nil {
			return nil, "", explain(err, nodegroupFlags)
		}
		return out.Nodegroups, out.NextToken, nil
	})
}

func ptrTo[T any](v T) *T { return &v }

type nodegroupDescribeFlags struct {
	eksFlags
	name string
}

func newNodegroupDescribeCommand() *cobra.Command {
	f := &nodegroupDescribeFlags{}
	cmd := &cobra.Command{
		Use:   "describe [NAME]",
		Short: "Describe a managed node group (aws eks describe-nodegroup), with its nodes and recent updates",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, name, err := f.open(cmd, args, "nodegroup-name", f.name, "node group")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			p, err := s.svc.DescribeNodegroupProgress(ctx, s.cluster, name)
			if err != nil {
				return explain(err, nodegroupFlags)
			}
			if f.output != "table" {
				return printDocument(cmd.OutOrStdout(), f.output, &types.DescribeNodegroupResponse{Nodegroup: p.Nodegroup})
			}
			updates, err := s.updates(ctx, name)
			if err != nil {
				return err
			}
			return printNodegroupDescription(cmd.OutOrStdout(), p, updates, s.clock.Now())
		},
	}
	f.add(cmd.Flags(), "table", "json", "yaml")
	nameFlag(cmd, &f.name, "nodegroup-name", "the node group", completeNodegroups)
	return cmd
}

// updateIDs are a group's update ids, oldest first, all pages.
func (s *eksSession) updateIDs(ctx context.Context, nodegroup string) ([]string, error) {
	return allPages(func(token string) ([]string, string, error) {
		out, err := s.svc.ListUpdates(ctx, &types.ListUpdatesRequest{Name: s.cluster, NodegroupName: nodegroup, MaxResults: ptrTo[int32](100), NextToken: token})
		if err != nil {
			return nil, "", explain(err, nodegroupFlags)
		}
		return out.UpdateIds, out.NextToken, nil
	})
}

// updates are a group's updates, oldest first.
func (s *eksSession) updates(ctx context.Context, nodegroup string) ([]*types.Update, error) {
	ids, err := s.updateIDs(ctx, nodegroup)
	if err != nil {
		return nil, err
	}
	updates, err := describeEach(ids, func(id string) (*types.Update, error) {
		u, err := s.svc.DescribeUpdate(ctx, &types.DescribeUpdateRequest{Name: s.cluster, NodegroupName: nodegroup, UpdateId: id})
		if err != nil {
			return nil, err
		}
		return u.Update, nil
	})
	return updates, explain(err, nodegroupFlags)
}

type nodegroupScaleFlags struct {
	eksFlags
	waitFlags
	name                string
	desired, minN, maxN int32
}

func newNodegroupScaleCommand() *cobra.Command {
	f := &nodegroupScaleFlags{}
	cmd := &cobra.Command{
		Use:   "scale [NAME] --desired N",
		Short: "Change a node group's size (update-nodegroup-config --scaling-config, in short)",
		Long: `Change a node group's desired size, and its minimum and maximum if given; what is
not given stays. To zero too: --min 0 --desired 0. With --wait, watch until the update is
Successful and the group has its desired nodes Ready (scale-in drains nodes first).`,
		Example: "  kdp nodegroup scale web --desired 5 --max 6 --wait",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNodegroupScale(cmd, args, f)
		},
	}
	fs := cmd.Flags()
	f.eksFlags.add(fs, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	fs.StringVar(&f.name, "nodegroup-name", "", "the node group (or give it as the argument)")
	fs.Int32Var(&f.desired, "desired", 0, "the desired size (desiredSize)")
	fs.Int32Var(&f.minN, "min", 0, "the minimum size (minSize)")
	fs.Int32Var(&f.maxN, "max", 0, "the maximum size (maxSize)")
	registerNameCompletion(cmd, "nodegroup-name", completeNodegroups)
	cmd.ValidArgsFunction = completeNodegroups
	return cmd
}

func runNodegroupScale(cmd *cobra.Command, args []string, f *nodegroupScaleFlags) error {
	name, err := nameArg(args, "nodegroup-name", f.name, "node group")
	if err != nil {
		return err
	}
	fs := cmd.Flags()
	if !fs.Changed("desired") && !fs.Changed("min") && !fs.Changed("max") {
		return fmt.Errorf("give --desired, --min or --max")
	}
	ctx := cmd.Context()
	s, err := f.session(ctx)
	if err != nil {
		return err
	}
	cur, err := s.svc.DescribeNodegroup(ctx, &types.DescribeNodegroupRequest{ClusterName: s.cluster, NodegroupName: name})
	if err != nil {
		return explain(err, nodegroupFlags)
	}
	sc := types.NodegroupScalingConfig{}
	if c := cur.Nodegroup.ScalingConfig; c != nil {
		sc = *c
	}
	for flag, dst := range map[string]**int32{"desired": &sc.DesiredSize, "min": &sc.MinSize, "max": &sc.MaxSize} {
		if fs.Changed(flag) {
			v, _ := fs.GetInt32(flag)
			*dst = &v
		}
	}
	out, err := s.svc.UpdateNodegroupConfig(ctx, &types.UpdateNodegroupConfigRequest{
		ClusterName: s.cluster, NodegroupName: name, ScalingConfig: &sc, ClientRequestToken: uuid.NewString()})
	if err != nil {
		return explain(err, scaleFlags)
	}
	if f.wait {
		return f.waitFlags.watch(cmd, s.watchConfigUpdate(name, out.Update.Id, "scaling", ptr.Deref(sc.DesiredSize, -1)))
	}
	return printUpdate(cmd.OutOrStdout(), f.output, out.Update, nil, s.clock.Now())
}

// scaleFlags name scale's flags: an error about scalingConfig.desiredSize
// comes from --desired.
var scaleFlags = func() map[string]string {
	m := maps.Clone(nodegroupFlags)
	m["scalingConfig.desiredSize"], m["scalingConfig.minSize"], m["scalingConfig.maxSize"] = "--desired", "--min", "--max"
	return m
}()

type nodegroupUpdateConfigFlags struct {
	eksFlags
	waitFlags
	name, scaling, labels, taints, updateConfig, nodeRepair, token string
}

func newNodegroupUpdateConfigCommand() *cobra.Command {
	f := &nodegroupUpdateConfigFlags{}
	cmd := &cobra.Command{
		Use:   "update-config [NAME]",
		Short: "Change a node group's size, labels, taints, update or repair config (aws eks update-nodegroup-config)",
		Example: `  kdp nodegroup update-config web --labels addOrUpdateLabels={team=web},removeLabels=old
  kdp nodegroup update-config web --taints 'addOrUpdateTaints=[{key=gpu,value=true,effect=NO_SCHEDULE}]'
  kdp nodegroup update-config web --update-config maxUnavailablePercentage=50 --wait`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := nameArg(args, "nodegroup-name", f.name, "node group")
			if err != nil {
				return err
			}
			in := &types.UpdateNodegroupConfigRequest{NodegroupName: name, ClientRequestToken: f.token}
			if errs := structFlags(cmd, nil, flagTarget{"scaling-config", &in.ScalingConfig}, flagTarget{"labels", &in.Labels},
				flagTarget{"taints", &in.Taints}, flagTarget{"update-config", &in.UpdateConfig}, flagTarget{"node-repair-config", &in.NodeRepairConfig}); len(errs) > 0 {
				return failed(errs...)
			}
			if in.ScalingConfig == nil && in.Labels == nil && in.Taints == nil && in.UpdateConfig == nil && in.NodeRepairConfig == nil {
				return fmt.Errorf("give --scaling-config, --labels, --taints, --update-config or --node-repair-config")
			}
			if in.ClientRequestToken == "" {
				in.ClientRequestToken = uuid.NewString()
			}
			ctx := cmd.Context()
			s, err := f.session(ctx)
			if err != nil {
				return err
			}
			in.ClusterName = s.cluster
			out, err := s.svc.UpdateNodegroupConfig(ctx, in)
			if err != nil {
				return explain(err, nodegroupFlags)
			}
			if f.wait {
				var desired int32 = -1
				if in.ScalingConfig != nil && in.ScalingConfig.DesiredSize != nil {
					desired = *in.ScalingConfig.DesiredSize
				}
				return f.waitFlags.watch(cmd, s.watchConfigUpdate(name, out.Update.Id, "config update", desired))
			}
			return printUpdate(cmd.OutOrStdout(), f.output, out.Update, nil, s.clock.Now())
		},
	}
	fs := cmd.Flags()
	f.eksFlags.add(fs, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	fs.StringVar(&f.name, "nodegroup-name", "", "the node group (or give it as the argument)")
	fs.StringVar(&f.scaling, "scaling-config", "", "minSize=N,maxSize=N,desiredSize=N")
	fs.StringVar(&f.labels, "labels", "", "addOrUpdateLabels={k=v,...},removeLabels=k,...")
	fs.StringVar(&f.taints, "taints", "", "addOrUpdateTaints=[{key=k,value=v,effect=NO_SCHEDULE}],removeTaints=[{key=k,effect=...}]")
	fs.StringVar(&f.updateConfig, "update-config", "", "maxUnavailable=N or maxUnavailablePercentage=N, updateStrategy=DEFAULT|MINIMAL")
	fs.StringVar(&f.nodeRepair, "node-repair-config", "", "enabled=true|false")
	fs.StringVar(&f.token, "client-request-token", "", "idempotency token (default: a new one)")
	registerNameCompletion(cmd, "nodegroup-name", completeNodegroups)
	cmd.ValidArgsFunction = completeNodegroups
	return cmd
}

type nodegroupUpgradeFlags struct {
	eksFlags
	waitFlags
	name, release, version, launchTemplate, token string
	force                                         bool
}

func newNodegroupUpgradeCommand() *cobra.Command {
	f := &nodegroupUpgradeFlags{}
	cmd := &cobra.Command{
		Use:   "upgrade [NAME]",
		Short: "Roll a node group onto a new image or Kubernetes version (aws eks update-nodegroup-version)",
		Long: `Start a version update: new nodes launch from the new image, each old node is drained
(honouring PodDisruptionBudgets, up to 15 minutes) and terminated. Without
--release-version or --kubernetes-version, the newest release of the group's version.
With --wait, watch its phases, the nodes replaced, the drain in progress and what blocks
it; exit 0 when Successful, 1 when it fails (e.g. PodEvictionFailure, listing the pods).`,
		Example: "  kdp nodegroup upgrade web --kubernetes-version 1.35 --wait",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := nameArg(args, "nodegroup-name", f.name, "node group")
			if err != nil {
				return err
			}
			in := &types.UpdateNodegroupVersionRequest{NodegroupName: name, ReleaseVersion: f.release, Version: f.version, Force: f.force, ClientRequestToken: f.token}
			if err := structFlag("launch-template", f.launchTemplate, &in.LaunchTemplate); err != nil {
				return err
			}
			if in.ClientRequestToken == "" {
				in.ClientRequestToken = uuid.NewString()
			}
			ctx := cmd.Context()
			s, err := f.session(ctx)
			if err != nil {
				return err
			}
			in.ClusterName = s.cluster
			out, err := s.svc.UpdateNodegroupVersion(ctx, in)
			if err != nil {
				return explain(err, nodegroupFlags)
			}
			if f.wait {
				return f.waitFlags.watch(cmd, s.watchVersionUpdate(name, out.Update.Id))
			}
			return printUpdate(cmd.OutOrStdout(), f.output, out.Update, nil, s.clock.Now())
		},
	}
	fs := cmd.Flags()
	f.eksFlags.add(fs, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	fs.StringVar(&f.name, "nodegroup-name", "", "the node group (or give it as the argument)")
	fs.StringVar(&f.release, "release-version", "", "the image release to roll onto")
	fs.StringVar(&f.version, "kubernetes-version", "", "the Kubernetes version to roll onto")
	fs.StringVar(&f.launchTemplate, "launch-template", "", "name=NAME,version=V or id=ID,version=V")
	fs.BoolVar(&f.force, "force", false, "replace nodes whose pods a PodDisruptionBudget keeps, after the 15 minutes")
	fs.StringVar(&f.token, "client-request-token", "", "idempotency token (default: a new one)")
	registerNameCompletion(cmd, "nodegroup-name", completeNodegroups)
	cmd.ValidArgsFunction = completeNodegroups
	return cmd
}

type nodegroupDeleteFlags struct {
	eksFlags
	waitFlags
	name string
}

func newNodegroupDeleteCommand() *cobra.Command {
	f := &nodegroupDeleteFlags{}
	cmd := &cobra.Command{
		Use:   "delete [NAME]",
		Short: "Delete a managed node group, draining its nodes first (aws eks delete-nodegroup)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, name, err := f.open(cmd, args, "nodegroup-name", f.name, "node group")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			out, err := s.svc.DeleteNodegroup(ctx, &types.DeleteNodegroupRequest{ClusterName: s.cluster, NodegroupName: name})
			if err != nil {
				return explain(err, nodegroupFlags)
			}
			if f.wait {
				return f.waitFlags.watch(cmd, s.watchNodegroup(name, "deletion", ""))
			}
			return printNodegroup(cmd.OutOrStdout(), f.output, out, out.Nodegroup, s.clock.Now())
		},
	}
	fs := cmd.Flags()
	f.eksFlags.add(fs, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	nameFlag(cmd, &f.name, "nodegroup-name", "the node group", completeNodegroups)
	return cmd
}

// printNodegroup prints a response's node group: its description, or
// the response as a document.
func printNodegroup(out io.Writer, format string, resp any, ng *types.Nodegroup, now time.Time) error {
	if format != "table" {
		return printDocument(out, format, resp)
	}
	return printNodegroupDescription(out, &eks.NodegroupProgress{Nodegroup: ng}, nil, now)
}
