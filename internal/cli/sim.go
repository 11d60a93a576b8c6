package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	simv1 "github.com/kdp-project/kdp/api/sim/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
)

func newSimCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Drive the simulated cloud: instance types, images, launch templates, groups, instances, faults",
	}
	cmd.AddCommand(
		newSimListCommand("instance-types", "List instance types with prices and max pods", listInstanceTypes),
		newSimListCommand("images", "List node images with their release versions", listImages),
		newSimListCommand("subnets", "List subnets", listSubnets),
		newSimListCommand("groups", "List Auto Scaling groups", listGroups),
		newSimListCommand("instances", "List instances", listInstances),
		newLaunchTemplateCommand(),
		newGroupCommand(),
		newInstanceActionCommand("terminate", "Terminate an instance (its group launches a replacement unless --decrement-desired)", terminate),
		newInstanceActionCommand("interrupt", "Send a spot instance its 2-minute interruption notice; it is terminated when the notice runs out", interrupt),
		newInstanceActionCommand("fail", "Kill an instance's kubelet: the instance runs on, its node goes NotReady", failKubelet),
		newInstanceActionCommand("rebalance", "Send a spot instance a rebalance recommendation (its group replaces it if capacity rebalancing is on)", rebalance),
		newMaintenanceCommand(),
		newCompleteLifecycleActionCommand(),
		newCapacityCommand(),
		newSlowBootCommand(),
		newLaunchFailureCommand(),
		newScenarioCommand(),
	)
	return cmd
}

// listFlags are the flags of the list commands.
type listFlags struct {
	clusterFlags
	output string
	family string
	group  string
}

type lister func(ctx context.Context, p *sim.Provider, f *listFlags, out io.Writer) error

func newSimListCommand(use, short string, list lister) *cobra.Command {
	f := &listFlags{}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "" && f.output != "json" && f.output != "table" {
				return fmt.Errorf("-o %q: must be table or json", f.output)
			}
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			return list(cmd.Context(), p, f, cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "table or json")
	switch use {
	case "instance-types":
		cmd.Flags().StringVar(&f.family, "family", "", "only this family (m5, c7g, ...)")
	case "instances":
		cmd.Flags().StringVar(&f.group, "group", "", "only this group's instances")
	}
	return cmd
}

func table(out io.Writer, header string, rows [][]string) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	for _, r := range rows {
		fmt.Fprintln(w, strings.Join(r, "\t"))
	}
	return w.Flush()
}

func listInstanceTypes(ctx context.Context, p *sim.Provider, f *listFlags, out io.Writer) error {
	types, _ := p.InstanceTypes(ctx)
	if f.family != "" {
		var kept []cloud.InstanceType
		for _, t := range types {
			if t.Family == f.family {
				kept = append(kept, t)
			}
		}
		if len(kept) == 0 {
			return fmt.Errorf("--family %q: no such family", f.family)
		}
		types = kept
	}
	if f.output == "json" {
		return printJSON(out, types)
	}
	zone := p.Catalog().PrivateSubnets()[0].Zone
	var rows [][]string
	for _, t := range types {
		spot, _ := p.Catalog().SpotPrice(t.Name, zone)
		rows = append(rows, []string{t.Name, fmt.Sprint(t.VCPU), fmt.Sprintf("%.1f", float64(t.MemoryMiB)/1024), t.Architecture,
			fmt.Sprint(t.GPUs), fmt.Sprint(t.MaxPods()), fmt.Sprintf("$%.4f", t.OnDemandPrice), fmt.Sprintf("$%.4f", spot)})
	}
	return table(out, "TYPE\tVCPU\tMEMORY(GiB)\tARCH\tGPUS\tMAX PODS\tON-DEMAND/H\tSPOT/H ("+zone+")", rows)
}

func listImages(ctx context.Context, p *sim.Provider, f *listFlags, out io.Writer) error {
	images, _ := p.Images(ctx)
	if f.output == "json" {
		return printJSON(out, images)
	}
	var rows [][]string
	for _, i := range images {
		rows = append(rows, []string{i.ID, i.Type, i.KubernetesVersion, i.ReleaseVersion, i.Architecture})
	}
	return table(out, "IMAGE\tAMI TYPE\tKUBERNETES\tRELEASE\tARCH", rows)
}

func listSubnets(ctx context.Context, p *sim.Provider, f *listFlags, out io.Writer) error {
	subnets, _ := p.Subnets(ctx)
	if f.output == "json" {
		return printJSON(out, subnets)
	}
	var rows [][]string
	for _, s := range subnets {
		kind := "private"
		if s.Public {
			kind = "public"
		}
		rows = append(rows, []string{s.ID, s.Zone, s.CIDR, kind})
	}
	return table(out, "SUBNET\tZONE\tCIDR\tKIND", rows)
}

func listGroups(ctx context.Context, p *sim.Provider, f *listFlags, out io.Writer) error {
	groups, err := p.ListGroups(ctx)
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(out, groups)
	}
	var rows [][]string
	for _, g := range groups {
		rows = append(rows, []string{g.Name, fmt.Sprint(g.MinSize), fmt.Sprint(g.MaxSize), fmt.Sprint(g.DesiredCapacity),
			fmt.Sprint(g.InService), fmt.Sprint(g.Pending), g.CapacityType, g.LaunchTemplate + ":" + g.LaunchTemplateVersion})
	}
	return table(out, "GROUP\tMIN\tMAX\tDESIRED\tIN SERVICE\tPENDING\tCAPACITY\tLAUNCH TEMPLATE", rows)
}

func listInstances(ctx context.Context, p *sim.Provider, f *listFlags, out io.Writer) error {
	instances, err := p.ListInstances(ctx, cloud.InstanceFilter{Group: f.group})
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(out, instances)
	}
	var rows [][]string
	for _, i := range instances {
		rows = append(rows, []string{i.ID, i.Type, i.Zone, i.State, i.Lifecycle, i.Group, i.PrivateIP, i.NodeName})
	}
	return table(out, "INSTANCE\tTYPE\tZONE\tSTATE\tLIFECYCLE\tGROUP\tIP\tNODE", rows)
}

type launchTemplateFlags struct {
	clusterFlags
	image, instanceType, userData string
}

func newLaunchTemplateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "launch-template", Short: "Manage launch templates"}
	f := &launchTemplateFlags{}
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a launch template (version 1)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var userData []byte
			if f.userData != "" {
				var err error
				if userData, err = os.ReadFile(f.userData); err != nil {
					return fmt.Errorf("--user-data: %w", err)
				}
			}
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			lt, err := p.CreateLaunchTemplate(cmd.Context(), cloud.LaunchTemplateInput{
				Name: args[0], ImageID: f.image, InstanceType: f.instanceType, UserData: string(userData),
			})
			if err != nil {
				return flagError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "launch template %s (%s) created, version 1\n", lt.Name, lt.ID)
			return nil
		},
	}
	f.add(create.Flags())
	create.Flags().StringVar(&f.image, "image", "", "image id (see kdp sim images)")
	create.Flags().StringVar(&f.instanceType, "instance-type", "", "instance type (see kdp sim instance-types)")
	create.Flags().StringVar(&f.userData, "user-data", "", "file with the user data (see kdp nodes join-config)")
	_ = create.MarkFlagRequired("image")

	vf := &launchTemplateVersionFlags{}
	version := &cobra.Command{
		Use: "create-version NAME", Short: "Add a version to a launch template (unset fields come from the default version)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var userData []byte
			if vf.userData != "" {
				var err error
				if userData, err = os.ReadFile(vf.userData); err != nil {
					return fmt.Errorf("--user-data: %w", err)
				}
			}
			p, _, err := vf.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			n, err := p.CreateLaunchTemplateVersion(cmd.Context(), args[0], cloud.LaunchTemplateInput{
				ImageID: vf.image, InstanceType: vf.instanceType, UserData: string(userData),
			}, vf.makeDefault)
			if err != nil {
				return flagError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "launch template %s: version %d created\n", args[0], n)
			return nil
		},
	}
	vf.add(version.Flags())
	version.Flags().StringVar(&vf.image, "image", "", "image id (default: the default version's)")
	version.Flags().StringVar(&vf.instanceType, "instance-type", "", "instance type (default: the default version's)")
	version.Flags().StringVar(&vf.userData, "user-data", "", "file with the user data (default: the default version's)")
	version.Flags().BoolVar(&vf.makeDefault, "set-default", false, "make the new version the default")
	cmd.AddCommand(create, version)
	return cmd
}

type launchTemplateVersionFlags struct {
	launchTemplateFlags
	makeDefault bool
}

type groupFlags struct {
	clusterFlags
	launchTemplate         string
	min, max, desired      int32
	subnets, instanceTypes []string
	spot                   bool
	hooks                  []string
	launchTemplateVersion  string
}

func newGroupCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "group", Short: "Manage Auto Scaling groups"}
	f := &groupFlags{}
	create := &cobra.Command{
		Use: "create NAME", Short: "Create an Auto Scaling group", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lt, version, _ := strings.Cut(f.launchTemplate, ":")
			capacity := cloud.OnDemand
			if f.spot {
				capacity = cloud.Spot
			}
			hooks, err := parseHooks(f.hooks)
			if err != nil {
				return err
			}
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			g, err := p.CreateGroup(cmd.Context(), cloud.GroupInput{
				Name: args[0], LaunchTemplate: lt, LaunchTemplateVersion: version,
				MinSize: f.min, MaxSize: f.max, DesiredCapacity: f.desired,
				SubnetIDs: f.subnets, InstanceTypes: f.instanceTypes, CapacityType: capacity,
				LifecycleHooks: hooks,
			})
			if err != nil {
				return flagError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "group %s created: min %d, max %d, desired %d (%s)\n", g.Name, g.MinSize, g.MaxSize, g.DesiredCapacity, g.CapacityType)
			return nil
		},
	}
	f.add(create.Flags())
	create.Flags().StringVar(&f.launchTemplate, "launch-template", "", "NAME[:VERSION] (VERSION: a number, $Latest or $Default)")
	create.Flags().Int32Var(&f.min, "min", 0, "minimum size")
	create.Flags().Int32Var(&f.max, "max", 0, "maximum size")
	create.Flags().Int32Var(&f.desired, "desired", 0, "desired capacity")
	create.Flags().StringSliceVar(&f.subnets, "subnets", nil, "subnet ids (default: every private subnet)")
	create.Flags().StringSliceVar(&f.instanceTypes, "instance-types", nil, "instance types, overriding the launch template's")
	create.Flags().BoolVar(&f.spot, "spot", false, "spot capacity (price-capacity-optimized)")
	create.Flags().StringArrayVar(&f.hooks, "lifecycle-hook", nil, "NAME:launching|terminating[:TIMEOUT[:CONTINUE|ABANDON]] (repeatable; timeout default 1h, result ABANDON)")
	_ = create.MarkFlagRequired("launch-template")

	scale := &cobra.Command{
		Use: "scale NAME", Short: "Set a group's desired capacity", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.SetDesiredCapacity(cmd.Context(), args[0], f.desired); err != nil {
				return flagError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "group %s: desired capacity %d\n", args[0], f.desired)
			return nil
		},
	}
	f.add(scale.Flags())
	scale.Flags().Int32Var(&f.desired, "desired", 0, "desired capacity")
	_ = scale.MarkFlagRequired("desired")

	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a group and terminate its instances", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.DeleteGroup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "group %s deleted; its instances are terminating\n", args[0])
			return nil
		},
	}
	f.add(del.Flags())

	update := &cobra.Command{
		Use: "update NAME", Short: "Change the launch template version new instances launch with", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.SetLaunchTemplateVersion(cmd.Context(), args[0], f.launchTemplateVersion); err != nil {
				return flagError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "group %s: new instances launch with version %s; running ones are not replaced\n", args[0], f.launchTemplateVersion)
			return nil
		},
	}
	f.add(update.Flags())
	update.Flags().StringVar(&f.launchTemplateVersion, "launch-template-version", "", "a number, $Latest or $Default")
	_ = update.MarkFlagRequired("launch-template-version")
	cmd.AddCommand(create, scale, del, update)
	return cmd
}

type instanceFlags struct {
	clusterFlags
	decrementDesired bool
}

type instanceAction func(ctx context.Context, p *sim.Provider, c *clients, f *instanceFlags, id string, out io.Writer) error

func newInstanceActionCommand(use, short string, act instanceAction) *cobra.Command {
	f := &instanceFlags{}
	cmd := &cobra.Command{
		Use: use + " INSTANCE-ID", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, c, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := p.GetInstance(cmd.Context(), args[0]); err != nil {
				return err
			}
			return act(cmd.Context(), p, c, f, args[0], cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	if use == "terminate" {
		cmd.Flags().BoolVar(&f.decrementDesired, "decrement-desired", false, "lower the group's desired capacity instead of launching a replacement")
	}
	return cmd
}

func terminate(ctx context.Context, p *sim.Provider, _ *clients, f *instanceFlags, id string, out io.Writer) error {
	if err := p.TerminateInstance(ctx, id, f.decrementDesired); err != nil {
		return flagError(err)
	}
	_, err := fmt.Fprintf(out, "instance %s is terminating\n", id)
	return err
}

func interrupt(ctx context.Context, p *sim.Provider, _ *clients, _ *instanceFlags, id string, out io.Writer) error {
	if err := p.Interrupt(ctx, id); err != nil {
		return flagError(err)
	}
	inst, err := p.GetInstance(ctx, id)
	if err != nil {
		return err
	}
	node := ""
	if inst.NodeName != "" {
		node = " (node " + inst.NodeName + ")"
	}
	_, err = fmt.Fprintf(out, "instance %s%s: spot interruption notice sent; it is terminated in %s\n", id, node, p.Timing().SpotNotice)
	return err
}

func failKubelet(ctx context.Context, p *sim.Provider, _ *clients, _ *instanceFlags, id string, out io.Writer) error {
	if err := p.FailKubelet(ctx, id); err != nil {
		return flagError(err)
	}
	inst, err := p.GetInstance(ctx, id)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "instance %s: kubelet stopped; node %s will go NotReady\n", id, inst.NodeName)
	return err
}

// flagError turns a provider's InvalidParameterError into an error that
// names the CLI flag: the provider's field names are the flags' names, but
// for the positional arguments (the NAME of what is created, an
// INSTANCE-ID), which are named as they are.
func flagError(err error) error {
	var invalid *cloud.InvalidParameterError
	if !errors.As(err, &invalid) {
		return err
	}
	switch field, _, _ := strings.Cut(invalid.Field, " "); field {
	case "name", "instance":
		return err
	}
	return fmt.Errorf("--%w", err)
}

// parseHooks parses --lifecycle-hook values.
func parseHooks(values []string) ([]cloud.LifecycleHook, error) {
	var out []cloud.LifecycleHook
	for _, v := range values {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 4 {
			return nil, fmt.Errorf("--lifecycle-hook %q: must be NAME:launching|terminating[:TIMEOUT[:RESULT]]", v)
		}
		h := cloud.LifecycleHook{Name: parts[0], Transition: parts[1]}
		if len(parts) > 2 {
			d, err := time.ParseDuration(parts[2])
			if err != nil {
				return nil, fmt.Errorf("--lifecycle-hook %q: timeout: %w", v, err)
			}
			h.HeartbeatTimeout = d
		}
		if len(parts) > 3 {
			h.DefaultResult = parts[3]
		}
		out = append(out, h)
	}
	return out, nil
}

func rebalance(ctx context.Context, p *sim.Provider, _ *clients, _ *instanceFlags, id string, out io.Writer) error {
	if err := p.Rebalance(ctx, id); err != nil {
		return flagError(err)
	}
	_, err := fmt.Fprintf(out, "instance %s: rebalance recommendation sent\n", id)
	return err
}

type lifecycleActionFlags struct {
	clusterFlags
	group, hook, result string
}

func newCompleteLifecycleActionCommand() *cobra.Command {
	f := &lifecycleActionFlags{}
	cmd := &cobra.Command{
		Use: "complete-lifecycle-action INSTANCE-ID", Short: "Let an instance waiting on a lifecycle hook go on", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.CompleteLifecycleAction(cmd.Context(), f.group, f.hook, args[0], f.result); err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "instance %s: lifecycle action %s completed with %s\n", args[0], f.hook, f.result)
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.group, "group", "", "the instance's group")
	cmd.Flags().StringVar(&f.hook, "hook", "", "the lifecycle hook")
	cmd.Flags().StringVar(&f.result, "result", simv1.ResultContinue, "CONTINUE or ABANDON")
	_ = cmd.MarkFlagRequired("group")
	_ = cmd.MarkFlagRequired("hook")
	return cmd
}

type capacityFlags struct {
	clusterFlags
	instanceType, zone string
	available          int
	unlimited          bool
}

func newCapacityCommand() *cobra.Command {
	f := &capacityFlags{}
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Limit how many instances of a type a zone can hold (launches beyond fail with InsufficientInstanceCapacity)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.unlimited == cmd.Flags().Changed("available") {
				return fmt.Errorf("give either --available N or --unlimited")
			}
			if !f.unlimited && f.available < 0 {
				return fmt.Errorf("--available %d: must be 0 or more", f.available)
			}
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			n := f.available
			if f.unlimited {
				n = -1
			}
			if err := p.SetCapacity(cmd.Context(), f.instanceType, f.zone, n); err != nil {
				return flagError(err)
			}
			if f.unlimited {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s in %s: unlimited\n", f.instanceType, f.zone)
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s in %s: at most %d instances\n", f.instanceType, f.zone, n)
			}
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.instanceType, "instance-type", "", "instance type")
	cmd.Flags().StringVar(&f.zone, "zone", "", "availability zone")
	cmd.Flags().IntVar(&f.available, "available", -1, "how many instances of the type the zone can hold")
	cmd.Flags().BoolVar(&f.unlimited, "unlimited", false, "remove the limit")
	_ = cmd.MarkFlagRequired("instance-type")
	_ = cmd.MarkFlagRequired("zone")
	return cmd
}

type slowBootFlags struct {
	clusterFlags
	group         string
	delay, during time.Duration
}

func newSlowBootCommand() *cobra.Command {
	f := &slowBootFlags{}
	cmd := &cobra.Command{
		Use:   "slow-boot --group G --delay D --for DURATION",
		Short: "Make the instances a group launches in the next --for boot --delay longer (--for 0 lifts it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.SetSlowBoot(cmd.Context(), f.group, f.delay, f.during); err != nil {
				return flagError(err)
			}
			if f.during == 0 {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: slow boots lifted\n", f.group)
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: instances launched in the next %s boot %s slower (scenario time)\n", f.group, f.during, f.delay)
			}
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.group, "group", "", "the Auto Scaling group")
	cmd.Flags().DurationVar(&f.delay, "delay", 0, "extra boot time of each instance (divided by --time-scale)")
	cmd.Flags().DurationVar(&f.during, "for", 0, "how long the fault lasts (divided by --time-scale); 0 lifts it")
	_ = cmd.MarkFlagRequired("group")
	_ = cmd.MarkFlagRequired("for")
	return cmd
}

type launchFailureFlags struct {
	clusterFlags
	group string
	in    sim.LaunchFailureInput
}

func newLaunchFailureCommand() *cobra.Command {
	f := &launchFailureFlags{}
	cmd := &cobra.Command{
		Use:   "launch-failure --group G [--instance-type T] [--zone Z] [--rate R] --for DURATION",
		Short: "Make a fraction of a group's launches in the next --for fail (Client.InternalError); the group replaces them (--for 0 lifts it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.SetLaunchFailure(cmd.Context(), f.group, f.in); err != nil {
				return flagError(err)
			}
			if f.in.Duration == 0 {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: launch failures lifted\n", f.group)
			} else {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: %s fail in the next %s (scenario time)\n", f.group, f.in, f.in.Duration)
			}
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.group, "group", "", "the Auto Scaling group")
	cmd.Flags().StringVar(&f.in.InstanceType, "instance-type", "", "only launches of this instance type")
	cmd.Flags().StringVar(&f.in.Zone, "zone", "", "only launches in this zone")
	cmd.Flags().Float64Var(&f.in.Rate, "rate", 1, "fraction of launches that fail, more than 0 and at most 1")
	cmd.Flags().DurationVar(&f.in.Duration, "for", 0, "how long the fault lasts (divided by --time-scale); 0 lifts it")
	cmd.Flags().Uint64Var(&f.in.Seed, "seed", 0, "picks which launches fail, so a run replays the same way")
	_ = cmd.MarkFlagRequired("group")
	_ = cmd.MarkFlagRequired("for")
	return cmd
}

type scenarioFlags struct {
	clusterFlags
	file string
}

func newScenarioCommand() *cobra.Command {
	f := &scenarioFlags{}
	cmd := &cobra.Command{
		Use:   "scenario -f FILE",
		Short: "Play a seeded fault scenario (YAML) and report what happened",
		Long: `Play a seeded fault scenario against the simulated cloud. A scenario is YAML:

  seed: 42
  steps:
  - at: 0s
    capacity: {instanceType: m5.large, zone: us-east-1a, available: 0}
  - at: 30s
    interrupt: {group: web, count: 2}      # also: rebalance, failKubelet, terminate
  - at: 1m
    zoneOutage: {zone: us-east-1b}
  - at: 2m
    spotStorm: {group: web, ratePerMinute: 6, duration: 1m}
  - at: 3m
    slowBoot: {group: web, delay: 3m, duration: 5m}
  - at: 4m
    launchFailure: {group: web, rate: 0.5, duration: 2m}   # also: instanceType, zone

Times are scenario time: with kdp up --time-scale N they pass N times faster.
Instances are picked with the seed among a group's running instances in launch
order, and a launch failure picks the n-th launch of its window with the seed,
so a scenario replays the same way.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := os.ReadFile(f.file)
			if err != nil {
				return fmt.Errorf("-f: %w", err)
			}
			sc, err := sim.ParseScenario(data)
			if err != nil {
				return err
			}
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			return p.RunScenario(cmd.Context(), sc, cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "scenario file")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

type maintenanceFlags struct {
	clusterFlags
	in time.Duration
}

func newMaintenanceCommand() *cobra.Command {
	f := &maintenanceFlags{}
	cmd := &cobra.Command{
		Use:   "maintenance INSTANCE-ID",
		Short: "Schedule an instance's retirement: an AWS Health event now, termination and replacement at --in",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			if err := p.ScheduleRetirement(cmd.Context(), args[0], f.in); err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "instance %s: retirement scheduled in %s (scenario time)\n", args[0], f.in)
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().DurationVar(&f.in, "in", 24*time.Hour, "when the retirement happens (divided by --time-scale)")
	return cmd
}
