package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/billing"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

type costFlags struct {
	clusterFlags
	since  time.Duration
	output string
}

func newCostCommand() *cobra.Command {
	f := &costFlags{}
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "What the running cluster costs: managed nodes, Fargate pods and self-managed nodes, per hour and per month",
		Long: `Price every instance of the cluster's cloud: managed node groups' and self-managed
nodes by instance type and capacity type (spot at the zone's spot price), Fargate pods
by their provisioned size (vCPU-hours, GB-hours, storage above 20 GB). Monthly is 730
hours of the hourly rate. With --since, also what they cost over that window, billed
per second with a one-minute minimum (terminated instances count for as long as the
cloud lists them: an hour). kdp up exports the hourly cost as the metric
kdp_cost_dollars_per_hour{data_plane,group}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.output != "table" && f.output != "json" {
				return fmt.Errorf("-o %q: must be table or json", f.output)
			}
			if f.since < 0 {
				return fmt.Errorf("--since %s: must not be negative", f.since)
			}
			return runCost(cmd.Context(), f, cmd.OutOrStdout())
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().DurationVar(&f.since, "since", 0, "also the cost accrued over this window before now (e.g. 1h)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "table or json")
	return cmd
}

func runCost(ctx context.Context, f *costFlags, out io.Writer) error {
	c, info, err := f.cloud(ctx)
	if err != nil {
		return err
	}
	types, err := c.InstanceTypes(ctx)
	if err != nil {
		return err
	}
	cat, err := catalog.New(info.Region, info.Zones)
	if err != nil {
		return err
	}
	instances, err := billing.Instances(ctx, c)
	if err != nil {
		return err
	}
	b := billing.Compute(instances, billing.NewPrices(types, cat.FargatePrices()), time.Now(), f.since)
	if f.output == "json" {
		return printJSON(out, costJSON{Bill: b, Since: durationString(f.since), Currency: "USD"})
	}
	return printCost(out, b, cat.FargatePrices())
}

// costJSON is kdp cost -o json: the bill, its window as a string.
type costJSON struct {
	billing.Bill
	Since    string `json:"since,omitempty"`
	Currency string `json:"currency"`
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func printCost(out io.Writer, b billing.Bill, fp catalog.FargatePrices) error {
	header := "DATA PLANE\tGROUP\tINSTANCE TYPE\tCAPACITY\tRUNNING\t$/HOUR\t$/MONTH"
	if b.Since > 0 {
		header += "\t$ SINCE " + b.Since.String()
	}
	var rows [][]string
	for _, l := range b.Lines {
		group := l.Group
		if group == "" {
			group = "-"
		}
		r := []string{string(l.DataPlane), group, l.InstanceType, l.CapacityType, fmt.Sprint(l.Running), dollars(l.HourlyUSD), dollars(l.MonthlyUSD)}
		if b.Since > 0 {
			r = append(r, dollars(l.AccruedUSD))
		}
		rows = append(rows, r)
	}
	total := []string{"total", "", "", "", "", dollars(b.HourlyUSD), dollars(b.MonthlyUSD)}
	if b.Since > 0 {
		total = append(total, dollars(b.AccruedUSD))
	}
	rows = append(rows, total)
	if err := table(out, header, rows); err != nil {
		return err
	}
	for _, u := range b.Unpriced {
		fmt.Fprintf(out, "not priced (no price in the catalogue): %s\n", u)
	}
	_, err := fmt.Fprintf(out, "prices: the simulated cloud's catalogue (EC2 on-demand and spot); Fargate %s, as of %s\n", fp.Source, fp.AsOf)
	return err
}

// dollars is an amount of USD to the hundredth of a cent (an hour of a
// small Fargate pod is about a cent).
func dollars(v float64) string { return fmt.Sprintf("%.4f", v) }
