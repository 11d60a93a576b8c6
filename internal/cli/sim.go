package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

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
	cmd.AddCommand(create)
	return cmd
}

type groupFlags struct {
	clusterFlags
	launchTemplate         string
	min, max, desired      int32
	subnets, instanceTypes []string
	spot, decrementDesired bool
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
			p, _, err := f.simProvider(cmd.Context())
			if err != nil {
				return err
			}
			g, err := p.CreateGroup(cmd.Context(), cloud.GroupInput{
				Name: args[0], LaunchTemplate: lt, LaunchTemplateVersion: version,
				MinSize: f.min, MaxSize: f.max, DesiredCapacity: f.desired,
				SubnetIDs: f.subnets, InstanceTypes: f.instanceTypes, CapacityType: capacity,
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
	cmd.AddCommand(create, scale, del)
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

func interrupt(ctx context.Context, p *sim.Provider, c *clients, _ *instanceFlags, id string, out io.Writer) error {
	inst := &simv1.Instance{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: id}, inst); err != nil {
		return err
	}
	if inst.Spec.Lifecycle != simv1.Spot {
		return fmt.Errorf("instance %s is %s: only spot instances get interruption notices", id, inst.Spec.Lifecycle)
	}
	o, err := sim.LoadOptions(ctx, c.client)
	if err != nil {
		return err
	}
	timing, err := sim.Profile(o.Profile, o.Scale)
	if err != nil {
		return err
	}
	at := metav1.NewTime(time.Now().Add(timing.SpotNotice))
	base := inst.DeepCopy()
	inst.Spec.SpotInterruptionTime = &at
	if err := c.client.Patch(ctx, inst, client.MergeFrom(base)); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "instance %s: spot interruption notice sent; terminated at %s (in %s)\n", id, at.Format(time.RFC3339), timing.SpotNotice)
	return err
}

func failKubelet(ctx context.Context, _ *sim.Provider, c *clients, _ *instanceFlags, id string, out io.Writer) error {
	inst := &simv1.Instance{}
	if err := c.client.Get(ctx, client.ObjectKey{Name: id}, inst); err != nil {
		return err
	}
	base := inst.DeepCopy()
	inst.Spec.KubeletFailed = true
	if err := c.client.Patch(ctx, inst, client.MergeFrom(base)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "instance %s: kubelet stopped; node %s will go NotReady\n", id, inst.Status.NodeName)
	return err
}

// flagError turns a provider's InvalidParameterError into an error that
// names the CLI flag (the provider's field names are the flags' names).
func flagError(err error) error {
	if cloud.IsInvalid(err) && !strings.HasPrefix(err.Error(), "name") && !strings.HasPrefix(err.Error(), "instance:") {
		return fmt.Errorf("--%w", err)
	}
	return err
}
