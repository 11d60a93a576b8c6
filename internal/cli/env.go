package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/eksapi"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

type envFlags struct {
	dataDir string
}

func newEnvCommand() *cobra.Command {
	f := &envFlags{}
	cmd := &cobra.Command{
		Use:   "env",
		Short: `Print shell exports for using the cluster with kubectl and kdp, and its EKS API with the aws CLI: eval "$(kdp env)"`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEnv(f, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&f.dataDir, "data-dir", cluster.DefaultDataDir(), "kdp's data directory ($KDP_DATA_DIR, else ~/.kdp)")
	return cmd
}

func runEnv(f *envFlags, out io.Writer) error {
	dir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return err
	}
	kubeconfig := cluster.Layout{Root: dir}.AdminKubeconfig()
	if _, err := os.Stat(kubeconfig); err != nil {
		return fmt.Errorf("no cluster in %s (%s is missing): run `kdp up --data-dir %s` first", dir, kubeconfig, dir)
	}
	// Both: kubectl reads the one, every kdp command the other (and the
	// first too), so that they reach the same cluster and cloud.
	if _, err := fmt.Fprintf(out, "export KUBECONFIG=%s\nexport KDP_DATA_DIR=%s\n", shellQuote(kubeconfig), shellQuote(dir)); err != nil {
		return err
	}
	return printEKSEnv(cluster.Layout{Root: dir}, out)
}

// printEKSEnv prints the exports with which the aws CLI and the AWS SDKs
// reach kdp's EKS API, if a kdp up wrote its endpoint: the endpoint, the
// admin credential (the first by name if admin was revoked) and the region.
// AWS_SESSION_TOKEN is unset: the SDKs would send one left from a real AWS
// session, and kdp refuses requests that carry one.
func printEKSEnv(layout cluster.Layout, out io.Writer) error {
	ep, err := eksapi.ReadEndpoint(layout.EKSEndpoint())
	if errors.Is(err, fs.ErrNotExist) {
		return nil // no EKS API: only the cluster's exports
	}
	if err != nil {
		_, err = fmt.Fprintf(out, "# the EKS API's endpoint file is unreadable: %v\n", err)
		return err
	}
	endpoint := ep.URL
	s, err := auth.Load(layout.EKSCredentials())
	if err != nil {
		_, err = fmt.Fprintf(out, "# the EKS API at %s has no usable credentials: %v\n", endpoint, err)
		return err
	}
	settings, err := s.Settings()
	if err != nil {
		return err
	}
	creds, err := s.List()
	if err != nil {
		return err
	}
	if len(creds) == 0 {
		_, err = fmt.Fprintf(out, "# the EKS API at %s has no credentials: kdp credentials create NAME\n", endpoint)
		return err
	}
	c := exportedCredential(creds)
	// STS is served on the EKS API's port: aws eks get-token presigns its
	// GetCallerIdentity there, and kdp verifies the tokens of its clusters.
	_, err = fmt.Fprintf(out, "export AWS_ENDPOINT_URL_EKS=%s\nexport AWS_ENDPOINT_URL_STS=%s\nexport AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n"+
		"export AWS_REGION=%s\nexport AWS_DEFAULT_REGION=%s\nunset AWS_SESSION_TOKEN\n",
		shellQuote(endpoint), shellQuote(endpoint), shellQuote(c.AccessKeyID), shellQuote(c.SecretAccessKey), shellQuote(settings.Region), shellQuote(settings.Region))
	if err == nil && ep.CABundle != "" {
		_, err = fmt.Fprintf(out, "export AWS_CA_BUNDLE=%s\n", shellQuote(ep.CABundle)) // --eks-api-tls: kdp's CA
	}
	return err
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r == '+' || r == ',' ||
			('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// exportedCredential is the one kdp env exports and kdp cluster signs
// with: admin, else the first by name (creds is not empty).
func exportedCredential(creds []auth.Credential) auth.Credential {
	for _, c := range creds {
		if c.Name == defaultCredential {
			return c
		}
	}
	return creds[0]
}
