package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kdp-project/kdp/internal/advise"
	"github.com/kdp-project/kdp/internal/advise/collect"
	"github.com/kdp-project/kdp/internal/advise/manifest"
	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
)

// Exit statuses of kdp advise.
const (
	// exitSkipped: something in the manifests could not be read or was
	// skipped (reported on stderr by file and line); the rest was analysed.
	exitSkipped = 2
)

type adviseFlags struct {
	clusterFlags
	live       bool
	files      []string
	region     string
	gravitonOK bool
	output     string
}

func (f *adviseFlags) add(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.files, "filename", "f", nil, "manifests to read: a file, a directory (its .yaml, .yml and .json files, recursively) or - for stdin; repeatable")
	fs.StringVar(&f.region, "region", "us-east-1", "the region to price in (the catalogue has one price set, us-east-1's, for every region)")
	fs.BoolVar(&f.gravitonOK, "graviton-ok", false, "every image is multi-arch: Graviton (arm64) nodes may run every workload")
	fs.BoolVar(&f.live, "live", false, "also judge the running cluster's workloads (every namespace), as --data-dir or --kubeconfig find it")
	f.clusterFlags.add(fs)
	fs.StringVarP(&f.output, "output", "o", "table", "output format: table, json, markdown, or html (one self-contained file: a chart of the costs, a table of the reasons, links to the manifests' lines)")
}

func newAdviseCommand() *cobra.Command {
	f := &adviseFlags{}
	cmd := &cobra.Command{
		Use:   "advise -f FILE|DIR|- [-f ...] | --live",
		Short: "Say for each workload of the manifests which data plane can run it, which to use, and what each costs",
		Long: `kdp advise reads workloads (Deployments, StatefulSets, DaemonSets, ReplicaSets,
Jobs, CronJobs and bare Pods) from manifests, as kubectl apply -f takes them, and
for each says where it can run (Fargate, managed node groups, self-managed
nodes) and why not elsewhere, citing the rule and the field; which to use, with
the cost levers that apply there; and what it costs per month on each option.
Then, for the cluster as a whole, the mix that costs least while keeping every
rule, and what it would cost on each single option. See docs/advise.md.

Exit status: 0 when every document was analysed; 2 when some were skipped (a
document that cannot be read, a workload defined twice, an unsupported API
version: each reported on stderr by file and line; the rest is still
analysed); 1 for a usage error (no -f, a path that cannot be read, a bad flag)
with no report.`,
		Example: `  kdp advise -f deploy/
  helm template my-chart | kdp advise -f - -o markdown
  kdp advise -f app.yaml --graviton-ok -o json
  kdp advise -f deploy/ -o html > advice.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var live []manifest.Object
			if f.live {
				c, err := f.connect()
				if err != nil {
					return fmt.Errorf("advise --live: %w", err)
				}
				if live, err = liveObjects(cmd.Context(), c.client); err != nil {
					return fmt.Errorf("advise --live: %w", err)
				}
			}
			return runAdvise(f, live, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.add(cmd.Flags())
	return cmd
}

// regionName is the shape of an AWS region's name: us-east-1,
// ap-southeast-2, us-gov-west-1.
var regionName = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$`)

// runAdvise judges the manifests of f's files and the live objects (of
// --live).
func runAdvise(f *adviseFlags, live []manifest.Object, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(f.files) == 0 && !f.live {
		return errors.New("advise: no manifests: name them with -f FILE|DIR|- (repeatable), or judge the cluster's workloads with --live")
	}
	render, ok := adviseRenderers[f.output]
	if !ok {
		return fmt.Errorf("advise: -o %s: must be table, json, markdown or html", f.output)
	}
	if !regionName.MatchString(f.region) {
		return fmt.Errorf("advise: --region %q: not an AWS region name (like us-east-1 or eu-west-1)", f.region)
	}
	// The simulated cloud's catalogue for the region: its spot prices are
	// the simulated ones of the region's zones; every other price is
	// us-east-1's (see the report's price note).
	cat, err := catalog.New(f.region, 3)
	if err != nil {
		return fmt.Errorf("advise: loading the catalogue: %w", err)
	}

	objs, problems := manifest.Read(f.files, stdin)
	objs = append(objs, live...)
	var unreadable []string
	for _, p := range problems {
		if p.Source.Line == 0 {
			unreadable = append(unreadable, p.Source.File+": "+p.Err.Error())
		}
	}
	if len(unreadable) > 0 {
		return fmt.Errorf("advise: cannot read %s", strings.Join(unreadable, "; "))
	}
	c := collect.Workloads(objs, collect.Options{MultiArch: f.gravitonOK})
	problems = append(problems, c.Problems...)
	sortProblems(problems)

	r := advise.Advise(advise.Input{Workloads: c.Workloads, StorageClasses: c.StorageClasses, Prices: advise.PricesFrom(cat)})
	report := newAdviseReport(r, cat, problems)
	for _, p := range problems {
		fmt.Fprintf(stderr, "kdp advise: %s (skipped)\n", p.Error())
	}
	err = render(stdout, report)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return &exitError{code: exitSkipped, err: fmt.Errorf("advise: %d skipped (see above); the rest was analysed", len(problems))}
	}
	return nil
}

// sortProblems orders problems by file and line.
func sortProblems(ps []manifest.Problem) {
	slices.SortStableFunc(ps, func(a, b manifest.Problem) int {
		return cmp.Or(cmp.Compare(a.Source.File, b.Source.File), cmp.Compare(a.Source.Line, b.Source.Line))
	})
}

var adviseRenderers = map[string]func(io.Writer, *adviseReport) error{
	"table":    adviseTable,
	"json":     func(w io.Writer, r *adviseReport) error { return printJSON(w, r) },
	"markdown": adviseMarkdown,
	"html":     adviseHTML,
}
