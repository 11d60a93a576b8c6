package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// The human views of node groups, updates and Fargate profiles; -o json
// and -o yaml print the EKS API's documents instead (printDocument).

func newTable(out io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(out, 0, 4, 2, ' ', 0) }

// age is kubectl's: 5m, 3h, 2d.
func age(t *types.Timestamp, now time.Time) string {
	if t == nil {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func int32s(p *int32) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func printNodegroupTable(out io.Writer, groups []*eks.NodegroupProgress, now time.Time) error {
	if len(groups) == 0 {
		_, err := fmt.Fprintln(out, "No node groups.")
		return err
	}
	w := newTable(out)
	fmt.Fprintln(w, "NAME\tSTATUS\tINSTANCE TYPES\tCAPACITY\tREADY\tMIN\tMAX\tVERSION\tRELEASE\tAGE")
	for _, p := range groups {
		ng := p.Nodegroup
		desired, minS, maxS := "-", "-", "-"
		if sc := ng.ScalingConfig; sc != nil {
			desired, minS, maxS = int32s(sc.DesiredSize), int32s(sc.MinSize), int32s(sc.MaxSize)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d/%s\t%s\t%s\t%s\t%s\t%s\n", ng.NodegroupName, ng.Status,
			orDash(strings.Join(ng.InstanceTypes, ",")), orDash(string(ng.CapacityType)), p.ReadyNodes, desired, minS, maxS,
			orDash(ng.Version), orDash(ng.ReleaseVersion), age(ng.CreatedAt, now))
	}
	return w.Flush()
}

// describeRows prints "Label:  value" rows, kubectl describe's way.
type describeRows struct{ w *tabwriter.Writer }

func (f describeRows) row(label string, value any) { fmt.Fprintf(f.w, "%s:\t%v\n", label, value) }

func sortedPairs(m map[string]string, sep string) string {
	if len(m) == 0 {
		return "-"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + sep + m[k]
	}
	return strings.Join(parts, ", ")
}

func when(t *types.Timestamp, now time.Time) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), duration.HumanDuration(now.Sub(t.Time)))
}

func printNodegroupDescription(out io.Writer, p *eks.NodegroupProgress, updates []*types.Update, now time.Time) error {
	ng := p.Nodegroup
	w := newTable(out)
	f := describeRows{w}
	f.row("Name", ng.NodegroupName)
	f.row("Cluster", ng.ClusterName)
	f.row("ARN", orDash(ng.NodegroupArn))
	f.row("Status", ng.Status)
	f.row("Kubernetes version", orDash(ng.Version))
	f.row("Release version", orDash(ng.ReleaseVersion))
	f.row("AMI type", orDash(string(ng.AmiType)))
	f.row("Capacity type", orDash(string(ng.CapacityType)))
	f.row("Instance types", orDash(strings.Join(ng.InstanceTypes, ", ")))
	if lt := ng.LaunchTemplate; lt != nil {
		f.row("Launch template", fmt.Sprintf("%s %s version %s", orDash(lt.Name), orDash(lt.Id), orDash(lt.Version)))
	}
	if sc := ng.ScalingConfig; sc != nil {
		f.row("Scaling", fmt.Sprintf("min %s, max %s, desired %s", int32s(sc.MinSize), int32s(sc.MaxSize), int32s(sc.DesiredSize)))
	}
	f.row("Nodes", fmt.Sprintf("%d Ready of %d registered, %d instances", p.ReadyNodes, p.Nodes, p.Instances))
	if ng.DiskSize != nil {
		f.row("Disk size", int32s(ng.DiskSize)+" GiB")
	}
	f.row("Subnets", orDash(strings.Join(ng.Subnets, ", ")))
	f.row("Node role", orDash(ng.NodeRole))
	f.row("Labels", sortedPairs(ng.Labels, "="))
	var taints []string
	for _, t := range ng.Taints {
		taints = append(taints, fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect))
	}
	f.row("Taints", orDash(strings.Join(taints, ", ")))
	if u := ng.UpdateConfig; u != nil {
		s := "maxUnavailable " + int32s(u.MaxUnavailable)
		if u.MaxUnavailablePercentage != nil {
			s = "maxUnavailablePercentage " + int32s(u.MaxUnavailablePercentage)
		}
		if u.UpdateStrategy != "" {
			s += ", strategy " + string(u.UpdateStrategy)
		}
		f.row("Update config", s)
	}
	if r := ng.NodeRepairConfig; r != nil && r.Enabled != nil {
		f.row("Node repair", fmt.Sprint(*r.Enabled))
	}
	if r := ng.Resources; r != nil {
		var asgs []string
		for _, g := range r.AutoScalingGroups {
			asgs = append(asgs, g.Name)
		}
		f.row("Auto Scaling groups", orDash(strings.Join(asgs, ", ")))
	}
	f.row("Tags", sortedPairs(ng.Tags, "="))
	f.row("Created", when(ng.CreatedAt, now))
	f.row("Modified", when(ng.ModifiedAt, now))
	if ng.Health == nil || len(ng.Health.Issues) == 0 {
		f.row("Health", "no issues")
	}
	if ng.Health != nil {
		for _, i := range ng.Health.Issues {
			f.row("Health", issueText(string(i.Code), i.Message, i.ResourceIds))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(updates) > 0 {
		fmt.Fprintln(out, "\nUpdates (newest last):")
		return printUpdateTable(out, updates, now)
	}
	return nil
}

func printUpdateTable(out io.Writer, updates []*types.Update, now time.Time) error {
	if len(updates) == 0 {
		_, err := fmt.Fprintln(out, "No updates.")
		return err
	}
	w := newTable(out)
	fmt.Fprintln(w, "ID\tTYPE\tSTATUS\tPARAMS\tAGE\tERRORS")
	for _, u := range updates {
		var errs []string
		for _, e := range u.Errors {
			errs = append(errs, string(e.ErrorCode))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Id, u.Type, u.Status, orDash(params(u.Params)), age(u.CreatedAt, now), orDash(strings.Join(errs, ",")))
	}
	return w.Flush()
}

func params(ps []types.UpdateParam) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = string(p.Type) + "=" + p.Value
	}
	return strings.Join(parts, " ")
}

// printUpdate prints an update: its description (with its rollout's
// progress if p is given), or the document {"update": ...}.
func printUpdate(out io.Writer, format string, u *types.Update, p *eks.UpdateProgress, now time.Time) error {
	if format != "table" {
		return printDocument(out, format, &types.DescribeUpdateResponse{Update: u})
	}
	w := newTable(out)
	f := describeRows{w}
	f.row("Update", u.Id)
	f.row("Type", u.Type)
	f.row("Status", u.Status)
	f.row("Created", when(u.CreatedAt, now))
	for _, pa := range u.Params {
		f.row("  "+string(pa.Type), pa.Value)
	}
	if p != nil && p.Phase != "" {
		phase := p.Phase
		if !p.PhaseStartedAt.IsZero() {
			phase += fmt.Sprintf(" (for %s)", duration.HumanDuration(now.Sub(p.PhaseStartedAt)))
		}
		f.row("Phase", phase)
		f.row("Nodes replaced", fmt.Sprintf("%d of %d", p.NodesReplaced, p.NodesToReplace))
		f.row("Pods evicted", p.PodsEvicted)
		for _, it := range drainItems(p) {
			f.row("  drain", strings.TrimSpace(it.Line(now)))
		}
	}
	for _, e := range u.Errors {
		f.row("Error", fmt.Sprintf("%s: %s", e.ErrorCode, e.ErrorMessage))
		if len(e.ResourceIds) > 0 {
			f.row("  resources", strings.Join(e.ResourceIds, ", "))
		}
	}
	return w.Flush()
}

func selectorsText(sels []types.FargateProfileSelector) string {
	parts := make([]string, len(sels))
	for i, s := range sels {
		parts[i] = s.Namespace
		if len(s.Labels) > 0 {
			parts[i] += "{" + sortedPairs(s.Labels, "=") + "}"
		}
	}
	return strings.Join(parts, " ")
}

func printFargateProfileTable(out io.Writer, profiles []*types.FargateProfile, now time.Time) error {
	if len(profiles) == 0 {
		_, err := fmt.Fprintln(out, "No Fargate profiles.")
		return err
	}
	w := newTable(out)
	fmt.Fprintln(w, "NAME\tSTATUS\tSELECTORS\tSUBNETS\tAGE")
	for _, p := range profiles {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.FargateProfileName, p.Status, orDash(selectorsText(p.Selectors)), orDash(strings.Join(p.Subnets, ",")), age(p.CreatedAt, now))
	}
	return w.Flush()
}

func printFargateProfileDescription(out io.Writer, p *types.FargateProfile, now time.Time) error {
	w := newTable(out)
	f := describeRows{w}
	f.row("Name", p.FargateProfileName)
	f.row("Cluster", p.ClusterName)
	f.row("ARN", orDash(p.FargateProfileArn))
	f.row("Status", p.Status)
	f.row("Pod execution role", orDash(p.PodExecutionRoleArn))
	f.row("Subnets", orDash(strings.Join(p.Subnets, ", ")))
	for i, s := range p.Selectors {
		f.row(fmt.Sprintf("Selector %d", i+1), fmt.Sprintf("namespace %s, labels %s", s.Namespace, sortedPairs(s.Labels, "=")))
	}
	f.row("Tags", sortedPairs(p.Tags, "="))
	f.row("Created", when(p.CreatedAt, now))
	if p.Health == nil || len(p.Health.Issues) == 0 {
		f.row("Health", "no issues")
	} else {
		for _, i := range p.Health.Issues {
			f.row("Health", issueText(string(i.Code), i.Message, i.ResourceIds))
		}
	}
	return w.Flush()
}

// issueText is a health issue on one line: "Code: message (resources)".
func issueText(code, message string, resources []string) string {
	s := code + ": " + message
	if len(resources) > 0 {
		s += " (" + strings.Join(resources, ", ") + ")"
	}
	return s
}
