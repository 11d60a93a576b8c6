package repair

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// Action is what a repair does to a node, in EKS's words.
type Action string

// The repair actions of nodeRepairConfigOverrides.
const (
	Replace  Action = "Replace"
	Reboot   Action = "Reboot"
	NoAction Action = "NoAction"
)

// Rule says that a node whose condition has been bad (with reason, or any
// reason if Reason is "") for Wait calls for Action. Wait is EKS's, not
// yet compressed by the time scale.
type Rule struct {
	Condition string
	Reason    string
	Wait      time.Duration
	Action    Action
	// Override says the rule is one of the group's overrides.
	Override bool
}

// Defaults are EKS's rules: Ready (the kubelet) and the conditions of the
// node monitoring agent, with their waits. DiskPressure, MemoryPressure
// and PIDPressure are never repaired.
var Defaults = []Rule{
	{Condition: "AcceleratedHardwareReady", Wait: 10 * time.Minute, Action: Replace},
	{Condition: string(corev1.NodeReady), Wait: 30 * time.Minute, Action: Replace},
	{Condition: "KernelReady", Wait: 30 * time.Minute, Action: Replace},
	{Condition: "NetworkingReady", Wait: 30 * time.Minute, Action: Replace},
	{Condition: "StorageReady", Wait: 30 * time.Minute, Action: Replace},
	{Condition: "ContainerRuntimeReady", Wait: 30 * time.Minute, Action: Replace},
}

// Rules are a group's rules: its overrides (each for one condition and
// reason) ahead of EKS's defaults (any reason).
func Rules(cfg *eksv1.NodeRepairConfig) []Rule {
	var out []Rule
	if cfg != nil {
		for _, o := range cfg.NodeRepairConfigOverrides {
			out = append(out, Rule{
				Condition: o.NodeMonitoringCondition, Reason: o.NodeUnhealthyReason,
				Wait: time.Duration(o.MinRepairWaitTimeMins) * time.Minute, Action: Action(o.RepairAction), Override: true,
			})
		}
	}
	return append(out, Defaults...)
}

// Enabled says whether a configuration turns repair on.
func Enabled(cfg *eksv1.NodeRepairConfig) bool {
	return cfg != nil && cfg.Enabled != nil && *cfg.Enabled
}

// ruleFor is the first rule for a condition with a reason.
func ruleFor(rules []Rule, condition, reason string) (Rule, bool) {
	for _, r := range rules {
		if r.Condition == condition && (r.Reason == "" || r.Reason == reason) {
			return r, true
		}
	}
	return Rule{}, false
}

// Problem is why a node is unhealthy: one of its conditions has been bad
// since Since, and Rule says what to do once it has been so until Due.
type Problem struct {
	Condition string
	// Status is the condition's status (False, or Unknown for Ready).
	Status string
	Reason string
	Since  time.Time
	Due    time.Time
	Rule   Rule
}

// NodeMissing is the condition of a Problem of an instance whose Node is
// gone while the instance runs.
const NodeMissing = "NodeMissing"

// String says what is wrong, for events: "Ready has been Unknown
// (NodeStatusUnknown) since 10:04:05".
func (p Problem) String() string {
	if p.Condition == NodeMissing {
		return "its Node has been gone since " + p.Since.UTC().Format(time.TimeOnly)
	}
	s := p.Condition + " has been " + p.Status
	if p.Reason != "" {
		s += " (" + p.Reason + ")"
	}
	return s + " since " + p.Since.UTC().Format(time.TimeOnly)
}

// Key names the problem and when it began, so that the repair of one
// episode of it is told from the next.
func (p Problem) Key() string {
	return p.Condition + "/" + p.Reason + "@" + p.Since.UTC().Format(time.RFC3339)
}

// bad says whether a condition is unhealthy: Ready when it is not True
// (False, or Unknown once the kubelet stops posting), the node monitoring
// agent's conditions when they are False.
func bad(c corev1.NodeCondition) bool {
	if c.Type == corev1.NodeReady {
		return c.Status != corev1.ConditionTrue
	}
	return c.Status == corev1.ConditionFalse
}

// Diagnose returns the problems of a node, the one due first first (none
// if the node is healthy); wait compresses EKS's waits
// (resources.Env.Wait).
func Diagnose(node *corev1.Node, rules []Rule, wait func(time.Duration) time.Duration) []Problem {
	var out []Problem
	for _, c := range node.Status.Conditions {
		if !bad(c) {
			continue
		}
		r, ok := ruleFor(rules, string(c.Type), c.Reason)
		if !ok {
			continue
		}
		// A transition time is stored in whole seconds: the condition went
		// bad up to a second after it says. The wait counts from the end
		// of that second, so a repair is never early (and, at EKS's
		// minutes, at most a second late).
		out = append(out, Problem{
			Condition: string(c.Type), Status: string(c.Status), Reason: c.Reason,
			Since: c.LastTransitionTime.Time, Due: c.LastTransitionTime.Add(time.Second + wait(r.Wait)), Rule: r,
		})
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return a.Due.Compare(b.Due) })
	return out
}

// Pending picks, of a node's problems, the first that has not been acted
// on (whose key is not in acked), and says which of acked still are
// problems: an action recorded for a problem that is over is forgotten, so
// that the next episode of it is acted on again. With every problem acted
// on, it returns the first, acknowledged.
func Pending(problems []Problem, acked []string) (p *Problem, acknowledged bool, keep []string) {
	for i := range problems {
		if slices.Contains(acked, problems[i].Key()) {
			keep = append(keep, problems[i].Key())
		} else if p == nil {
			p = &problems[i]
		}
	}
	if p == nil && len(problems) > 0 {
		return &problems[0], true, keep
	}
	return p, false, keep
}

// Missing is the problem of an instance that runs without a Node: gone
// since since, due once it has been so for the join timeout (compressed
// by wait), so that an instance still joining is left to join.
func Missing(since time.Time, joinTimeout time.Duration, wait func(time.Duration) time.Duration) *Problem {
	return &Problem{
		Condition: NodeMissing, Status: "gone", Since: since, Due: since.Add(wait(joinTimeout)),
		Rule: Rule{Condition: NodeMissing, Wait: joinTimeout, Action: Replace},
	}
}

// Candidate is one of a group's instances as repair sees it.
type Candidate struct {
	// Name is its node's name (or its instance's id if it has no node),
	// Instance its instance's id.
	Name, Instance string
	// Problem is what is wrong with it, if anything.
	Problem *Problem
	// Repairing says a replacement of it is under way.
	Repairing bool
	// Acknowledged says its Problem was already acted on (a NoAction or
	// Reboot recorded on its node): nothing more is done about it.
	Acknowledged bool
}

// Plan is what to do now about a group's candidates.
type Plan struct {
	// Start are the candidates whose repairs start now; Held those whose
	// repairs are due but held back by the threshold, Queued those that
	// wait for a repair under way to finish (maxParallelNodesRepaired).
	Start, Held, Queued []Candidate
	// Next is when the next problem falls due (zero if none does).
	Next time.Time
	// Unhealthy and Total count the group's nodes; Repairing those whose
	// repairs are under way; Parallel is how many may be at once.
	Unhealthy, Total, Repairing, Parallel int
	// Threshold says why repairs are held back ("" when they are not).
	Threshold string
}

// Decide plans a group's repairs at now. Problems that are due start in
// the order they fell due, as long as the threshold does not hold repairs
// back and fewer than Parallel replacements are under way. NoAction and
// Reboot change nothing and wait for nothing: they are acted on as they
// fall due.
func Decide(now time.Time, candidates []Candidate, cfg *eksv1.NodeRepairConfig) Plan {
	p := Plan{Total: len(candidates)}
	var due []Candidate
	for _, c := range candidates {
		if c.Repairing {
			p.Repairing++
		}
		if c.Problem == nil && !c.Repairing {
			continue
		}
		if !c.Repairing && c.Problem.Condition == NodeMissing && now.Before(c.Problem.Due) {
			// Joining, or within its grace: not unhealthy yet (a scale-up
			// of many nodes must not hold repairs back).
			if p.Next.IsZero() || c.Problem.Due.Before(p.Next) {
				p.Next = c.Problem.Due
			}
			continue
		}
		p.Unhealthy++
		if c.Repairing || c.Acknowledged || c.Problem == nil {
			continue
		}
		if now.Before(c.Problem.Due) {
			if p.Next.IsZero() || c.Problem.Due.Before(p.Next) {
				p.Next = c.Problem.Due
			}
			continue
		}
		due = append(due, c)
	}
	slices.SortStableFunc(due, func(a, b Candidate) int {
		return cmp.Or(a.Problem.Due.Compare(b.Problem.Due), cmp.Compare(a.Name, b.Name))
	})
	p.Parallel = Parallel(p.Total, cfg)
	p.Threshold = Threshold(p.Unhealthy, p.Total, cfg)
	slots := p.Parallel - p.Repairing
	for _, c := range due {
		switch {
		case c.Problem.Rule.Action != Replace:
			p.Start = append(p.Start, c)
		case p.Threshold != "":
			p.Held = append(p.Held, c)
		case slots > 0:
			p.Start = append(p.Start, c)
			slots--
		default:
			p.Queued = append(p.Queued, c)
		}
	}
	return p
}

// Threshold says why repairs are held back with unhealthy of total nodes
// unhealthy, or "" if they are not: by EKS's rule, when the group has more
// than 5 nodes and more than 20% of them are unhealthy; by the group's
// maxUnhealthyNodeThreshold (count or percentage) instead when it has one.
func Threshold(unhealthy, total int, cfg *eksv1.NodeRepairConfig) string {
	switch {
	case cfg != nil && cfg.MaxUnhealthyNodeThresholdCount != nil:
		if limit := int(*cfg.MaxUnhealthyNodeThresholdCount); unhealthy > limit {
			return fmt.Sprintf("%d of %d nodes are unhealthy, more than maxUnhealthyNodeThresholdCount (%d)", unhealthy, total, limit)
		}
	case cfg != nil && cfg.MaxUnhealthyNodeThresholdPercentage != nil:
		if pct := int(*cfg.MaxUnhealthyNodeThresholdPercentage); unhealthy*100 > pct*total {
			return fmt.Sprintf("%d of %d nodes are unhealthy, more than maxUnhealthyNodeThresholdPercentage (%d%%)", unhealthy, total, pct)
		}
	default:
		if total > 5 && unhealthy*100 > 20*total {
			return fmt.Sprintf("%d of %d nodes are unhealthy, more than 20%% of a group of more than 5 nodes", unhealthy, total)
		}
	}
	return ""
}

// DefaultParallel is how many nodes of a group are replaced at once when
// its configuration does not say (EKS does not document its own pace): one,
// the most careful.
const DefaultParallel = 1

// Parallel is how many nodes of a group of total may be replaced at once:
// maxParallelNodesRepairedCount, or maxParallelNodesRepairedPercentage of
// total (rounded down, at least one), or DefaultParallel.
func Parallel(total int, cfg *eksv1.NodeRepairConfig) int {
	switch {
	case cfg != nil && cfg.MaxParallelNodesRepairedCount != nil:
		return int(*cfg.MaxParallelNodesRepairedCount)
	case cfg != nil && cfg.MaxParallelNodesRepairedPercentage != nil:
		return max(1, int(*cfg.MaxParallelNodesRepairedPercentage)*total/100)
	}
	return DefaultParallel
}
