package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cloud/sim/scenario"
	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
)

type scenarioFlags struct {
	listFlags
	file   string
	detach bool
}

func newScenarioCommand() *cobra.Command {
	f := &scenarioFlags{}
	cmd := &cobra.Command{
		Use:   "scenario -f FILE",
		Short: "Play a seeded fault scenario (YAML) inside kdp, and follow it",
		Long: `Play a seeded fault scenario in the simulated cloud, and print each action as it
happens and, at the end, every group's instances by state. The scenario runs inside
kdp, not in this command: interrupting the command leaves it running (follow it with
kdp sim scenario status, stop it with kdp sim scenario stop), and a restart of kdp
resumes it. A scenario is YAML:

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
			if f.file == "" {
				return fmt.Errorf("-f: required (or use kdp sim scenario status|stop)")
			}
			data, err := os.ReadFile(f.file)
			if err != nil {
				return fmt.Errorf("-f: %w", err)
			}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			cat, err := scenarioCatalog(cmd.Context(), c)
			if err != nil {
				return err
			}
			sc, err := scenario.Parse(data, cat)
			if err != nil {
				return fmt.Errorf("scenario %s: %w", f.file, flagError(err))
			}
			st, err := c.StartScenario(cmd.Context(), sc)
			if err != nil {
				return fmt.Errorf("scenario %s: %w", f.file, flagError(err))
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "scenario %s started: %d actions, seed %d\n", st.ID, st.Actions, st.Seed)
			if f.detach {
				return nil
			}
			return follow(cmd.Context(), c, st.ID, out)
		},
	}
	f.add(cmd.Flags())
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "scenario file")
	cmd.Flags().BoolVar(&f.detach, "detach", false, "start the scenario and return at once")

	status := &cobra.Command{
		Use: "status [ID]", Short: "Show a scenario's progress (default: the newest)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			st, err := c.ScenarioStatus(cmd.Context(), firstArg(args))
			if err != nil {
				return err
			}
			if f.output == "json" {
				return printJSON(cmd.OutOrStdout(), st)
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	f.add(status.Flags())
	status.Flags().StringVarP(&f.output, "output", "o", "table", "table or json")
	stop := &cobra.Command{
		Use: "stop [ID]", Short: "Stop a running scenario (default: the newest): no further action; its slow-boot and launch-failure windows end",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := f.cloud(cmd.Context())
			if err != nil {
				return err
			}
			st, err := c.StopScenario(cmd.Context(), firstArg(args))
			if err != nil {
				return err
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	f.add(stop.Flags())
	cmd.AddCommand(status, stop)
	return cmd
}

// names is the cloud's catalogue as a scenario checks it.
type names struct{ types, zones map[string]bool }

func (n names) HasInstanceType(t string) bool { return n.types[t] }
func (n names) HasZone(z string) bool         { return n.zones[strings.ToLower(z)] }

func scenarioCatalog(ctx context.Context, c *simapi.Client) (names, error) {
	n := names{types: map[string]bool{}, zones: map[string]bool{}}
	types, err := c.InstanceTypes(ctx)
	if err != nil {
		return n, err
	}
	for _, t := range types {
		n.types[t.Name] = true
	}
	subnets, err := c.Subnets(ctx)
	if err != nil {
		return n, err
	}
	for _, s := range subnets {
		n.zones[strings.ToLower(s.Zone)] = true
	}
	return n, nil
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

func printStatus(out io.Writer, st *sim.ScenarioStatus) {
	fmt.Fprintf(out, "scenario %s: %s, %d of %d actions done, %d failed (seed %d, started %s)\n",
		st.ID, st.State, st.Done, st.Actions, st.Failed, st.Seed, st.Started.Format(time.RFC3339))
	for _, l := range st.Log {
		fmt.Fprintln(out, l)
	}
}

// follow prints a scenario's log as it grows, until it ends. Interrupted,
// it says that the scenario goes on.
func follow(ctx context.Context, c *simapi.Client, id string, out io.Writer) error {
	printed := 0
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := c.ScenarioStatus(context.WithoutCancel(ctx), id)
		if err != nil {
			return err
		}
		for ; printed < len(st.Log); printed++ {
			fmt.Fprintln(out, st.Log[printed])
		}
		switch st.State {
		case sim.ScenarioSucceeded, sim.ScenarioStopped:
			return nil
		case sim.ScenarioFailed:
			return errors.New("the scenario ended with failed actions (see above)")
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "scenario %s goes on in kdp: follow it with kdp sim scenario status, stop it with kdp sim scenario stop\n", id)
			return nil
		case <-tick.C:
		}
	}
}
