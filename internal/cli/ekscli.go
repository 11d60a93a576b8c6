package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/eks"
)

// eksFlags are the flags of the commands over kdp's EKS library
// (internal/eks): the cluster and cloud they talk to, the aws CLI's
// --cluster-name (by default the kubeconfig's cluster, the one kdp runs),
// and -o.
type eksFlags struct {
	clusterFlags
	clusterName string
	output      string
	outputs     []string
}

// add registers the flags; outputs are the -o values the command takes,
// the first its default.
func (f *eksFlags) add(fs *pflag.FlagSet, outputs ...string) {
	f.clusterFlags.add(fs)
	fs.StringVar(&f.clusterName, "cluster-name", "", "the cluster (default: the kubeconfig's, the one kdp runs)")
	if len(outputs) > 0 {
		f.outputs = outputs
		fs.StringVarP(&f.output, "output", "o", outputs[0], "output format: "+strings.Join(outputs, ", "))
	}
}

// checkOutput refuses an -o the command does not print.
func (f *eksFlags) checkOutput() error {
	if len(f.outputs) == 0 {
		return nil
	}
	return outputIn(f.output, f.outputs)
}

// outputIn names the flag and its values if -o is none of them.
func outputIn(output string, allowed []string) error {
	if !slices.Contains(allowed, output) {
		return fmt.Errorf("-o %q: must be one of %s", output, strings.Join(allowed, ", "))
	}
	return nil
}

// eksSession is one command's Service and the cluster it asks about.
type eksSession struct {
	svc     *eks.Service
	cluster string
	account cloud.Account
	cloud   cloud.Provider
	clock   clock.Clock
}

// session connects to the cluster and the cloud and opens the Service
// over them, as kdp up's EKS API does (the CLI writes as the kubeconfig's
// user, reads straight from the API server).
func (f *eksFlags) session(ctx context.Context) (*eksSession, error) {
	if err := f.checkOutput(); err != nil {
		return nil, err
	}
	c, err := f.connect()
	if err != nil {
		return nil, err
	}
	provider, _, err := f.cloud(ctx)
	if err != nil {
		return nil, err
	}
	account, err := provider.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the cloud's account: %w", err)
	}
	facts, err := clusterFacts(ctx, c.config, c.clusterName)
	if err != nil {
		return nil, err
	}
	name := f.clusterName
	if name == "" {
		name = c.clusterName
	}
	return &eksSession{
		svc:     eks.New(eks.Config{Client: c.client, Cloud: provider, Account: account, Cluster: facts}),
		cluster: name, account: account, cloud: provider, clock: clock.RealClock{},
	}, nil
}

// memberFlag names the flag an EKS request member comes from: flags maps a
// member, or its top-level member, to the aws CLI's flag
// (scalingConfig.minSize → --scaling-config); whole says the flag sets
// that very member. A member no flag sets maps to itself.
func memberFlag(member string, flags map[string]string) (flag string, whole bool) {
	if f, ok := flags[member]; ok {
		return f, true
	}
	top, _, _ := strings.Cut(member, ".")
	top, _, _ = strings.Cut(top, "[")
	if f, ok := flags[top]; ok {
		return f, top == member
	}
	return member, true
}

// problemsError is an EKS error told the way a command's flags name it,
// one line per problem: "--scaling-config: minSize (3) must not be
// greater than maxSize (1)". Execute prefixes each line with the command.
type problemsError struct {
	lines []string
	err   *eks.Error
}

func (e *problemsError) Error() string { return strings.Join(e.lines, "\n") }
func (e *problemsError) Unwrap() error {
	if e.err == nil {
		return nil
	}
	return e.err
}

// explain makes err, from the Service, name the flags of the request's
// members (flags maps a request's top-level member to its flag, e.g.
// "scalingConfig" → "--scaling-config"); any other error is returned as
// it is.
func explain(err error, flags map[string]string) error {
	e, ok := eks.AsError(err)
	if !ok {
		return err
	}
	problems := e.Problems
	if len(problems) == 0 && len(e.Fields) == 1 {
		// The library's own check of one member (not Kubernetes').
		problems = []eks.Problem{{Field: e.Fields[0], Message: e.Message}}
	}
	if len(problems) == 0 {
		return &problemsError{lines: []string{e.Code + ": " + e.Message}, err: e}
	}
	out := &problemsError{err: e}
	for _, p := range problems {
		msg := invalidValue(p.Message)
		if p.Field != "" {
			f, whole := memberFlag(p.Field, flags)
			if !whole {
				// The member inside the flag's structure says which part.
				msg = memberIn(p.Field, msg)
			}
			msg = f + ": " + msg
		}
		out.lines = append(out.lines, msg)
	}
	return out
}

// memberIn prefixes msg with the part of a member below its top-level
// member (scalingConfig.minSize → minSize, selectors[1].namespace →
// [1].namespace), unless msg names it already.
func memberIn(field, msg string) string {
	i := strings.IndexAny(field, ".[")
	if i < 0 {
		return msg
	}
	rest := strings.TrimPrefix(field[i:], ".")
	if strings.Contains(msg, rest) {
		return msg
	}
	return rest + ": " + msg
}

// invalidValue drops Kubernetes' "Invalid value: X: " before the rule,
// which says what is wrong with the value itself.
func invalidValue(msg string) string {
	rest, ok := strings.CutPrefix(msg, "Invalid value: ")
	if !ok {
		return msg
	}
	// The value is quoted when it is a string; a number or bool has no
	// ": " in it.
	if strings.HasPrefix(rest, `"`) {
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\\' {
				i++
				continue
			}
			if rest[i] == '"' {
				if after, ok := strings.CutPrefix(rest[i+1:], ": "); ok {
					return after
				}
				return msg
			}
		}
		return msg
	}
	if _, after, ok := strings.Cut(rest, ": "); ok {
		return after
	}
	return msg
}

// nameArg is the resource's name: the positional argument, or the aws
// CLI's flag (e.g. --nodegroup-name), not both; what says what it names
// ("node group", "update id") for the error when neither is given.
func nameArg(args []string, flag, value, what string) (string, error) {
	switch {
	case len(args) == 1 && value != "" && value != args[0]:
		return "", fmt.Errorf("--%s %q and the argument %q name two different resources: give one", flag, value, args[0])
	case len(args) == 1:
		return args[0], nil
	case value != "":
		return value, nil
	}
	return "", fmt.Errorf("name the %s: as the argument or with --%s", what, flag)
}

// allPages is every item of a List operation: fetch answers the page a
// token starts ("" the first) and the next token ("" after the last).
func allPages[T any](fetch func(token string) ([]T, string, error)) ([]T, error) {
	var all []T
	for token := ""; ; {
		items, next, err := fetch(token)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		token = next
	}
}

// open names the resource (nameArg) and opens the session.
func (f *eksFlags) open(cmd *cobra.Command, args []string, flag, value, what string) (*eksSession, string, error) {
	name, err := nameArg(args, flag, value, what)
	if err != nil {
		return nil, "", err
	}
	s, err := f.session(cmd.Context())
	return s, name, err
}

// nameFlag registers the aws CLI's name flag of a command that also takes
// the name as its argument, both completed by complete.
func nameFlag(cmd *cobra.Command, value *string, flag, usage string, complete completer) {
	cmd.Flags().StringVar(value, flag, "", usage+" (or give it as the argument)")
	registerNameCompletion(cmd, flag, complete)
	cmd.ValidArgsFunction = complete
}

// describeEach describes each listed resource, leaving out those gone
// since the list.
func describeEach[T any](names []string, describe func(string) (T, error)) ([]T, error) {
	var out []T
	for _, n := range names {
		v, err := describe(n)
		if eks.IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
