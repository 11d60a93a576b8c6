package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/progress"
)

// Exit statuses of --wait: 0 when the operation succeeded, 1 when it
// failed, exitStoppedWatching when the user stopped watching (the
// operation goes on).
const exitStoppedWatching = 130

// waitFlags are --wait and its bounds.
type waitFlags struct {
	wait     bool
	timeout  time.Duration
	interval time.Duration
}

// add registers the flags on cmd, which checks them before it runs (a
// bad one must not fail the command after the operation has started).
func (f *waitFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.wait, "wait", false, "watch the operation until it is over: a live view in a terminal, timestamped lines otherwise; exit 1 if it fails")
	fs.DurationVar(&f.timeout, "wait-timeout", 0, "stop watching after this long (0: no limit); the operation goes on")
	fs.DurationVar(&f.interval, "wait-interval", time.Second, "how often --wait looks")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error { return f.check(cmd.Flags()) }
}

func (f *waitFlags) check(fs *pflag.FlagSet) error {
	switch {
	case f.interval <= 0:
		return fmt.Errorf("--wait-interval %s: must be positive", f.interval)
	case f.timeout < 0:
		return fmt.Errorf("--wait-timeout %s: must not be negative (0: no limit)", f.timeout)
	case (fs.Changed("wait-interval") || fs.Changed("wait-timeout")) && !f.wait:
		return fmt.Errorf("--wait-interval and --wait-timeout go with --wait")
	}
	if out, _ := fs.GetString("output"); f.wait && out != "" && out != "table" {
		return fmt.Errorf("--wait and -o %s: choose one (--wait shows a view, not a document); describe the resource with -o %s after it", out, out)
	}
	return nil
}

// watch runs poll under progress.Watch on the command's output: live in
// a terminal, lines elsewhere. A failed operation is an error (exit 1);
// Ctrl-C or --wait-timeout stop watching only (exit 130).
func (f *waitFlags) watch(cmd *cobra.Command, poll progress.Poll) error {
	ctx := cmd.Context()
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	o := progress.Options{Out: cmd.OutOrStdout(), Interval: f.interval}
	if out, ok := o.Out.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
		o.TTY = true
		if term.IsTerminal(int(os.Stdin.Fd())) {
			o.In = os.Stdin
		}
	}
	outcome, err := progress.Watch(ctx, poll, o)
	switch {
	case errors.Is(err, progress.ErrStopped):
		why := "stopped watching"
		if f.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			why = fmt.Sprintf("--wait-timeout %s: stopped watching", f.timeout)
		}
		return &exitError{code: exitStoppedWatching, err: fmt.Errorf("%s; the operation goes on", why)}
	case err != nil:
		return err
	}
	return outcome.Err
}

// failed is a failed operation: one line per problem, after the view.
func failed(lines ...string) error { return &problemsError{lines: lines} }

// watchNodegroup watches a node group until it is in status want (its
// creation), or gone (want "": its deletion).
func (s *eksSession) watchNodegroup(name, what string, want types.NodegroupStatus) progress.Poll {
	title := fmt.Sprintf("node group %s %s", name, what)
	return func(ctx context.Context) (progress.Frame, *progress.Outcome, error) {
		p, err := s.svc.DescribeNodegroupProgress(ctx, s.cluster, name)
		if eks.IsNotFound(err) && want == "" {
			return progress.Frame{Title: title, Status: "gone"}, &progress.Outcome{Summary: "node group " + name + " is deleted"}, nil
		} else if err != nil {
			return progress.Frame{}, nil, explain(err, nodegroupFlags)
		}
		ng := p.Nodegroup
		f := progress.Frame{Title: title, Status: string(ng.Status)}
		if sc := ng.ScalingConfig; sc != nil && sc.DesiredSize != nil && want != "" {
			f.Done, f.Total, f.Unit = int(p.ReadyNodes), int(*sc.DesiredSize), "nodes Ready"
		} else if want == "" {
			f.Items = append(f.Items, progress.Item{Text: fmt.Sprintf("%d nodes, %d instances left", p.Nodes, p.Instances)})
		}
		f.Items = append(f.Items, issueItems(ng.Health)...)
		switch {
		case want != "" && ng.Status == want && (f.Total == 0 || f.Done >= f.Total):
			return f, &progress.Outcome{Summary: fmt.Sprintf("node group %s is %s with %d nodes Ready", name, ng.Status, p.ReadyNodes)}, nil
		case ng.Status == types.NodegroupStatusCreateFailed || ng.Status == types.NodegroupStatusDeleteFailed:
			return f, &progress.Outcome{Summary: fmt.Sprintf("node group %s is %s", name, ng.Status), Err: failed(issueLines(name, ng)...)}, nil
		}
		return f, nil, nil
	}
}

func issueItems(h *types.NodegroupHealth) []progress.Item {
	if h == nil {
		return nil
	}
	var out []progress.Item
	for _, i := range h.Issues {
		out = append(out, progress.Item{Text: fmt.Sprintf("%s: %s", i.Code, i.Message)})
	}
	return out
}

func issueLines(name string, ng *types.Nodegroup) []string {
	lines := []string{fmt.Sprintf("node group %s is %s", name, ng.Status)}
	if ng.Health != nil {
		for _, i := range ng.Health.Issues {
			lines = append(lines, issueText(string(i.Code), i.Message, i.ResourceIds))
		}
	}
	return lines
}

// watchConfigUpdate watches a config update to its end and, when it set a
// desired size (desired ≥ 0), until the group has that many nodes Ready
// and no more instances.
func (s *eksSession) watchConfigUpdate(name, id, what string, desired int32) progress.Poll {
	title := fmt.Sprintf("node group %s %s", name, what)
	return func(ctx context.Context) (progress.Frame, *progress.Outcome, error) {
		u, err := s.svc.DescribeUpdate(ctx, &types.DescribeUpdateRequest{Name: s.cluster, NodegroupName: name, UpdateId: id})
		if err != nil {
			return progress.Frame{}, nil, explain(err, nodegroupFlags)
		}
		p, err := s.svc.DescribeNodegroupProgress(ctx, s.cluster, name)
		if err != nil {
			return progress.Frame{}, nil, explain(err, nodegroupFlags)
		}
		f := progress.Frame{Title: title, Status: string(u.Update.Status)}
		if desired >= 0 {
			f.Done, f.Total, f.Unit = int(p.ReadyNodes), int(desired), "nodes Ready"
			f.Items = append(f.Items, progress.Item{Text: fmt.Sprintf("%d instances, %d nodes", p.Instances, p.Nodes)})
		}
		f.Items = append(f.Items, issueItems(p.Nodegroup.Health)...)
		switch u.Update.Status {
		case types.UpdateStatusSuccessful:
			if desired < 0 || p.ReadyNodes == desired && p.Instances == desired && p.Nodes == desired {
				return f, &progress.Outcome{Summary: fmt.Sprintf("update %s is Successful; node group %s has %d nodes Ready", id, name, p.ReadyNodes)}, nil
			}
			if ng := p.Nodegroup; ng.Status == types.NodegroupStatusDegraded {
				// The size is set, and the group says why it cannot reach it.
				return f, &progress.Outcome{Summary: fmt.Sprintf("update %s is Successful, but node group %s is DEGRADED with %d of %d nodes Ready", id, name, p.ReadyNodes, desired),
					Err: failed(issueLines(name, ng)...)}, nil
			}
		case types.UpdateStatusFailed, types.UpdateStatusCancelled:
			return f, &progress.Outcome{Summary: fmt.Sprintf("update %s is %s", id, u.Update.Status), Err: failed(updateErrorLines(u.Update)...)}, nil
		}
		return f, nil, nil
	}
}

func updateErrorLines(u *types.Update) []string {
	lines := []string{fmt.Sprintf("update %s %s", u.Id, u.Status)}
	for _, e := range u.Errors {
		l := fmt.Sprintf("%s: %s", e.ErrorCode, e.ErrorMessage)
		if len(e.ResourceIds) > 0 {
			l += "; blocking: " + strings.Join(e.ResourceIds, ", ")
		}
		lines = append(lines, l)
	}
	return lines
}

// watchVersionUpdate watches a version update: its phase, the old nodes
// replaced, the pods evicted, each drain in progress and what blocks it.
func (s *eksSession) watchVersionUpdate(name, id string) progress.Poll {
	title := fmt.Sprintf("node group %s upgrade %s", name, id)
	return func(ctx context.Context) (progress.Frame, *progress.Outcome, error) {
		p, err := s.svc.DescribeUpdateProgress(ctx, s.cluster, name, id)
		if err != nil {
			return progress.Frame{}, nil, explain(err, nodegroupFlags)
		}
		f := versionFrame(title, p)
		switch p.Update.Status {
		case types.UpdateStatusSuccessful:
			return f, &progress.Outcome{Summary: fmt.Sprintf("update %s is Successful: %d of %d old nodes replaced, %d pods evicted", id, p.NodesReplaced, p.NodesToReplace, p.PodsEvicted)}, nil
		case types.UpdateStatusFailed, types.UpdateStatusCancelled:
			return f, &progress.Outcome{Summary: fmt.Sprintf("update %s is %s", id, p.Update.Status), Err: failed(updateErrorLines(p.Update)...)}, nil
		}
		return f, nil, nil
	}
}

// versionFrame is a version update as the live view shows it.
func versionFrame(title string, p *eks.UpdateProgress) progress.Frame {
	f := progress.Frame{Title: title, Status: string(p.Update.Status), Phase: p.Phase}
	if p.NodesToReplace > 0 {
		f.Done, f.Total, f.Unit = int(p.NodesReplaced), int(p.NodesToReplace), "old nodes replaced"
	}
	if p.Phase != "" {
		f.Items = append(f.Items, progress.Item{Text: fmt.Sprintf("pods evicted: %d", p.PodsEvicted)})
	}
	f.Items = append(f.Items, drainItems(p)...)
	return f
}

// drainItems are the drains of a version update in progress: each old
// node being drained, and the pods that have not left it and why.
func drainItems(p *eks.UpdateProgress) []progress.Item {
	var items []progress.Item
	for _, d := range p.Draining {
		node := d.NodeName
		if node == "" {
			node = "(no node)"
		}
		if d.Drained {
			items = append(items, progress.Item{Text: fmt.Sprintf("node %s (%s) drained; its instance goes after EKS's 60 s wait", node, d.InstanceID)})
			continue
		}
		items = append(items, progress.Item{Text: fmt.Sprintf("draining node %s (%s)", node, d.InstanceID)})
		for _, b := range d.BlockedBy {
			items = append(items, progress.Item{Text: blockedText(b), Indent: 1, Since: d.StartedAt, Of: p.EvictionTimeout})
		}
	}
	return items
}

// blockedText turns the record's "ns/pod: why" into a sentence: "pod
// ns/pod blocked by PodDisruptionBudget ns/pdb (0 disruptions allowed)".
func blockedText(b string) string {
	pod, why, ok := strings.Cut(b, ": ")
	switch {
	case !ok:
		return b
	case why == "terminating":
		return "pod " + pod + " terminating"
	}
	return "pod " + pod + " blocked by " + why
}
