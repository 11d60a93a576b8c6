package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/eks"
	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/eksapi"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
	"github.com/kdp-project/kdp/internal/progress"
)

// clusterFlagNames are the flags of CreateCluster's members, as the aws
// CLI names them.
var clusterFlagNames = map[string]string{
	"name": "--name", "version": "--kubernetes-version", "roleArn": "--role-arn",
	"resourcesVpcConfig": "--resources-vpc-config", "kubernetesNetworkConfig": "--kubernetes-network-config",
	"tags": "--tags", "logging": "--logging", "accessConfig": "--access-config",
}

// apiFlags are the flags of commands that ask the running kdp (its EKS
// API): the clusters CreateCluster makes are its processes.
type apiFlags struct {
	dataDir string
	output  string
	outputs []string
}

func (f *apiFlags) add(cmd *cobra.Command, outputs ...string) {
	fs := cmd.Flags()
	fs.StringVar(&f.dataDir, "data-dir", cluster.DefaultDataDir(), "kdp's data directory ($KDP_DATA_DIR, else ~/.kdp): where the running kdp wrote its EKS API's endpoint and credentials")
	if len(outputs) > 0 {
		f.outputs = outputs
		fs.StringVarP(&f.output, "output", "o", outputs[0], "output format: "+strings.Join(outputs, ", "))
	}
}

// client is the EKS API of the kdp running on the data dir, with its
// admin credential (the first by name if admin was revoked), as kdp env
// exports them.
func (f *apiFlags) client() (*eksapi.Client, error) {
	if len(f.outputs) > 0 {
		if err := outputIn(f.output, f.outputs); err != nil {
			return nil, err
		}
	}
	dir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return nil, err
	}
	layout := cluster.Layout{Root: dir}
	ep, err := eksapi.ReadEndpoint(layout.EKSEndpoint())
	if err != nil {
		return nil, fmt.Errorf("no EKS API in %s (%v): run `kdp up --data-dir %s` first", dir, err, dir)
	}
	s, err := auth.Load(layout.EKSCredentials())
	if err != nil {
		return nil, err
	}
	settings, err := s.Settings()
	if err != nil {
		return nil, err
	}
	creds, err := s.List()
	if err != nil {
		return nil, err
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("the EKS API in %s has no credentials: kdp credentials create NAME", dir)
	}
	c := exportedCredential(creds)
	client := &eksapi.Client{Endpoint: ep.URL, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Region: settings.Region}
	if ep.CABundle != "" {
		// --eks-api-tls: trust kdp's CA, as AWS_CA_BUNDLE makes the aws
		// CLI do.
		pem, err := os.ReadFile(ep.CABundle)
		if err != nil {
			return nil, err
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", ep.CABundle)
		}
		client.HTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
	}
	return client, nil
}

func newClusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:         "cluster",
		Annotations: map[string]string{annotationNamesCommand: "true"},
		Aliases:     []string{"clusters"},
		Short:       "Clusters through kdp's EKS API: list, describe, create, delete (each created one a control plane of its own)",
		Long: `Clusters through the running kdp's EKS API, with the flags of aws eks (--name,
--kubernetes-version, --role-arn, --resources-vpc-config subnetIds=a,b, --tags k=v). A
created cluster is a control plane of its own, a child process of kdp with its data in
DATA_DIR/clusters/NAME; aws eks update-kubeconfig --name NAME gives kubectl access to it.
kdp's own cluster is listed too, and is not deleted through the API.`,
	}
	cmd.AddCommand(newClusterListCommand(), newClusterDescribeCommand(), newClusterCreateCommand(), newClusterDeleteCommand())
	return cmd
}

func newClusterListCommand() *cobra.Command {
	f := &apiFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the clusters, with their status, version and endpoint",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			names, err := allPages(func(token string) ([]string, string, error) {
				out := &types.ListClustersResponse{}
				err := c.Call(ctx, "ListClusters", &types.ListClustersRequest{NextToken: token}, out)
				return out.Clusters, out.NextToken, err
			})
			if err != nil {
				return explain(err, nil)
			}
			all, err := describeEach(names, func(n string) (*types.Cluster, error) { return describeCluster(ctx, c, n) })
			if err != nil {
				return explain(err, nil)
			}
			if f.output != "table" {
				return printDocument(cmd.OutOrStdout(), f.output, map[string]any{"clusters": all})
			}
			return printClusters(cmd.OutOrStdout(), all, time.Now())
		},
	}
	f.add(cmd, "table", "json", "yaml")
	return cmd
}

func newClusterDescribeCommand() *cobra.Command {
	f := &apiFlags{}
	var name string
	cmd := &cobra.Command{
		Use:   "describe [NAME]",
		Short: "Describe a cluster (aws eks describe-cluster)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := nameArg(args, "name", name, "cluster")
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			d, err := describeCluster(cmd.Context(), c, n)
			if err != nil {
				return explain(err, nil)
			}
			if f.output != "table" {
				return printDocument(cmd.OutOrStdout(), f.output, &types.DescribeClusterResponse{Cluster: d})
			}
			return printClusterDetail(cmd.OutOrStdout(), d, time.Now())
		},
	}
	f.add(cmd, "table", "json", "yaml")
	cmd.Flags().StringVar(&name, "name", "", "the cluster's name (or give it as the argument)")
	return cmd
}

type clusterCreateFlags struct {
	apiFlags
	waitFlags
	name, version, roleArn, vpc, network, tags, logging, access, token string
}

func newClusterCreateCommand() *cobra.Command {
	f := &clusterCreateFlags{}
	cmd := &cobra.Command{
		Use:   "create [NAME]",
		Short: "Create a cluster: a control plane of its own (aws eks create-cluster)",
		Long: `Create a cluster through kdp's EKS API: kdp starts a control plane of its own for it.
The aws CLI's required flags have defaults here: --role-arn
arn:aws:iam::ACCOUNT:role/KdpClusterRole, --resources-vpc-config subnetIds= every private
subnet of the cloud. With --wait, watch it until it is ACTIVE (exit 0) or FAILED (exit 1);
then: aws eks update-kubeconfig --name NAME.`,
		Example: `  kdp cluster create dev --wait
  kdp cluster create staging --kubernetes-version 1.37 --tags team=web`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runClusterCreate(cmd, args, f)
		},
	}
	fs := cmd.Flags()
	f.apiFlags.add(cmd, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	fs.StringVar(&f.name, "name", "", "the cluster's name (or give it as the argument)")
	fs.StringVar(&f.version, "kubernetes-version", "", "the Kubernetes minor version (default: kdp's)")
	fs.StringVar(&f.roleArn, "role-arn", "", "the cluster's IAM role ARN (default arn:aws:iam::ACCOUNT:role/KdpClusterRole)")
	fs.StringVar(&f.vpc, "resources-vpc-config", "", "subnetIds=a,b,securityGroupIds=sg-1,endpointPublicAccess=true (default: every private subnet)")
	fs.StringVar(&f.network, "kubernetes-network-config", "", "serviceIpv4Cidr=CIDR,ipFamily=ipv4")
	fs.StringVar(&f.tags, "tags", "", "tags of the cluster: k=v,k2=v2")
	fs.StringVar(&f.logging, "logging", "", `the control plane's logs, as JSON: {"clusterLogging":[{"types":["api"],"enabled":true}]}`)
	fs.StringVar(&f.access, "access-config", "", "authenticationMode=API|API_AND_CONFIG_MAP,bootstrapClusterCreatorAdminPermissions=true")
	fs.StringVar(&f.token, "client-request-token", "", "idempotency token (default: a new one)")
	return cmd
}

func runClusterCreate(cmd *cobra.Command, args []string, f *clusterCreateFlags) error {
	name, err := nameArg(args, "name", f.name, "cluster")
	if err != nil {
		return err
	}
	in := &types.CreateClusterRequest{Name: name, Version: f.version, RoleArn: f.roleArn, ClientRequestToken: f.token}
	errs := structFlags(cmd, nil, flagTarget{"resources-vpc-config", &in.ResourcesVpcConfig}, flagTarget{"kubernetes-network-config", &in.KubernetesNetworkConfig},
		flagTarget{"tags", &in.Tags}, flagTarget{"logging", &in.Logging}, flagTarget{"access-config", &in.AccessConfig})
	if len(errs) > 0 {
		return failed(errs...)
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if in.RoleArn == "" || in.ResourcesVpcConfig == nil || len(in.ResourcesVpcConfig.SubnetIds) == 0 {
		if err := defaultCluster(ctx, f.dataDir, in); err != nil {
			return err
		}
	}
	if in.ClientRequestToken == "" {
		in.ClientRequestToken = uuid.NewString()
	}
	out := &types.CreateClusterResponse{}
	if err := c.Call(ctx, "CreateCluster", in, out); err != nil {
		return explain(err, clusterFlagNames)
	}
	if f.wait {
		return f.waitFlags.watch(cmd, watchCluster(c, name, "creation", types.ClusterStatusActive))
	}
	if f.output != "table" {
		return printDocument(cmd.OutOrStdout(), f.output, out)
	}
	return printClusterDetail(cmd.OutOrStdout(), out.Cluster, time.Now())
}

// defaultCluster fills what the aws CLI requires and kdp can choose: a
// cluster role in the account, and the cloud's private subnets.
func defaultCluster(ctx context.Context, dataDir string, in *types.CreateClusterRequest) error {
	cf := &clusterFlags{dataDir: dataDir}
	p, _, err := cf.cloud(ctx)
	if err != nil {
		return err
	}
	account, err := p.Account(ctx)
	if err != nil {
		return err
	}
	if in.RoleArn == "" {
		in.RoleArn = "arn:aws:iam::" + account.ID + ":role/KdpClusterRole"
	}
	if in.ResourcesVpcConfig == nil {
		in.ResourcesVpcConfig = &types.VpcConfigRequest{}
	}
	if len(in.ResourcesVpcConfig.SubnetIds) == 0 {
		if in.ResourcesVpcConfig.SubnetIds, err = privateSubnetIDs(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func newClusterDeleteCommand() *cobra.Command {
	f := &struct {
		apiFlags
		waitFlags
		name string
	}{}
	cmd := &cobra.Command{
		Use:   "delete [NAME]",
		Short: "Delete a cluster: its control plane stops and its data is removed (aws eks delete-cluster)",
		Long: `Delete a cluster CreateCluster made. As on EKS, a cluster with node groups or Fargate
profiles is not deleted: delete them first. With --wait, watch it until it is gone.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := nameArg(args, "name", f.name, "cluster")
			if err != nil {
				return err
			}
			c, err := f.client()
			if err != nil {
				return err
			}
			out := &types.DeleteClusterResponse{}
			if err := c.Call(cmd.Context(), "DeleteCluster", &types.DeleteClusterRequest{Name: name}, out); err != nil {
				return explain(err, nil)
			}
			if f.wait {
				return f.waitFlags.watch(cmd, watchCluster(c, name, "deletion", ""))
			}
			if f.output != "table" {
				return printDocument(cmd.OutOrStdout(), f.output, out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster %s is %s\n", name, out.Cluster.Status)
			return nil
		},
	}
	f.apiFlags.add(cmd, "table", "json", "yaml")
	f.waitFlags.add(cmd)
	cmd.Flags().StringVar(&f.name, "name", "", "the cluster's name (or give it as the argument)")
	return cmd
}

func describeCluster(ctx context.Context, c *eksapi.Client, name string) (*types.Cluster, error) {
	out := &types.DescribeClusterResponse{}
	if err := c.Call(ctx, "DescribeCluster", &types.DescribeClusterRequest{Name: name}, out); err != nil {
		return nil, err
	}
	return out.Cluster, nil
}

// watchCluster watches a cluster until it is in status want (its
// creation), or gone (want "": its deletion).
func watchCluster(c *eksapi.Client, name, what string, want types.ClusterStatus) progress.Poll {
	title := fmt.Sprintf("cluster %s %s", name, what)
	return func(ctx context.Context) (progress.Frame, *progress.Outcome, error) {
		d, err := describeCluster(ctx, c, name)
		if eks.IsNotFound(err) && want == "" {
			return progress.Frame{Title: title, Status: "gone"}, &progress.Outcome{Summary: "cluster " + name + " is deleted"}, nil
		} else if err != nil {
			return progress.Frame{}, nil, explain(err, nil)
		}
		f := progress.Frame{Title: title, Status: string(d.Status)}
		if d.Health != nil {
			for _, i := range d.Health.Issues {
				f.Items = append(f.Items, progress.Item{Text: fmt.Sprintf("%s: %s", i.Code, i.Message)})
			}
		}
		switch {
		case want != "" && d.Status == want:
			return f, &progress.Outcome{Summary: fmt.Sprintf("cluster %s is %s at %s; kubectl access: aws eks update-kubeconfig --name %s", name, d.Status, d.Endpoint, name)}, nil
		case d.Status == types.ClusterStatusFailed:
			lines := []string{fmt.Sprintf("cluster %s is FAILED", name)}
			for _, i := range f.Items {
				lines = append(lines, i.Text)
			}
			return f, &progress.Outcome{Summary: lines[0], Err: failed(lines...)}, nil
		}
		return f, nil, nil
	}
}

func printClusters(out io.Writer, all []*types.Cluster, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "NAME\tSTATUS\tVERSION\tENDPOINT\tAGE")
	for _, c := range all {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Status, c.Version, orDash(c.Endpoint), age(c.CreatedAt, now))
	}
	return w.Flush()
}

func printClusterDetail(out io.Writer, c *types.Cluster, now time.Time) error {
	if c == nil {
		return errors.New("no cluster in the answer")
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "Name:\t%s\n", c.Name)
	fmt.Fprintf(w, "ARN:\t%s\n", c.Arn)
	fmt.Fprintf(w, "Status:\t%s\n", c.Status)
	fmt.Fprintf(w, "Version:\t%s (platform %s)\n", c.Version, orDash(c.PlatformVersion))
	fmt.Fprintf(w, "Endpoint:\t%s\n", orDash(c.Endpoint))
	if c.RoleArn != "" {
		fmt.Fprintf(w, "Role:\t%s\n", c.RoleArn)
	}
	if v := c.ResourcesVpcConfig; v != nil {
		fmt.Fprintf(w, "Subnets:\t%s\n", strings.Join(v.SubnetIds, ", "))
	}
	if c.Identity != nil && c.Identity.Oidc != nil {
		fmt.Fprintf(w, "OIDC issuer:\t%s\n", c.Identity.Oidc.Issuer)
	}
	if c.AccessConfig != nil {
		fmt.Fprintf(w, "Authentication:\t%s\n", c.AccessConfig.AuthenticationMode)
	}
	if c.CreatedAt != nil {
		fmt.Fprintf(w, "Created:\t%s (%s ago)\n", c.CreatedAt.UTC().Format(time.RFC3339), age(c.CreatedAt, now))
	}
	if len(c.Tags) > 0 {
		fmt.Fprintf(w, "Tags:\t%s\n", sortedPairs(c.Tags, "="))
	}
	if c.Health != nil && len(c.Health.Issues) > 0 {
		fmt.Fprintln(w, "Health:")
		for _, i := range c.Health.Issues {
			fmt.Fprintf(w, "  %s:\t%s\n", i.Code, i.Message)
		}
	}
	return w.Flush()
}
