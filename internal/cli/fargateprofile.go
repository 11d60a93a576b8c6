package cli

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/progress"
)

// fargateProfileFlags are the flags of CreateFargateProfile's members,
// as the aws CLI names them.
var fargateProfileFlags = map[string]string{
	"fargateProfileName": "--fargate-profile-name", "podExecutionRoleArn": "--pod-execution-role-arn",
	"subnets": "--subnets", "selectors": "--selectors", "tags": "--tags", "clientRequestToken": "--client-request-token",
}

func newFargateProfileCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "fargate-profile",
		Annotations: map[string]string{annotationNamesCommand: "true"},
		Aliases:     []string{"fargate-profiles", "fp"},
		Short:       "Fargate profiles: which pods run each on a right-sized node of its own",
		Long: `Fargate profiles through kdp's EKS library, with the flags of aws eks. A pod created in
a namespace (and with the labels) of a profile's selector runs on its own micro-VM node.
Tables by default; -o json|yaml prints the EKS API's documents.`,
	}
	cmd.AddCommand(newFargateProfileCreateCommand(), newFargateProfileListCommand(), newFargateProfileDescribeCommand(), newFargateProfileDeleteCommand())
	return cmd
}

type fargateProfileCreateFlags struct {
	eksFlags
	waitFlags
	name, role, tags, token string
	subnets, selectors      []string
}

func newFargateProfileCreateCommand() *cobra.Command {
	f := &fargateProfileCreateFlags{}
	cmd := &cobra.Command{
		Use:   "create [NAME] --selectors namespace=NS[,labels={k=v}]",
		Short: "Create a Fargate profile (aws eks create-fargate-profile)",
		Long: `Create a Fargate profile. Defaults for what the aws CLI requires: --subnets every private
subnet of the cloud, --pod-execution-role-arn arn:aws:iam::ACCOUNT:role/KdpFargatePodExecutionRole.
--selectors is repeated for up to 5 selectors; namespaces and labels take * and ? wildcards.
With --wait, watch the profile until it is ACTIVE (exit 0) or CREATE_FAILED (exit 1).`,
		Example: `  kdp fargate-profile create serverless --selectors namespace=serverless --wait
  kdp fargate-profile create web --selectors 'namespace=prod-*,labels={app=web}' --selectors namespace=batch`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := nameArg(args, "fargate-profile-name", f.name, "Fargate profile")
			if err != nil {
				return err
			}
			in := &types.CreateFargateProfileRequest{FargateProfileName: name, PodExecutionRoleArn: f.role, Subnets: f.subnets, ClientRequestToken: f.token}
			var errs []string
			for _, s := range f.selectors {
				// One selector, or a JSON list of them.
				var sels []types.FargateProfileSelector
				if err := structFlag("selectors", s, &sels); err != nil {
					errs = append(errs, err.Error())
				}
				in.Selectors = append(in.Selectors, sels...)
			}
			if len(f.selectors) == 0 {
				errs = append(errs, "--selectors: give at least one, e.g. --selectors namespace=serverless")
			}
			if errs = structFlags(cmd, errs, flagTarget{"tags", &in.Tags}); len(errs) > 0 {
				return failed(errs...)
			}
			ctx := cmd.Context()
			s, err := f.session(ctx)
			if err != nil {
				return err
			}
			in.ClusterName = s.cluster
			if len(in.Subnets) == 0 {
				if in.Subnets, err = s.privateSubnets(ctx); err != nil {
					return err
				}
			}
			if in.PodExecutionRoleArn == "" {
				in.PodExecutionRoleArn = "arn:aws:iam::" + s.account.ID + ":role/KdpFargatePodExecutionRole"
			}
			if in.ClientRequestToken == "" {
				in.ClientRequestToken = uuid.NewString()
			}
			out, err := s.svc.CreateFargateProfile(ctx, in)
			if err != nil {
				return explain(err, fargateProfileFlags)
			}
			if f.wait {
				return f.waitFlags.watch(cmd, s.watchFargateProfile(name, "creation", types.FargateProfileStatusActive))
			}
			return printFargateProfile(cmd, f.output, out, out.FargateProfile, s)
		},
	}
	fs := cmd.Flags()
	f.eksFlags.add(fs, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	fs.StringVar(&f.name, "fargate-profile-name", "", "the profile's name (or give it as the argument)")
	fs.StringVar(&f.role, "pod-execution-role-arn", "", "the pods' IAM role ARN (default arn:aws:iam::ACCOUNT:role/KdpFargatePodExecutionRole)")
	fs.StringSliceVar(&f.subnets, "subnets", nil, "private subnet ids, comma-separated or repeated (default: every private subnet)")
	fs.StringArrayVar(&f.selectors, "selectors", nil, "a selector, repeated: namespace=NS,labels={k=v,...}")
	fs.StringVar(&f.tags, "tags", "", "tags of the profile: k=v,k2=v2")
	fs.StringVar(&f.token, "client-request-token", "", "idempotency token (default: a new one)")
	return cmd
}

func printFargateProfile(cmd *cobra.Command, format string, resp any, p *types.FargateProfile, s *eksSession) error {
	if format != "table" {
		return printDocument(cmd.OutOrStdout(), format, resp)
	}
	return printFargateProfileDescription(cmd.OutOrStdout(), p, s.clock.Now())
}

type fargateProfileListFlags struct{ eksFlags }

func newFargateProfileListCommand() *cobra.Command {
	f := &fargateProfileListFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the cluster's Fargate profiles (aws eks list-fargate-profiles)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := f.session(ctx)
			if err != nil {
				return err
			}
			names, err := s.fargateProfileNames(ctx)
			if err != nil {
				return err
			}
			if f.output != "table" {
				return printDocument(cmd.OutOrStdout(), f.output, &types.ListFargateProfilesResponse{FargateProfileNames: names})
			}
			profiles, err := describeEach(names, func(n string) (*types.FargateProfile, error) {
				out, err := s.svc.DescribeFargateProfile(ctx, &types.DescribeFargateProfileRequest{ClusterName: s.cluster, FargateProfileName: n})
				if err != nil {
					return nil, err
				}
				return out.FargateProfile, nil
			})
			if err != nil {
				return explain(err, fargateProfileFlags)
			}
			return printFargateProfileTable(cmd.OutOrStdout(), profiles, s.clock.Now())
		},
	}
	f.add(cmd.Flags(), "table", "json", "yaml")
	return cmd
}

// fargateProfileNames are every Fargate profile's name, all pages.
func (s *eksSession) fargateProfileNames(ctx context.Context) ([]string, error) {
	return allPages(func(token string) ([]string, string, error) {
		out, err := s.svc.ListFargateProfiles(ctx, &types.ListFargateProfilesRequest{ClusterName: s.cluster, MaxResults: ptrTo[int32](100), NextToken: token})
		if err != nil {
			return nil, "", explain(err, fargateProfileFlags)
		}
		return out.FargateProfileNames, out.NextToken, nil
	})
}

type fargateProfileNameFlags struct {
	eksFlags
	waitFlags
	name string
}

func newFargateProfileDescribeCommand() *cobra.Command {
	f := &fargateProfileNameFlags{}
	cmd := &cobra.Command{
		Use:   "describe [NAME]",
		Short: "Describe a Fargate profile (aws eks describe-fargate-profile)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, name, err := f.open(cmd, args, "fargate-profile-name", f.name, "Fargate profile")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			out, err := s.svc.DescribeFargateProfile(ctx, &types.DescribeFargateProfileRequest{ClusterName: s.cluster, FargateProfileName: name})
			if err != nil {
				return explain(err, fargateProfileFlags)
			}
			return printFargateProfile(cmd, f.output, out, out.FargateProfile, s)
		},
	}
	f.eksFlags.add(cmd.Flags(), "table", "json", "yaml")
	nameFlag(cmd, &f.name, "fargate-profile-name", "the profile", completeFargateProfiles)
	return cmd
}

func newFargateProfileDeleteCommand() *cobra.Command {
	f := &fargateProfileNameFlags{}
	cmd := &cobra.Command{
		Use:   "delete [NAME]",
		Short: "Delete a Fargate profile and the pods it placed (aws eks delete-fargate-profile)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, name, err := f.open(cmd, args, "fargate-profile-name", f.name, "Fargate profile")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			out, err := s.svc.DeleteFargateProfile(ctx, &types.DeleteFargateProfileRequest{ClusterName: s.cluster, FargateProfileName: name})
			if err != nil {
				return explain(err, fargateProfileFlags)
			}
			if f.wait {
				return f.waitFlags.watch(cmd, s.watchFargateProfile(name, "deletion", ""))
			}
			return printFargateProfile(cmd, f.output, out, out.FargateProfile, s)
		},
	}
	f.eksFlags.add(cmd.Flags(), "table", "json", "yaml")
	f.waitFlags.add(cmd)
	nameFlag(cmd, &f.name, "fargate-profile-name", "the profile", completeFargateProfiles)
	return cmd
}

// watchFargateProfile watches a profile until it is in status want, or
// gone (want "").
func (s *eksSession) watchFargateProfile(name, what string, want types.FargateProfileStatus) progress.Poll {
	title := fmt.Sprintf("Fargate profile %s %s", name, what)
	return func(ctx context.Context) (progress.Frame, *progress.Outcome, error) {
		out, err := s.svc.DescribeFargateProfile(ctx, &types.DescribeFargateProfileRequest{ClusterName: s.cluster, FargateProfileName: name})
		if eks.IsNotFound(err) && want == "" {
			return progress.Frame{Title: title, Status: "gone"}, &progress.Outcome{Summary: "Fargate profile " + name + " is deleted"}, nil
		} else if err != nil {
			return progress.Frame{}, nil, explain(err, fargateProfileFlags)
		}
		p := out.FargateProfile
		f := progress.Frame{Title: title, Status: string(p.Status)}
		var problems []string
		if p.Health != nil {
			for _, i := range p.Health.Issues {
				line := fmt.Sprintf("%s: %s", i.Code, i.Message)
				f.Items = append(f.Items, progress.Item{Text: line})
				problems = append(problems, line)
			}
		}
		switch {
		case want != "" && p.Status == want:
			return f, &progress.Outcome{Summary: fmt.Sprintf("Fargate profile %s is %s", name, p.Status)}, nil
		case p.Status == types.FargateProfileStatusCreateFailed || p.Status == types.FargateProfileStatusDeleteFailed:
			return f, &progress.Outcome{Summary: fmt.Sprintf("Fargate profile %s is %s", name, p.Status),
				Err: failed(append([]string{fmt.Sprintf("Fargate profile %s is %s", name, p.Status)}, problems...)...)}, nil
		}
		return f, nil, nil
	}
}
