package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/kubelet"
)

// The kdp sim commands talk to the simulated cloud that kdp up serves from
// the data dir, through the same cloud.Provider kdp's controllers use.
// Their flags follow the aws CLI's where it has one (--min-size,
// --auto-scaling-group-name, ...); the shorter names of earlier versions
// are kept as aliases.

func newSimCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Drive the simulated cloud: instance types, images, launch templates, groups, instances, events, faults",
	}
	cmd.AddCommand(
		newSimInfoCommand(),
		newSimListCommand("instance-types", "List instance types with prices and max pods", listInstanceTypes),
		newSimListCommand("images", "List node images with their release versions", listImages),
		newSimListCommand("subnets", "List subnets", listSubnets),
		newSimListCommand("groups", "List Auto Scaling groups", listGroups),
		newSimListCommand("instances", "List instances (and the Nodes of those that joined the cluster)", listInstances),
		newSimListCommand("activities", "List a group's scaling activities, newest first: what it launched and terminated, and why", listActivities),
		newEventsCommand(),
		newLaunchTemplateCommand(),
		newGroupCommand(),
		newInstanceActionCommand("terminate", "Terminate an instance (its group launches a replacement unless --should-decrement-desired-capacity)", terminate),
		newInstanceActionCommand("interrupt", "Send a spot instance its 2-minute interruption notice; it is terminated when the notice runs out", interrupt),
		newInstanceActionCommand("fail", "Kill an instance's kubelet: the instance runs on, its node goes NotReady", failKubelet),
		newFailConditionCommand(),
		newInstanceActionCommand("rebalance", "Send a spot instance a rebalance recommendation (its group replaces it if capacity rebalancing is on)", rebalance),
		newMaintenanceCommand(),
		newCompleteLifecycleActionCommand(),
		newCapacityCommand(),
		newZoneOutageCommand(),
		newSlowBootCommand(),
		newLaunchFailureCommand(),
		newScenarioCommand(),
	)
	return cmd
}

// aliases lets a command take older or shorter flag names for its flags.
func aliases(fs *pflag.FlagSet, names map[string]string) {
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := names[name]; ok {
			return pflag.NormalizedName(to)
		}
		return pflag.NormalizedName(name)
	})
}

// flagOf is the CLI flag of each field the cloud's API names in an error;
// fields that are positional arguments (a NAME, an INSTANCE-ID) name
// themselves.
var flagOf = map[string]string{
	"minSize": "--min-size", "maxSize": "--max-size", "desiredCapacity": "--desired-capacity",
	"launchTemplate": "--launch-template", "instanceTypes": "--instance-types", "subnetIds": "--subnets",
	"capacityType": "--spot", "imageId": "--image-id", "instanceType": "--instance-type", "userData": "--user-data",
	"sourceVersion": "--source-version", "tags": "--tags", "instanceTags": "--tags", "zone": "--zone",
	"lifecycleActionResult": "--lifecycle-action-result", "shouldDecrementDesiredCapacity": "--should-decrement-desired-capacity",
	"lifecycleHookName": "--lifecycle-hook-name", "lifecycleTransition": "--lifecycle-transition",
	"heartbeatTimeout": "--heartbeat-timeout", "defaultResult": "--default-result",
	"rate": "--rate", "for": "--for", "delay": "--delay", "in": "--in", "condition": "--condition", "reason": "--reason",
	"autoScalingGroupName": "NAME", "launchTemplateName": "NAME", "instanceId": "INSTANCE-ID", "since": "--since",
}

// flagError names the CLI flags of an InvalidParameterError's problems:
// one line if there is one, a line each if there are more.
func flagError(err error) error {
	var invalid *cloud.InvalidParameterError
	if !errors.As(err, &invalid) {
		return err
	}
	lines := make([]string, len(invalid.Problems))
	for i, p := range invalid.Problems {
		field := p.Field
		if strings.HasPrefix(field, "lifecycleHooks[") {
			field = "--lifecycle-hook " + field
		} else if f, ok := flagOf[field]; ok {
			field = f
		}
		lines[i] = field + ": " + p.Message
		if field == "NAME" || field == "INSTANCE-ID" { // a positional argument: the message names it
			lines[i] = p.Message
		}
	}
	if len(lines) == 1 {
		return errors.New(lines[0])
	}
	return fmt.Errorf("%d problems:\n  %s", len(lines), strings.Join(lines, "\n  "))
}

func newSimInfoCommand() *cobra.Command {
	f := &listFlags{}
	cmd := &cobra.Command{
		Use: "info", Short: "Show the simulated cloud kdp serves: its cluster, region, zones, timing and seed", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			_, info, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if f.output == "json" {
				return printJSON(cmd.OutOrStdout(), info)
			}
			return table(cmd.OutOrStdout(), "CLUSTER\tREGION\tZONES\tPROFILE\tTIME SCALE\tSPOT NOTICE\tSEED",
				[][]string{{info.Cluster, info.Region, fmt.Sprint(info.Zones), info.Profile, fmt.Sprint(info.TimeScale), info.SpotNotice, fmt.Sprint(info.Seed)}})
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "table or json")
	return cmd
}

// listFlags are the flags of the list commands.
type listFlags struct {
	clusterFlags
	output string
	family string
	group  string
}

func (f *listFlags) check() error {
	if f.output != "json" && f.output != "table" {
		return fmt.Errorf("-o %q: must be table or json", f.output)
	}
	return nil
}

type lister func(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error

func newSimListCommand(use, short string, list lister) *cobra.Command {
	f := &listFlags{}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			if use == "activities" && f.group == "" {
				return fmt.Errorf("--auto-scaling-group-name: required")
			}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			return list(cmd.Context(), c, f, cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "table or json")
	switch use {
	case "instance-types":
		cmd.Flags().StringVar(&f.family, "family", "", "only this family (m5, c7g, ...)")
	case "instances", "activities":
		cmd.Flags().StringVar(&f.group, "auto-scaling-group-name", "", "only this group's")
		aliases(cmd.Flags(), map[string]string{"group": "auto-scaling-group-name"})
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

func listInstanceTypes(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error {
	types, err := c.InstanceTypes(ctx)
	if err != nil {
		return err
	}
	if f.family != "" {
		types = slices.DeleteFunc(types, func(t cloud.InstanceType) bool { return t.Family != f.family })
		if len(types) == 0 {
			return fmt.Errorf("--family %q: no such family", f.family)
		}
	}
	if f.output == "json" {
		return printJSON(out, types)
	}
	subnets, err := c.Subnets(ctx)
	if err != nil {
		return err
	}
	zone := subnets[0].Zone
	var rows [][]string
	for _, t := range types {
		rows = append(rows, []string{t.Name, fmt.Sprint(t.VCPU), fmt.Sprintf("%.1f", float64(t.MemoryMiB)/1024), t.Architecture,
			fmt.Sprint(t.GPUs), fmt.Sprint(t.MaxPods()), fmt.Sprintf("$%.4f", t.OnDemandPrice), fmt.Sprintf("$%.4f", t.SpotPrices[zone])})
	}
	return table(out, "TYPE\tVCPU\tMEMORY(GiB)\tARCH\tGPUS\tMAX PODS\tON-DEMAND/H\tSPOT/H ("+zone+")", rows)
}

func listImages(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error {
	images, err := c.Images(ctx)
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(out, images)
	}
	var rows [][]string
	for _, i := range images {
		rows = append(rows, []string{i.ID, i.Type, i.KubernetesVersion, i.ReleaseVersion, i.Architecture})
	}
	return table(out, "IMAGE\tAMI TYPE\tKUBERNETES\tRELEASE\tARCH", rows)
}

func listSubnets(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error {
	subnets, err := c.Subnets(ctx)
	if err != nil {
		return err
	}
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

// all reads every page of a list.
func all[T any](list func(cloud.Page) ([]T, string, error)) ([]T, error) {
	var out []T
	page := cloud.Page{MaxResults: cloud.MaxPageSize}
	for {
		items, next, err := list(page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		page.NextToken = next
	}
}

func listGroups(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error {
	groups, err := all(func(p cloud.Page) ([]cloud.Group, string, error) { return c.ListGroups(ctx, p) })
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(out, groups)
	}
	var rows [][]string
	for _, g := range groups {
		status := g.Status
		if status == "" {
			status = "-"
		}
		rows = append(rows, []string{g.Name, fmt.Sprint(g.MinSize), fmt.Sprint(g.MaxSize), fmt.Sprint(g.DesiredCapacity),
			fmt.Sprint(g.InService), fmt.Sprint(g.Pending), g.CapacityType, g.LaunchTemplate.String(), status})
	}
	return table(out, "GROUP\tMIN\tMAX\tDESIRED\tIN SERVICE\tPENDING\tCAPACITY\tLAUNCH TEMPLATE\tSTATUS", rows)
}

// instanceRow is an instance with its Node, as kdp sim instances prints
// it: EC2 knows nothing of nodes; the cluster's Nodes name their instances.
type instanceRow struct {
	cloud.Instance
	NodeName string `json:"nodeName,omitempty"`
}

func listInstances(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error {
	instances, err := all(func(p cloud.Page) ([]cloud.Instance, string, error) {
		return c.ListInstances(ctx, cloud.InstanceFilter{Group: f.group}, p)
	})
	if err != nil {
		return err
	}
	nodes := f.nodeNames(ctx)
	rows := make([]instanceRow, len(instances))
	for i, inst := range instances {
		rows[i] = instanceRow{Instance: inst, NodeName: nodes[inst.ID]}
	}
	if f.output == "json" {
		return printJSON(out, rows)
	}
	var lines [][]string
	for _, r := range rows {
		lines = append(lines, []string{r.ID, r.Type, r.Zone, r.State, r.Lifecycle, orDash(r.Group), orDash(r.LifecycleState), r.PrivateIP, orDash(r.NodeName)})
	}
	return table(out, "INSTANCE\tTYPE\tZONE\tSTATE\tLIFECYCLE\tGROUP\tGROUP STATE\tIP\tNODE", lines)
}

// nodeNames maps instance ids to the names of their Nodes, when the
// cluster can be reached (else none).
func (f *clusterFlags) nodeNames(ctx context.Context) map[string]string {
	out := map[string]string{}
	c, err := f.connect()
	if err != nil {
		return out
	}
	nodes, err := c.clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: kubelet.LabelInstanceID})
	if err != nil {
		return out
	}
	for i := range nodes.Items {
		if id, ok := kubelet.InstanceOf(&nodes.Items[i]); ok {
			out[id] = nodes.Items[i].Name
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func listActivities(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error {
	activities, err := all(func(p cloud.Page) ([]cloud.Activity, string, error) { return c.ListActivities(ctx, f.group, p) })
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(out, activities)
	}
	var rows [][]string
	for _, a := range activities {
		msg := a.Description
		if a.StatusMessage != "" {
			msg += ": " + a.StatusMessage
		}
		rows = append(rows, []string{a.StartTime.Format(time.RFC3339), a.StatusCode, msg, a.Cause})
	}
	return table(out, "START\tSTATUS\tDESCRIPTION\tCAUSE", rows)
}

type eventsFlags struct {
	listFlags
	since  uint64
	follow bool
}

// streamedEvent is an event as kdp sim events -o json prints it: the
// EventBridge envelope and the cursor to resume after it (--since).
type streamedEvent struct {
	Sequence uint64      `json:"sequence"`
	Event    cloud.Event `json:"event"`
}

func newEventsCommand() *cobra.Command {
	f := &eventsFlags{}
	cmd := &cobra.Command{
		Use:   "events",
		Short: "List the cloud's events (EventBridge's envelope): state changes, spot notices, lifecycle actions, health events",
		Long: `List the events the simulated cloud keeps (24 hours of them), oldest first, or only those
after --since (a sequence number this command printed). With --follow, go on printing
new ones until interrupted. With -o json, each event is a line of JSON:
{"sequence": N, "event": {EventBridge envelope}}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.check(); err != nil {
				return err
			}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			return runEvents(cmd.Context(), c, f, cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "table or json (a line each)")
	cmd.Flags().Uint64Var(&f.since, "since", 0, "only events after this sequence number")
	cmd.Flags().BoolVarP(&f.follow, "follow", "f", false, "keep printing new events until interrupted")
	return cmd
}

func runEvents(ctx context.Context, c *simapi.Client, f *eventsFlags, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := c.Subscribe(ctx, f.since)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if f.output == "table" {
		fmt.Fprintln(w, "SEQ\tTIME\tSOURCE\tDETAIL-TYPE\tDETAIL")
	}
	idle := time.NewTimer(time.Second)
	defer idle.Stop()
	for {
		select {
		case e, ok := <-events:
			if !ok {
				_ = w.Flush()
				if !f.follow || ctx.Err() != nil {
					return nil
				}
				// The cloud stopped, or this fell behind what it keeps.
				return fmt.Errorf("the event stream ended after event %d: run kdp sim events --follow --since %d to go on", f.since, f.since)
			}
			f.since = e.Sequence
			if f.output == "json" {
				if err := printLine(out, streamedEvent{Sequence: e.Sequence, Event: e}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.Sequence, e.Time.Format(time.RFC3339), e.Source, e.DetailType, e.Detail)
			}
			if f.follow {
				_ = w.Flush()
			}
			idle.Reset(time.Second)
		case <-idle.C:
			if !f.follow {
				return w.Flush() // everything kept has been printed
			}
		case <-ctx.Done():
			return w.Flush()
		}
	}
}

func printLine(out io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

type launchTemplateFlags struct {
	clusterFlags
	image, instanceType, userData, sourceVersion string
	makeDefault                                  bool
}

func (f *launchTemplateFlags) readUserData() (string, error) {
	if f.userData == "" {
		return "", nil
	}
	b, err := os.ReadFile(f.userData)
	if err != nil {
		return "", fmt.Errorf("--user-data: %w", err)
	}
	return string(b), nil
}

func newLaunchTemplateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "launch-template", Short: "Manage launch templates"}
	f := &launchTemplateFlags{}
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a launch template (version 1)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			userData, err := f.readUserData()
			if err != nil {
				return err
			}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			lt, err := c.CreateLaunchTemplate(cmd.Context(), cloud.LaunchTemplateInput{Name: args[0], LaunchTemplateData: cloud.LaunchTemplateData{
				ImageID: f.image, InstanceType: f.instanceType, UserData: userData,
			}})
			if err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "launch template %s (%s) created, version 1\n", lt.Name, lt.ID)
			return err
		},
	}
	f.add(create.Flags())
	create.Flags().StringVar(&f.image, "image-id", "", "image id (see kdp sim images)")
	create.Flags().StringVar(&f.instanceType, "instance-type", "", "instance type (see kdp sim instance-types)")
	create.Flags().StringVar(&f.userData, "user-data", "", "file with the user data (see kdp nodes join-config)")
	aliases(create.Flags(), map[string]string{"image": "image-id"})

	vf := &launchTemplateFlags{}
	version := &cobra.Command{
		Use: "create-version NAME", Short: "Add a version to a launch template (unset fields come from --source-version)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			userData, err := vf.readUserData()
			if err != nil {
				return err
			}
			c, _, err := vf.cloud(cmd.Context())
			if err != nil {
				return err
			}
			v, err := c.CreateLaunchTemplateVersion(cmd.Context(), cloud.TemplateRef{Name: args[0]}, cloud.LaunchTemplateVersionInput{
				LaunchTemplateData: cloud.LaunchTemplateData{ImageID: vf.image, InstanceType: vf.instanceType, UserData: userData},
				SourceVersion:      vf.sourceVersion, MakeDefault: vf.makeDefault,
			})
			if err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "launch template %s: version %d created\n", args[0], v.Number)
			return err
		},
	}
	vf.add(version.Flags())
	version.Flags().StringVar(&vf.image, "image-id", "", "image id (default: the source version's)")
	version.Flags().StringVar(&vf.instanceType, "instance-type", "", "instance type (default: the source version's)")
	version.Flags().StringVar(&vf.userData, "user-data", "", "file with the user data (default: the source version's)")
	version.Flags().StringVar(&vf.sourceVersion, "source-version", cloud.VersionDefault, "the version unset fields come from: a number, $Latest or $Default")
	version.Flags().BoolVar(&vf.makeDefault, "set-default", false, "make the new version the default")
	aliases(version.Flags(), map[string]string{"image": "image-id"})
	cmd.AddCommand(create, version)
	return cmd
}

type groupFlags struct {
	clusterFlags
	launchTemplate         string
	min, max, desired      int32
	subnets, instanceTypes []string
	spot                   bool
	hooks                  []string
	launchTemplateVersion  string
	capacityRebalance      bool
	tags, removeTags       []string
	processes              []string
	hook                   hookFlags
}

type hookFlags struct {
	name, transition, result, timeout string
}

// sizeAliases are the shorter size flags of earlier versions.
var sizeAliases = map[string]string{"min": "min-size", "max": "max-size", "desired": "desired-capacity"}

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
			tags, err := parseTags(f.tags)
			if err != nil {
				return err
			}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			in := cloud.GroupInput{
				Name: args[0], LaunchTemplate: cloud.TemplateRef{Name: lt, Version: version},
				MinSize: f.min, MaxSize: f.max, DesiredCapacity: f.desired,
				SubnetIDs: f.subnets, InstanceTypes: f.instanceTypes, CapacityType: capacity,
				LifecycleHooks: hooks, Tags: tags,
			}
			if cmd.Flags().Changed("capacity-rebalance") {
				in.CapacityRebalance = &f.capacityRebalance
			}
			g, err := c.CreateGroup(cmd.Context(), in)
			if err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s created: min %d, max %d, desired %d (%s)\n", g.Name, g.MinSize, g.MaxSize, g.DesiredCapacity, g.CapacityType)
			return err
		},
	}
	f.add(create.Flags())
	create.Flags().StringVar(&f.launchTemplate, "launch-template", "", "NAME[:VERSION] (VERSION: a number, $Latest or $Default)")
	create.Flags().Int32Var(&f.min, "min-size", 0, "minimum size")
	create.Flags().Int32Var(&f.max, "max-size", 0, "maximum size")
	create.Flags().Int32Var(&f.desired, "desired-capacity", 0, "desired capacity")
	create.Flags().StringSliceVar(&f.subnets, "subnets", nil, "subnet ids (default: every private subnet)")
	create.Flags().StringSliceVar(&f.instanceTypes, "instance-types", nil, "instance types, overriding the launch template's")
	create.Flags().BoolVar(&f.spot, "spot", false, "spot capacity (price-capacity-optimized)")
	create.Flags().BoolVar(&f.capacityRebalance, "capacity-rebalance", false, "replace spot instances at risk (default: on for spot groups)")
	create.Flags().StringArrayVar(&f.hooks, "lifecycle-hook", nil, "NAME:launching|terminating[:TIMEOUT[:CONTINUE|ABANDON]] (repeatable; timeout default 1h, result ABANDON)")
	create.Flags().StringSliceVar(&f.tags, "tags", nil, "tags: key=value,...")
	_ = create.MarkFlagRequired("launch-template")
	createAliases := map[string]string{"vpc-zone-identifier": "subnets"}
	maps.Copy(createAliases, sizeAliases)
	aliases(create.Flags(), createAliases)

	uf := &groupFlags{}
	update := &cobra.Command{
		Use: "update NAME", Short: "Change a group: sizes, launch template version, instance types, tags (running instances are not replaced)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cloud.GroupUpdate{InstanceTypes: uf.instanceTypes, SubnetIDs: uf.subnets, RemoveTags: uf.removeTags}
			fs := cmd.Flags()
			if fs.Changed("min-size") {
				in.MinSize = &uf.min
			}
			if fs.Changed("max-size") {
				in.MaxSize = &uf.max
			}
			if fs.Changed("desired-capacity") {
				in.DesiredCapacity = &uf.desired
			}
			if fs.Changed("capacity-rebalance") {
				in.CapacityRebalance = &uf.capacityRebalance
			}
			var err error
			if in.Tags, err = parseTags(uf.tags); err != nil {
				return err
			}
			c, _, err := uf.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if uf.launchTemplateVersion != "" {
				g, err := c.GetGroup(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				in.LaunchTemplate = &cloud.TemplateRef{ID: g.LaunchTemplate.ID, Version: uf.launchTemplateVersion}
			}
			g, err := c.UpdateGroup(cmd.Context(), args[0], in)
			if err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: min %d, max %d, desired %d, launch template %s; running instances are not replaced\n",
				g.Name, g.MinSize, g.MaxSize, g.DesiredCapacity, g.LaunchTemplate)
			return err
		},
	}
	uf.add(update.Flags())
	update.Flags().Int32Var(&uf.min, "min-size", 0, "minimum size")
	update.Flags().Int32Var(&uf.max, "max-size", 0, "maximum size")
	update.Flags().Int32Var(&uf.desired, "desired-capacity", 0, "desired capacity")
	update.Flags().StringVar(&uf.launchTemplateVersion, "launch-template-version", "", "the version new instances launch with: a number, $Latest or $Default")
	update.Flags().StringSliceVar(&uf.instanceTypes, "instance-types", nil, "instance types")
	update.Flags().BoolVar(&uf.capacityRebalance, "capacity-rebalance", false, "replace spot instances at risk")
	update.Flags().StringSliceVar(&uf.subnets, "subnets", nil, "subnet ids new instances launch in")
	update.Flags().StringSliceVar(&uf.tags, "tags", nil, "tags to add or change: key=value,...")
	update.Flags().StringSliceVar(&uf.removeTags, "remove-tags", nil, "keys of tags to remove")
	updateAliases := map[string]string{"vpc-zone-identifier": "subnets"}
	maps.Copy(updateAliases, sizeAliases)
	aliases(update.Flags(), updateAliases)

	sf := &groupFlags{}
	scale := &cobra.Command{
		Use: "scale NAME", Short: "Set a group's desired capacity", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := sf.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := c.UpdateGroup(cmd.Context(), args[0], cloud.GroupUpdate{DesiredCapacity: &sf.desired}); err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: desired capacity %d\n", args[0], sf.desired)
			return err
		},
	}
	sf.add(scale.Flags())
	scale.Flags().Int32Var(&sf.desired, "desired-capacity", 0, "desired capacity")
	_ = scale.MarkFlagRequired("desired-capacity")
	aliases(scale.Flags(), sizeAliases)

	df := &groupFlags{}
	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete a group and terminate its instances (through its terminating hooks)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := df.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteGroup(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s is being deleted; it goes once its instances have terminated\n", args[0])
			return err
		},
	}
	df.add(del.Flags())
	cmd.AddCommand(create, update, scale, del, newProcessesCommand("suspend-processes", true), newProcessesCommand("resume-processes", false),
		newPutHookCommand(), newDeleteHookCommand())
	return cmd
}

func newProcessesCommand(use string, suspend bool) *cobra.Command {
	f := &groupFlags{}
	verb := "Resume"
	if suspend {
		verb = "Suspend"
	}
	cmd := &cobra.Command{
		Use:   use + " NAME",
		Short: verb + " a group's processes (" + strings.Join(cloud.Processes, ", ") + "; default: all), as a rolling update suspends AZRebalance",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			do := c.ResumeProcesses
			if suspend {
				do = c.SuspendProcesses
			}
			if err := do(cmd.Context(), args[0], f.processes); err != nil {
				return flagError(err)
			}
			g, err := c.GetGroup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: suspended processes: %s\n", g.Name, orDash(strings.Join(g.SuspendedProcesses, ", ")))
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringSliceVar(&f.processes, "scaling-processes", nil, "processes: "+strings.Join(cloud.Processes, ", "))
	return cmd
}

func newPutHookCommand() *cobra.Command {
	f := &groupFlags{}
	cmd := &cobra.Command{
		Use: "put-lifecycle-hook NAME", Short: "Add a lifecycle hook to a group (or replace the hook of that name)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			timeout, err := seconds(f.hook.timeout)
			if err != nil {
				return fmt.Errorf("--heartbeat-timeout: %w", err)
			}
			hook := cloud.LifecycleHook{Name: f.hook.name, Transition: transition(f.hook.transition),
				HeartbeatTimeout: cloud.Duration{Duration: timeout}, DefaultResult: f.hook.result}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.PutLifecycleHook(cmd.Context(), args[0], hook); err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: lifecycle hook %s on %s\n", args[0], f.hook.name, f.hook.transition)
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.hook.name, "lifecycle-hook-name", "", "the hook's name")
	cmd.Flags().StringVar(&f.hook.transition, "lifecycle-transition", "", "launching or terminating (or autoscaling:EC2_INSTANCE_LAUNCHING|TERMINATING)")
	cmd.Flags().StringVar(&f.hook.timeout, "heartbeat-timeout", "3600", "how long an instance waits, in seconds as the aws CLI takes it or a duration (30s–2h)")
	cmd.Flags().StringVar(&f.hook.result, "default-result", cloud.ResultAbandon, "CONTINUE or ABANDON, when the timeout passes")
	_ = cmd.MarkFlagRequired("lifecycle-hook-name")
	_ = cmd.MarkFlagRequired("lifecycle-transition")
	return cmd
}

func newDeleteHookCommand() *cobra.Command {
	f := &groupFlags{}
	cmd := &cobra.Command{
		Use: "delete-lifecycle-hook NAME", Short: "Remove a lifecycle hook (instances waiting on it go on with its default result)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.DeleteLifecycleHook(cmd.Context(), args[0], f.hook.name); err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "group %s: lifecycle hook %s removed\n", args[0], f.hook.name)
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.hook.name, "lifecycle-hook-name", "", "the hook's name")
	_ = cmd.MarkFlagRequired("lifecycle-hook-name")
	return cmd
}

type instanceFlags struct {
	clusterFlags
	decrementDesired bool
}

type instanceAction func(ctx context.Context, c *simapi.Client, info *simapi.Info, f *instanceFlags, id string, out io.Writer) error

func newInstanceActionCommand(use, short string, act instanceAction) *cobra.Command {
	f := &instanceFlags{}
	cmd := &cobra.Command{
		Use: use + " INSTANCE-ID", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, info, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := c.GetInstance(cmd.Context(), args[0]); err != nil {
				return err
			}
			return act(cmd.Context(), c, info, f, args[0], cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	if use == "terminate" {
		cmd.Flags().BoolVar(&f.decrementDesired, "should-decrement-desired-capacity", false, "lower the group's desired capacity instead of launching a replacement")
		aliases(cmd.Flags(), map[string]string{"decrement-desired": "should-decrement-desired-capacity"})
	}
	return cmd
}

func terminate(ctx context.Context, c *simapi.Client, _ *simapi.Info, f *instanceFlags, id string, out io.Writer) error {
	if err := c.TerminateInstance(ctx, id, f.decrementDesired); err != nil {
		return flagError(err)
	}
	_, err := fmt.Fprintf(out, "instance %s is terminating\n", id)
	return err
}

// nodeOf is the name of an instance's Node, for messages (" (node X)").
func (f *clusterFlags) nodeOf(ctx context.Context, id string) string {
	if name := f.nodeNames(ctx)[id]; name != "" {
		return " (node " + name + ")"
	}
	return ""
}

func interrupt(ctx context.Context, c *simapi.Client, info *simapi.Info, f *instanceFlags, id string, out io.Writer) error {
	if err := c.Interrupt(ctx, id); err != nil {
		return flagError(err)
	}
	_, err := fmt.Fprintf(out, "instance %s%s: spot interruption notice sent; it is terminated in %s\n", id, f.nodeOf(ctx, id), info.SpotNotice)
	return err
}

func failKubelet(ctx context.Context, c *simapi.Client, _ *simapi.Info, f *instanceFlags, id string, out io.Writer) error {
	if err := c.FailKubelet(ctx, id); err != nil {
		return flagError(err)
	}
	_, err := fmt.Fprintf(out, "instance %s%s: kubelet stopped; its node will go NotReady\n", id, f.nodeOf(ctx, id))
	return err
}

func rebalance(ctx context.Context, c *simapi.Client, _ *simapi.Info, _ *instanceFlags, id string, out io.Writer) error {
	if err := c.Rebalance(ctx, id); err != nil {
		return flagError(err)
	}
	_, err := fmt.Fprintf(out, "instance %s: rebalance recommendation sent\n", id)
	return err
}

// parseHooks parses --lifecycle-hook values.
func parseHooks(values []string) ([]cloud.LifecycleHook, error) {
	var out []cloud.LifecycleHook
	for _, v := range values {
		parts := strings.Split(v, ":")
		if len(parts) >= 3 && parts[1] == "autoscaling" { // a transition spelled as EC2 spells it
			parts = append([]string{parts[0], parts[1] + ":" + parts[2]}, parts[3:]...)
		}
		if len(parts) < 2 || len(parts) > 4 {
			return nil, fmt.Errorf("--lifecycle-hook %q: must be NAME:launching|terminating[:TIMEOUT[:RESULT]]", v)
		}
		h := cloud.LifecycleHook{Name: parts[0], Transition: transition(parts[1])}
		if len(parts) > 2 && parts[2] != "" {
			d, err := seconds(parts[2])
			if err != nil {
				return nil, fmt.Errorf("--lifecycle-hook %q: timeout: %w", v, err)
			}
			h.HeartbeatTimeout = cloud.Duration{Duration: d}
		}
		if len(parts) > 3 {
			h.DefaultResult = parts[3]
		}
		out = append(out, h)
	}
	return out, nil
}

// seconds reads a time as the aws CLI gives it (seconds: "300") or as a
// duration ("5m").
func seconds(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: give seconds (300) or a duration (5m)", s)
	}
	return d, nil
}

// transition takes launching and terminating for EC2's transitions.
func transition(s string) string {
	switch strings.ToLower(s) {
	case "launching":
		return cloud.HookLaunching
	case "terminating":
		return cloud.HookTerminating
	}
	return s
}

// parseTags parses key=value tags.
func parseTags(values []string) (map[string]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--tags %q: must be key=value", v)
		}
		out[k] = val
	}
	return out, nil
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
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.CompleteLifecycleAction(cmd.Context(), cloud.LifecycleAction{Group: f.group, Hook: f.hook, InstanceID: args[0], Result: f.result}); err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "instance %s: lifecycle action %s completed with %s\n", args[0], f.hook, f.result)
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.group, "auto-scaling-group-name", "", "the instance's group")
	cmd.Flags().StringVar(&f.hook, "lifecycle-hook-name", "", "the lifecycle hook")
	cmd.Flags().StringVar(&f.result, "lifecycle-action-result", cloud.ResultContinue, "CONTINUE or ABANDON")
	_ = cmd.MarkFlagRequired("auto-scaling-group-name")
	_ = cmd.MarkFlagRequired("lifecycle-hook-name")
	aliases(cmd.Flags(), map[string]string{"group": "auto-scaling-group-name", "hook": "lifecycle-hook-name", "result": "lifecycle-action-result"})
	return cmd
}

type capacityFlags struct {
	listFlags
	instanceType, zone string
	available          int
	unlimited          bool
}

func newCapacityCommand() *cobra.Command {
	f := &capacityFlags{}
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Limit how many instances of a type a zone can hold (launches beyond fail with InsufficientInstanceCapacity); without flags, list the limits",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fs := cmd.Flags()
			list := !fs.Changed("instance-type") && !fs.Changed("zone") && !fs.Changed("available") && !fs.Changed("unlimited")
			if !list {
				var missing []string
				for _, name := range []string{"instance-type", "zone"} {
					if !fs.Changed(name) {
						missing = append(missing, "--"+name)
					}
				}
				if len(missing) > 0 {
					return fmt.Errorf("%s: required to set a limit", strings.Join(missing, ", "))
				}
				if f.unlimited == fs.Changed("available") {
					return fmt.Errorf("give either --available N or --unlimited")
				}
				if !f.unlimited && f.available < 0 {
					return fmt.Errorf("--available %d: must be 0 or more", f.available)
				}
			}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if list {
				return listCapacity(cmd.Context(), c, &f.listFlags, cmd.OutOrStdout())
			}
			n := f.available
			if f.unlimited {
				n = -1
			}
			if err := c.SetCapacity(cmd.Context(), f.instanceType, f.zone, n); err != nil {
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
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "table or json (when listing)")
	return cmd
}

func listCapacity(ctx context.Context, c *simapi.Client, f *listFlags, out io.Writer) error {
	if err := f.check(); err != nil {
		return err
	}
	limits, err := c.Capacity(ctx)
	if err != nil {
		return err
	}
	if f.output == "json" {
		return printJSON(out, limits)
	}
	var rows [][]string
	for _, l := range limits {
		rows = append(rows, []string{l.InstanceType, l.Zone, fmt.Sprint(l.Available)})
	}
	return table(out, "TYPE\tZONE\tAVAILABLE", rows)
}

type zoneOutageFlags struct {
	clusterFlags
	zone string
}

func newZoneOutageCommand() *cobra.Command {
	f := &zoneOutageFlags{}
	cmd := &cobra.Command{
		Use: "zone-outage --zone Z", Short: "Take a zone down: no capacity left in it, every kubelet there dead (lift the capacity with kdp sim capacity --unlimited)",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			n, err := c.ZoneOutage(cmd.Context(), f.zone)
			if err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s down: no capacity, %d kubelets dead\n", f.zone, n)
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.zone, "zone", "", "availability zone")
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
		Use:   "slow-boot --auto-scaling-group-name G --delay D --for DURATION",
		Short: "Make the instances a group launches in the next --for boot --delay longer (--for 0 lifts it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.SetSlowBoot(cmd.Context(), f.group, f.delay, f.during); err != nil {
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
	cmd.Flags().StringVar(&f.group, "auto-scaling-group-name", "", "the Auto Scaling group")
	cmd.Flags().DurationVar(&f.delay, "delay", 0, "extra boot time of each instance (divided by --time-scale)")
	cmd.Flags().DurationVar(&f.during, "for", 0, "how long the fault lasts (divided by --time-scale); 0 lifts it")
	_ = cmd.MarkFlagRequired("auto-scaling-group-name")
	_ = cmd.MarkFlagRequired("for")
	aliases(cmd.Flags(), map[string]string{"group": "auto-scaling-group-name"})
	return cmd
}

type launchFailureFlags struct {
	clusterFlags
	group string
	in    sim.LaunchFailure
}

func newLaunchFailureCommand() *cobra.Command {
	f := &launchFailureFlags{}
	cmd := &cobra.Command{
		Use:   "launch-failure --auto-scaling-group-name G [--instance-type T] [--zone Z] [--rate R] --for DURATION",
		Short: "Make a fraction of a group's launches in the next --for fail (Client.InternalError); the group replaces them (--for 0 lifts it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.SetLaunchFailure(cmd.Context(), f.group, f.in); err != nil {
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
	cmd.Flags().StringVar(&f.group, "auto-scaling-group-name", "", "the Auto Scaling group")
	cmd.Flags().StringVar(&f.in.InstanceType, "instance-type", "", "only launches of this instance type")
	cmd.Flags().StringVar(&f.in.Zone, "zone", "", "only launches in this zone")
	cmd.Flags().Float64Var(&f.in.Rate, "rate", 1, "fraction of launches that fail, more than 0 and at most 1")
	cmd.Flags().DurationVar(&f.in.Duration, "for", 0, "how long the fault lasts (divided by --time-scale); 0 lifts it")
	cmd.Flags().Uint64Var(&f.in.Seed, "seed", 0, "picks which launches fail, so a run replays the same way")
	_ = cmd.MarkFlagRequired("auto-scaling-group-name")
	_ = cmd.MarkFlagRequired("for")
	aliases(cmd.Flags(), map[string]string{"group": "auto-scaling-group-name"})
	return cmd
}

type failConditionFlags struct {
	clusterFlags
	condition, reason string
}

func newFailConditionCommand() *cobra.Command {
	f := &failConditionFlags{}
	cmd := &cobra.Command{
		Use:   "fail-condition INSTANCE-ID",
		Short: "Make an instance's node report a node monitoring condition (KernelReady, NetworkingReady, ...) False, as EKS's node monitoring agent does",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.FailCondition(cmd.Context(), args[0], f.condition, f.reason); err != nil {
				return flagError(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "instance %s%s: its node reports %s False (%s)\n", args[0], f.nodeOf(cmd.Context(), args[0]), f.condition, f.reason)
			return err
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVar(&f.condition, "condition", "", "the condition: "+strings.Join(cloud.NodeMonitoringConditions, ", "))
	cmd.Flags().StringVar(&f.reason, "reason", "", "the condition's reason, e.g. KernelBug")
	_ = cmd.MarkFlagRequired("condition")
	_ = cmd.MarkFlagRequired("reason")
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
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.ScheduleRetirement(cmd.Context(), args[0], f.in); err != nil {
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
