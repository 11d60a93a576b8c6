package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/eksapi/auth"
)

// The kdp credentials commands manage the access keys of the EKS API in the
// data dir's credentials file, which `kdp up` creates (with the account id
// and region it serves, so these commands need neither) and a running kdp
// reads again at the next request after a change.

type credentialsFlags struct {
	dataDir string
	output  string
}

func (f *credentialsFlags) add(cmd *cobra.Command, output bool) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", cluster.DefaultDataDir(), "kdp's data directory ($KDP_DATA_DIR, else ~/.kdp)")
	if output {
		cmd.Flags().StringVarP(&f.output, "output", "o", "table", "table or json")
	}
}

func (f *credentialsFlags) check() error {
	if f.output != "" && f.output != "table" && f.output != "json" {
		return fmt.Errorf("-o %q: must be table or json", f.output)
	}
	return nil
}

// store opens the data dir's credentials file.
func (f *credentialsFlags) store() (*auth.Store, error) {
	dir, err := filepath.Abs(f.dataDir)
	if err != nil {
		return nil, err
	}
	s, err := auth.Load(cluster.Layout{Root: dir}.EKSCredentials())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no EKS API credentials in %s: run `kdp up%s` first, which creates them", dir, dataDirFlag(dir))
	}
	return s, err
}

func newCredentialsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "credentials",
		Short: "Manage the access keys of the EKS-compatible API (for the aws CLI and the AWS SDKs)",
	}
	cmd.AddCommand(newCredentialsCreateCommand(), newCredentialsListCommand(), newCredentialsRevokeCommand())
	return cmd
}

func newCredentialsCreateCommand() *cobra.Command {
	f := &credentialsFlags{}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an access key; its secret is shown this once",
		Long: "Create an access key named NAME (1 to 64 letters, digits and + = , . @ _ -, like an IAM user).\n" +
			"The secret access key is printed this once: kdp never shows it again (except the admin key's, in kdp env).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCredentialsCreate(f, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.add(cmd, true)
	return cmd
}

func runCredentialsCreate(f *credentialsFlags, name string, out, errOut io.Writer) error {
	if err := f.check(); err != nil {
		return err
	}
	s, err := f.store()
	if err != nil {
		return err
	}
	c, err := s.Create(name)
	if err != nil {
		return err
	}
	if f.output == "json" {
		err = printJSON(out, c)
	} else {
		err = table(out, "NAME\tACCESS KEY ID\tSECRET ACCESS KEY\tARN", [][]string{{c.Name, c.AccessKeyID, c.SecretAccessKey, c.ARN}})
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(errOut, "This is the only time kdp shows this secret access key: keep it now.")
	return err
}

func newCredentialsListCommand() *cobra.Command {
	f := &credentialsFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the access keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCredentialsList(f, cmd.OutOrStdout())
		},
	}
	f.add(cmd, true)
	return cmd
}

func runCredentialsList(f *credentialsFlags, out io.Writer) error {
	if err := f.check(); err != nil {
		return err
	}
	s, err := f.store()
	if err != nil {
		return err
	}
	creds, err := s.List()
	if err != nil {
		return err
	}
	for i := range creds {
		creds[i].SecretAccessKey = ""
	}
	if f.output == "json" {
		return printJSON(out, creds)
	}
	rows := make([][]string, 0, len(creds))
	for _, c := range creds {
		rows = append(rows, []string{c.Name, c.AccessKeyID, c.ARN, c.CreatedAt.Format(time.RFC3339)})
	}
	return table(out, "NAME\tACCESS KEY ID\tARN\tCREATED", rows)
}

func newCredentialsRevokeCommand() *cobra.Command {
	f := &credentialsFlags{}
	cmd := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an access key: a running kdp refuses it from its next request",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCredentialsRevoke(f, args[0], cmd.OutOrStdout())
		},
	}
	f.add(cmd, false)
	return cmd
}

func runCredentialsRevoke(f *credentialsFlags, name string, out io.Writer) error {
	s, err := f.store()
	if err != nil {
		return err
	}
	creds, err := s.List()
	if err != nil {
		return err
	}
	if err := s.Revoke(name); err != nil {
		return err
	}
	for _, c := range creds {
		if c.Name == name {
			_, err = fmt.Fprintf(out, "credential %s (%s) revoked\n", name, c.AccessKeyID)
		}
	}
	return err
}
