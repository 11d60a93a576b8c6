// Package cli is kdp's command line: a thin cobra layer in which every
// command keeps its flags in one struct and its work in one run function.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/pki"
)

// ControlPlane is a running embedded control plane.
type ControlPlane interface {
	// Failed delivers the error of a component that stopped on its own.
	Failed() <-chan error
	// Stop ends the control plane, etcd last.
	Stop()
}

// StartControlPlane starts the embedded control plane and returns once it is
// ready. It is injected by main so that this package does not link
// k8s.io/kubernetes and its tests build fast.
type StartControlPlane func(ctx context.Context, cfg cluster.Config, ls cluster.Listeners, b *pki.Bundle) (ControlPlane, error)

// Deps are what the commands need from outside this package.
type Deps struct {
	StartControlPlane StartControlPlane
}

// NewRootCommand returns the kdp command.
func NewRootCommand(deps Deps) *cobra.Command {
	root := &cobra.Command{
		Use:           "kdp",
		Short:         "Kubernetes data-plane management: self-managed nodes, managed node groups and serverless pods",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// k8s.io/component-base registers a global --version flag of its own,
	// which cobra would show on every command; kdp's is `kdp version`.
	if f := pflag.CommandLine.Lookup("version"); f != nil {
		f.Hidden = true
	}
	root.AddCommand(
		newUpCommand(deps),
		newEnvCommand(),
		newCredentialsCommand(),
		newCostCommand(),
		newVersionCommand(),
		newNodesCommand(),
		newSimCommand(),
		newAdviseCommand(),
		newClusterCommand(),
		newNodegroupCommand(),
		newFargateProfileCommand(),
		newUpdateCommand(),
	)
	guardGroups(root)
	return root
}

// guardGroups makes every command that only groups subcommands refuse
// anything else: a typo is an unknown command with cobra's suggestions
// (exit 1), not the help with exit 0.
func guardGroups(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		guardGroups(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() || cmd == cmd.Root() {
		return
	}
	// A typo'd subcommand with its flags (kdp cluster lst --data-dir x)
	// is told as an unknown command, not as an unknown flag of the group.
	cmd.FParseErrWhitelist.UnknownFlags = true
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's own default, which SuggestionsFor does not apply
	}
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return errors.New(msg)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// Main runs kdp with the process's arguments and returns its exit code. The
// first SIGINT or SIGTERM cancels the command's context; a second one exits
// at once.
func Main(deps Deps) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	go func() {
		<-ctx.Done()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		fmt.Fprintln(os.Stderr, "kdp: second signal, exiting now")
		os.Exit(130)
	}()
	return Execute(ctx, NewRootCommand(deps), os.Args[1:], os.Stdout, os.Stderr)
}

// Execute runs cmd with args and prints an error as one line on stderr.
func Execute(ctx context.Context, cmd *cobra.Command, args []string, stdout, stderr io.Writer) int {
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if failed, err := cmd.ExecuteContextC(ctx); err != nil {
		if namesItself(failed) {
			// One line per problem, each naming the command (and its flag).
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(stderr, "%s: %s\n", failed.CommandPath(), line)
			}
		} else {
			fmt.Fprintf(stderr, "kdp: %v\n", err)
		}
		var e *exitError
		if errors.As(err, &e) {
			return e.code
		}
		return 1
	}
	return 0
}

// exitError is an error that means an exit status other than 1, as a
// command documents it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// annotationNamesCommand marks a command tree whose errors name the
// command they come from ("kdp nodegroup create: --scaling-config: ...").
const annotationNamesCommand = "kdp.dev/errors-name-command"

func namesItself(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[annotationNamesCommand] == "true" {
			return true
		}
	}
	return false
}
