package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/utils/clock"
	"sigs.k8s.io/yaml"

	"github.com/kdp-project/kdp/internal/billing"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/inventory"
)

// The outputs of kdp nodes, and of kdp nodes describe (whose table is
// its text).
var (
	nodesOutputs    = []string{"table", "wide", "json", "yaml"}
	describeOutputs = []string{"table", "json", "yaml"}
)

type nodesFlags struct {
	clusterFlags
	output string
	clock  clock.PassiveClock
}

func (f *nodesFlags) addOutput(cmd *cobra.Command, help string) {
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", help)
	f.clock = clock.RealClock{}
}

// checkOutput names the flag and its values if -o is none of them.
func (f *nodesFlags) checkOutput(allowed []string) error { return outputIn(f.output, allowed) }

// nodesLong is what kdp nodes (and kdp nodes list) does.
const nodesLong = `List every node of the cluster with its data plane (managed: a managed node group's;
fargate: a Fargate pod's micro-VM; self-managed-group: a self-managed node in an Auto
Scaling group; standalone: a self-managed node of no group), its group (node group,
Fargate profile or Auto Scaling group), instance type, zone, capacity type (ON_DEMAND
or SPOT), kubelet version, pods (unfinished/allocatable), hourly price and age. The data
plane comes from the node's labels and its cloud instance (matched by providerID); a
node the cloud has no instance of (another cluster's) shows - for what is unknown.
-o wide adds the instance, image, internal IP, status and instance state; -o json and
-o yaml print {"nodes": [...]} in the EKS API's camelCase.`

// newNodesListCommand is kdp nodes list, which kdp nodes runs too.
func newNodesListCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every node: its data plane, group, instance type, zone, capacity type, version, pods, price and age",
		Long:  nodesLong,
		Args:  cobra.NoArgs,
	}
	listNodesRunE(cmd)
	return cmd
}

// listNodesRunE makes cmd list the nodes, with its flags.
func listNodesRunE(cmd *cobra.Command) {
	f := &nodesFlags{}
	f.addOutput(cmd, "table, wide, json or yaml")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := f.checkOutput(nodesOutputs); err != nil {
			return err
		}
		return runListNodes(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
}

// nodesList is kdp nodes -o json|yaml.
type nodesList struct {
	Nodes []inventory.Node `json:"nodes"`
}

// cloudView is what the simulated cloud says about the cluster's
// machines: their instances and prices.
type cloudView struct {
	client    *simapi.Client
	info      *simapi.Info
	instances []cloud.Instance
	prices    billing.Prices
}

// readCloud lists the cloud's instances and prices. Without a cloud
// (kdp up not running on the data dir) nodes are still listed, with what
// the cloud would have said unknown: warn reports why.
func readCloud(ctx context.Context, f *clusterFlags, warn io.Writer) (*cloudView, error) {
	c, info, err := f.cloud(ctx)
	if errors.Is(err, simapi.ErrNotRunning) {
		fmt.Fprintf(warn, "kdp: %v; instances, prices and self-managed groups are unknown (-)\n", err)
		return &cloudView{}, nil
	}
	if err != nil {
		return nil, err
	}
	types, err := c.InstanceTypes(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := catalog.New(info.Region, info.Zones)
	if err != nil {
		return nil, err
	}
	instances, err := billing.Instances(ctx, c)
	if err != nil {
		return nil, err
	}
	return &cloudView{client: c, info: info, instances: instances, prices: billing.NewPrices(types, cat.FargatePrices())}, nil
}

func runListNodes(ctx context.Context, f *nodesFlags, out, warn io.Writer) error {
	c, err := f.connect()
	if err != nil {
		return err
	}
	nodes, err := c.clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	pods, err := c.clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermNotEqualSelector("spec.nodeName", "").String()})
	if err != nil {
		return err
	}
	cv, err := readCloud(ctx, &f.clusterFlags, warn)
	if err != nil {
		return err
	}
	rows := inventory.Nodes(inventory.Inputs{Nodes: nodes.Items, Instances: cv.instances, Pods: pods.Items, Prices: cv.prices, Now: f.clock.Now()})
	return printNodes(out, rows, f.output)
}

// printNodes renders the rows as -o asks.
func printNodes(out io.Writer, rows []inventory.Node, output string) error {
	switch output {
	case "json":
		return printJSON(out, nodesList{Nodes: rows})
	case "yaml":
		return printYAML(out, nodesList{Nodes: rows})
	}
	header := "NAME\tDATA-PLANE\tGROUP\tTYPE\tZONE\tCAPACITY\tVERSION\tPODS\tPRICE/H\tAGE"
	if output == "wide" {
		header += "\tINSTANCE-ID\tIMAGE\tINTERNAL-IP\tSTATUS\tINSTANCE-STATE"
	}
	var cells [][]string
	for _, r := range rows {
		row := []string{r.Name, orDash(string(r.DataPlane)), orDash(r.Group()), orDash(r.InstanceType), orDash(r.Zone), orDash(r.CapacityType),
			orDash(r.KubeletVersion), fmt.Sprintf("%d/%d", r.Pods, r.MaxPods), price(r.PricePerHour), humanAge(r.Age.Duration)}
		if output == "wide" {
			state := r.InstanceState
			if r.LifecycleState != "" {
				state += "/" + r.LifecycleState
			}
			row = append(row, orDash(r.InstanceID), orDash(r.ImageID), orDash(r.InternalIP), r.Status, orDash(state))
		}
		cells = append(cells, row)
	}
	if len(cells) == 0 {
		_, err := fmt.Fprintln(out, "No nodes.")
		return err
	}
	return table(out, header, cells)
}

// price is an hourly price in USD, or - if unknown.
func price(p *float64) string {
	if p == nil {
		return "-"
	}
	return dollars(*p)
}

// humanAge is an age as kubectl prints it (5m, 3h2m, 4d).
func humanAge(d time.Duration) string { return duration.HumanDuration(d) }

// printYAML writes v as YAML, through its JSON (the same names).
func printYAML(out io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}

func newNodesDescribeCommand() *cobra.Command {
	f := &nodesFlags{}
	cmd := &cobra.Command{
		Use:   "describe NODE",
		Short: "Describe a node: its instance, group, image, lifecycle state, pods and the events that concern it",
		Long: `Describe a node as kubectl describe does, with what the cloud knows of it: the node (the
labels that say where it runs and whose it is, taints, conditions, capacity and
allocatable), its instance (id, type, zone, state and lifecycle state, launch time,
image, capacity type, price), its group (node group, Fargate profile or Auto Scaling
group, with the group's size), the pods on it, and the events that concern it, oldest
first: the cluster's Events about the node (or related to it) and its instance's cloud
events. -o json and -o yaml print the same, in the EKS API's camelCase.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("NODE: name one node (got %d arguments); kdp nodes lists them", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.checkOutput(describeOutputs); err != nil {
				return err
			}
			return runDescribeNode(cmd.Context(), f, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.addOutput(cmd, "table (text), json or yaml")
	cmd.ValidArgsFunction = completeNodes
	return cmd
}

func runDescribeNode(ctx context.Context, f *nodesFlags, name string, out, warn io.Writer) error {
	c, err := f.connect()
	if err != nil {
		return err
	}
	node, err := c.clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("node %q not found", name)
	}
	if err != nil {
		return err
	}
	pods, err := c.clientset.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", name).String()})
	if err != nil {
		return err
	}
	// Events about the node and those with it as their related object
	// (which no field selector finds): every Event, filtered.
	events, err := c.clientset.CoreV1().Events("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	in := inventory.DescribeInputs{Node: node, Pods: pods.Items, Events: events.Items, Now: f.clock.Now()}
	if err := readInstance(ctx, f, node, &in, warn); err != nil {
		return err
	}
	d := inventory.Describe(in)
	switch f.output {
	case "json":
		return printJSON(out, d)
	case "yaml":
		return printYAML(out, d)
	}
	return printDescription(out, d)
}

// readInstance adds to in what the cloud knows of the node: its instance,
// the instance's group and image, its events, and prices.
func readInstance(ctx context.Context, f *nodesFlags, node *corev1.Node, in *inventory.DescribeInputs, warn io.Writer) error {
	cv, err := readCloud(ctx, &f.clusterFlags, warn)
	if err != nil || cv.client == nil {
		return err
	}
	in.Prices = cv.prices
	id := inventory.InstanceID(node)
	if id == "" {
		return nil
	}
	for i := range cv.instances {
		if cv.instances[i].ID == id {
			in.Instance = &cv.instances[i]
		}
	}
	if in.Instance == nil {
		return nil // not this cloud's
	}
	if name := in.Instance.Group; name != "" {
		g, err := cv.client.GetGroup(ctx, name)
		switch {
		case err == nil:
			in.Group = g
		case !cloud.IsNotFound(err):
			return err
		}
	}
	images, err := cv.client.Images(ctx)
	if err != nil {
		return err
	}
	for i := range images {
		if images[i].ID == in.Instance.ImageID {
			in.Image = &images[i]
		}
	}
	in.CloudEvents, err = cloudEvents(ctx, cv.client, cv.info.LatestEvent)
	return err
}

// cloudEvents are the events the cloud keeps, up to the one numbered
// latest (the newest when the command started).
func cloudEvents(ctx context.Context, c *simapi.Client, latest uint64) ([]cloud.Event, error) {
	if latest == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ch, err := c.Subscribe(ctx, 0)
	if err != nil {
		return nil, err
	}
	var events []cloud.Event
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return events, nil // what was kept
			}
			events = append(events, e)
			if e.Sequence >= latest {
				return events, nil
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("reading the cloud's events: %w", ctx.Err())
		}
	}
}

// printDescription writes a description as kubectl describe does:
// sections of aligned fields.
func printDescription(out io.Writer, d inventory.Description) error {
	w := tabwriter.NewWriter(out, 0, 4, 1, ' ', 0)
	n := d.Node
	field := func(indent int, name, value string) {
		fmt.Fprintf(w, "%s%s:\t%s\n", strings.Repeat("  ", indent), name, value)
	}
	field(0, "Name", n.Name)
	field(0, "Data plane", orDash(string(n.DataPlane)))
	field(0, "Group", orDash(n.Group()))
	field(0, "Status", n.Status)
	field(0, "Kubelet version", orDash(n.KubeletVersion))
	field(0, "Internal IP", orDash(n.InternalIP))
	field(0, "Created", fmt.Sprintf("%s (%s ago)", n.CreatedAt.Format(time.RFC3339), humanAge(n.Age.Duration)))
	var labels []string
	for _, k := range inventory.LabelsThatMatter {
		if v, ok := d.Labels[k]; ok {
			labels = append(labels, k+"="+v)
		}
	}
	list(w, "Labels", labels, fmt.Sprintf("(%d labels in all; -o yaml prints them)", len(d.Labels)))
	var taints []string
	for _, t := range d.Taints {
		taints = append(taints, t.ToString())
	}
	list(w, "Taints", taints, "")
	field(0, "Unschedulable", fmt.Sprint(d.Unschedulable))
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(out, "Conditions:")
	var conds [][]string
	for _, c := range d.Conditions {
		conds = append(conds, []string{c.Type, c.Status, orDash(c.Reason), c.Since.Format(time.RFC3339), orDash(c.Message)})
	}
	if err := indented(out, "TYPE\tSTATUS\tREASON\tSINCE\tMESSAGE", conds); err != nil {
		return err
	}
	fmt.Fprintln(out, "Capacity / Allocatable:")
	var res [][]string
	for _, k := range slices.Sorted(maps.Keys(d.Capacity)) {
		res = append(res, []string{k, d.Capacity[k], orDash(d.Allocatable[k])})
	}
	if err := indented(out, "RESOURCE\tCAPACITY\tALLOCATABLE", res); err != nil {
		return err
	}

	if i := d.Instance; i == nil {
		fmt.Fprintln(w, "Instance:\t<none known to the cloud>")
	} else {
		fmt.Fprintln(w, "Instance:")
		field(1, "ID", i.ID)
		field(1, "Type", i.InstanceType)
		field(1, "Zone", i.Zone)
		state := i.State
		if i.StateReason != "" {
			state += " (" + i.StateReason + ")"
		}
		field(1, "State", state)
		field(1, "Lifecycle state", orDash(i.LifecycleState))
		field(1, "Launched", i.LaunchTime.Format(time.RFC3339))
		image := i.ImageID
		if i.AMIType != "" {
			image += " (" + i.AMIType + ", release " + i.ReleaseVersion + ")"
		}
		field(1, "Image", image)
		field(1, "Launch template", orDash(i.LaunchTemplate))
		field(1, "Capacity type", i.CapacityType)
		field(1, "Price", price(i.PricePerHour)+" USD/hour")
		for _, notice := range []struct {
			name string
			at   *time.Time
		}{{"Spot interruption", i.SpotInterruptionTime}, {"Rebalance recommended", i.RebalanceRecommended}, {"Retirement", i.RetirementTime}} {
			if notice.at != nil {
				field(1, notice.name, notice.at.UTC().Format(time.RFC3339))
			}
		}
	}
	if g := d.Group; g == nil {
		fmt.Fprintln(w, "Group:\t<none>")
	} else {
		fmt.Fprintln(w, "Group:")
		field(1, groupKind[g.DataPlane], g.Name)
		if g.AutoScalingGroupName != "" && g.DataPlane != inventory.SelfManagedGroup {
			field(1, "Auto Scaling group", g.AutoScalingGroupName)
		}
		if s := g.Size; s != nil {
			field(1, "Size", fmt.Sprintf("min %d, max %d, desired %d (%d in service, %d pending)", s.Min, s.Max, s.Desired, s.InService, s.Pending))
			field(1, "Capacity type", g.CapacityType)
			field(1, "Launch template", orDash(g.LaunchTemplate))
		}
		if g.Status != "" {
			field(1, "Status", g.Status)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(out, "Pods (%d of %d):\n", n.Pods, n.MaxPods)
	var pods [][]string
	for _, p := range d.Pods {
		pods = append(pods, []string{p.Namespace, p.Name, p.Phase, orDash(p.CPU), orDash(p.Memory), humanAge(p.Age.Duration)})
	}
	if err := indented(out, "NAMESPACE\tNAME\tPHASE\tCPU REQUESTS\tMEMORY REQUESTS\tAGE", pods); err != nil {
		return err
	}
	fmt.Fprintln(out, "Events:")
	var events [][]string
	for _, e := range d.Events {
		age := humanAge(e.Age.Duration)
		if e.Count > 1 {
			age += fmt.Sprintf(" (x%d)", e.Count)
		}
		events = append(events, []string{age, orDash(e.Type), orDash(e.Reason), orDash(e.From), e.Object, e.Message})
	}
	return indented(out, "AGE\tTYPE\tREASON\tFROM\tOBJECT\tMESSAGE", events)
}

// groupKind is what a group of each data plane is called.
var groupKind = map[inventory.DataPlane]string{
	inventory.Managed:          "Node group",
	inventory.Fargate:          "Fargate profile",
	inventory.SelfManagedGroup: "Auto Scaling group",
}

// list writes a field of several values, one a line, or <none>.
func list(w io.Writer, name string, values []string, note string) {
	if len(values) == 0 {
		fmt.Fprintf(w, "%s:\t<none>\n", name)
		return
	}
	for i, v := range values {
		if i == 0 {
			fmt.Fprintf(w, "%s:\t%s\n", name, v)
		} else {
			fmt.Fprintf(w, "\t%s\n", v)
		}
	}
	if note != "" {
		fmt.Fprintf(w, "\t%s\n", note)
	}
}

// indented writes a table two spaces in, or <none>.
func indented(out io.Writer, header string, rows [][]string) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(out, "  <none>")
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  "+header)
	for _, r := range rows {
		fmt.Fprintln(w, "  "+strings.Join(r, "\t"))
	}
	return w.Flush()
}
