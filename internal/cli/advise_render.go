package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The renderers of kdp advise's report: a table for the terminal and
// markdown for a pull request. Both read only the report, so every output
// says the same.

func money(x float64) string { return "$" + strconv.FormatFloat(x, 'f', 2, 64) }

func (w *adviseWorkload) id() string { return w.Kind + " " + w.Namespace + "/" + w.Name }

func (w *adviseWorkload) replicas() string {
	switch {
	case w.Replicas == nil:
		return "one per node"
	case *w.Replicas == 1:
		return "1 replica"
	}
	return strconv.Itoa(int(*w.Replicas)) + " replicas"
}

// detail says what an option's cost is made of, or why there is none.
func (o *adviseOption) detail() string {
	switch {
	case len(o.Reasons) > 0:
		r := o.Reasons[0]
		return r.Rule + " (" + r.Field + "): " + r.Message
	case o.FargateSize != "":
		return fmt.Sprintf("%s × %d", o.FargateSize, o.Pods)
	case o.InstanceType != "":
		return fmt.Sprintf("%d × %s", o.Nodes, o.InstanceType)
	}
	return o.Note
}

func (o *adviseOption) mark() string {
	if len(o.Reasons) > 0 {
		return "✗"
	}
	return "✓"
}

func (o *adviseOption) cost() string {
	if o.MonthlyUsd == nil {
		return "-"
	}
	return money(*o.MonthlyUsd)
}

func (l *adviseLever) cost() string {
	if l.MonthlyUsd == nil {
		return "-"
	}
	return money(*l.MonthlyUsd)
}

func (p *advisePlan) cannotRun() string {
	if len(p.CannotRun) == 0 {
		return "-"
	}
	ids := make([]string, len(p.CannotRun))
	for i, c := range p.CannotRun {
		ids[i] = c.Workload
	}
	return strings.Join(ids, ", ")
}

func (p *advisePool) label() string {
	l := p.Option
	for _, f := range []struct {
		on   bool
		name string
	}{{p.GPU, "gpu"}, {p.Spot, "spot"}, {p.Graviton, "graviton"}} {
		if f.on {
			l += ", " + f.name
		}
	}
	return l
}

func (r *adviseReport) priceLines() []string {
	p := r.Prices
	return []string{
		fmt.Sprintf("Fargate: %s, %s, as of %s", p.Fargate.Source, p.Fargate.Region, p.Fargate.AsOf),
		fmt.Sprintf("EC2 on demand: %s, %s, as of %s", p.EC2.Source, p.EC2.Region, p.EC2.AsOf),
		"EC2 spot: " + p.Spot,
		fmt.Sprintf("a month is %s; discounts assumed: Fargate Compute Savings Plan %.0f%%, EC2 Compute Savings Plan %.0f%%, Reserved Instances %.0f%%",
			p.Month, 100*p.Discounts.FargateSavingsPlan, 100*p.Discounts.EC2SavingsPlan, 100*p.Discounts.ReservedInstances),
		"note: " + p.Note,
	}
}

func adviseTable(out io.Writer, r *adviseReport) error {
	var b strings.Builder
	if len(r.Workloads) == 0 {
		b.WriteString("no workloads in the manifests\n")
	}
	for i := range r.Workloads {
		w := &r.Workloads[i]
		fmt.Fprintf(&b, "%s  %s  %s\n", w.Source, w.id(), w.replicas())
		for j := range w.Options {
			o := &w.Options[j]
			fmt.Fprintf(&b, "  %-18s  %s  %9s  %s\n", o.Option, o.mark(), o.cost(), o.detail())
		}
		fmt.Fprintf(&b, "  recommended: %s: %s\n", w.Recommendation.Option, w.Recommendation.Why)
		for _, l := range w.Recommendation.Levers {
			fmt.Fprintf(&b, "    %-20s  %9s  %s\n", l.Name, l.cost(), l.Why)
		}
		b.WriteString("\n")
	}

	b.WriteString("Cluster summary (per month, USD)\n")
	rows := [][]string{{"mix: " + r.Summary.Mix.Name, money(r.Summary.Mix.MonthlyUsd), money(r.Summary.Mix.WithLeversUsd), r.Summary.Mix.cannotRun()}}
	for _, p := range r.Summary.Single {
		rows = append(rows, []string{"all on " + p.Name, money(p.MonthlyUsd), money(p.WithLeversUsd), p.cannotRun()})
	}
	if err := writeString(out, b.String()); err != nil {
		return err
	}
	b.Reset()
	if err := table(out, "PLAN\tON DEMAND\tWITH LEVERS\tCANNOT RUN", rows); err != nil {
		return err
	}
	plans := append([]advisePlan{r.Summary.Mix}, r.Summary.Single...)
	for i := range plans {
		p := &plans[i]
		name := "all on " + p.Name
		if i == 0 {
			name = "mix (" + p.Name + ")"
		}
		fmt.Fprintf(&b, "\n%s: %s on demand, %s with levers\n", name, money(p.MonthlyUsd), money(p.WithLeversUsd))
		if len(p.FargateWorkloads) > 0 {
			fmt.Fprintf(&b, "  fargate: %s: %s\n", money(p.FargateMonthlyUsd), strings.Join(p.FargateWorkloads, ", "))
		}
		for _, pool := range p.Pools {
			fmt.Fprintf(&b, "  %s: %d × %s, %s (%s with levers): %s\n", pool.label(), pool.Nodes, pool.InstanceType,
				money(pool.MonthlyUsd), money(pool.WithLeversUsd), strings.Join(pool.Workloads, ", "))
		}
		for _, c := range p.CannotRun {
			fmt.Fprintf(&b, "  cannot run %s: %s\n", c.Workload, c.Why)
		}
	}
	if len(r.Rules) > 0 {
		b.WriteString("\nRules cited\n")
		for _, rule := range r.Rules {
			fmt.Fprintf(&b, "  %-26s  %s\n", rule.Rule, rule.Source)
		}
	}
	b.WriteString("\nPrices\n")
	for _, l := range r.priceLines() {
		b.WriteString("  " + l + "\n")
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "\nSkipped: %d (see stderr)\n", len(r.Skipped))
	}
	return writeString(out, b.String())
}

func writeString(out io.Writer, s string) error {
	_, err := io.WriteString(out, s)
	return err
}

// cell escapes text for a markdown table's cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func mdRow(b *strings.Builder, cells ...string) {
	for i := range cells {
		cells[i] = cell(cells[i])
	}
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

func mdHeader(b *strings.Builder, cells ...string) {
	mdRow(b, cells...)
	b.WriteString("|" + strings.Repeat(" --- |", len(cells)) + "\n")
}

func adviseMarkdown(out io.Writer, r *adviseReport) error {
	var b strings.Builder
	b.WriteString("# kdp advise\n\n")
	fmt.Fprintf(&b, "%d workloads, priced for %s. Costs are per month, in USD, on demand unless said otherwise.\n\n", len(r.Workloads), r.Region)

	b.WriteString("## Where each workload can run\n\n")
	mdHeader(&b, "manifest", "workload", "replicas", "fargate", "managed-node-group", "self-managed", "recommended")
	for i := range r.Workloads {
		w := &r.Workloads[i]
		cells := []string{"`" + w.Source.String() + "`", w.id(), w.replicas()}
		for j := range w.Options {
			o := &w.Options[j]
			c := o.mark()
			if o.MonthlyUsd != nil {
				c += " " + money(*o.MonthlyUsd)
			}
			cells = append(cells, c)
		}
		mdRow(&b, append(cells, "**"+w.Recommendation.Option+"**")...)
	}

	b.WriteString("\n## Why not\n\n")
	mdHeader(&b, "workload", "option", "rule", "field", "reason")
	for i := range r.Workloads {
		w := &r.Workloads[i]
		for _, o := range w.Options {
			for _, reason := range o.Reasons {
				mdRow(&b, w.id(), o.Option, "`"+reason.Rule+"`", "`"+reason.Field+"`", reason.Message)
			}
			if len(o.Reasons) == 0 && !o.Feasible && o.Note != "" {
				mdRow(&b, w.id(), o.Option, "", "", o.Note)
			}
		}
	}

	b.WriteString("\n## Recommendations and cost levers\n\n")
	mdHeader(&b, "workload", "recommended", "cost", "lever", "with the lever", "why")
	for i := range r.Workloads {
		w := &r.Workloads[i]
		rec := w.Recommendation
		c := "-"
		for j := range w.Options {
			if w.Options[j].Option == rec.Option {
				c = w.Options[j].cost()
			}
		}
		mdRow(&b, w.id(), rec.Option, c, "", "", rec.Why)
		for _, l := range rec.Levers {
			mdRow(&b, "", "", "", "`"+l.Name+"`", l.cost(), l.Why)
		}
	}

	b.WriteString("\n## Cluster summary\n\n")
	mdHeader(&b, "plan", "on demand", "with levers", "cannot run")
	mdRow(&b, "**mix: "+r.Summary.Mix.Name+"**", money(r.Summary.Mix.MonthlyUsd), money(r.Summary.Mix.WithLeversUsd), r.Summary.Mix.cannotRun())
	for _, p := range r.Summary.Single {
		mdRow(&b, "all on "+p.Name, money(p.MonthlyUsd), money(p.WithLeversUsd), p.cannotRun())
	}
	fmt.Fprintf(&b, "\n### The mix (%s)\n\n", r.Summary.Mix.Name)
	mdHeader(&b, "where", "nodes", "on demand", "with levers", "workloads")
	m := &r.Summary.Mix
	if len(m.FargateWorkloads) > 0 {
		mdRow(&b, "fargate", "-", money(m.FargateMonthlyUsd), "", strings.Join(m.FargateWorkloads, ", "))
	}
	for _, pool := range m.Pools {
		mdRow(&b, pool.label(), fmt.Sprintf("%d × %s", pool.Nodes, pool.InstanceType), money(pool.MonthlyUsd), money(pool.WithLeversUsd), strings.Join(pool.Workloads, ", "))
	}
	var cannot strings.Builder
	for _, c := range m.CannotRun {
		mdRow(&cannot, "mix", c.Workload, c.Why)
	}
	for _, p := range r.Summary.Single {
		for _, c := range p.CannotRun {
			mdRow(&cannot, "all on "+p.Name, c.Workload, c.Why)
		}
	}
	if cannot.Len() > 0 {
		b.WriteString("\n### What each plan cannot run\n\n")
		mdHeader(&b, "plan", "workload", "why")
		b.WriteString(cannot.String())
	}

	if len(r.Rules) > 0 {
		b.WriteString("\n## Rules cited\n\n")
		mdHeader(&b, "rule", "source")
		for _, rule := range r.Rules {
			mdRow(&b, "`"+rule.Rule+"`", rule.Source)
		}
	}
	b.WriteString("\n## Prices\n\n")
	for _, l := range r.priceLines() {
		b.WriteString("- " + l + "\n")
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\n## Skipped\n\n")
		mdHeader(&b, "manifest", "problem")
		for _, s := range r.Skipped {
			mdRow(&b, "`"+s.Source.String()+"`", s.Error)
		}
	}
	return writeString(out, b.String())
}
