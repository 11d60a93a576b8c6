package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kdp-project/kdp/internal/cluster"
)

type envFlags struct {
	dataDir string
}

func newEnvCommand() *cobra.Command {
	f := &envFlags{}
	cmd := &cobra.Command{
		Use:   "env",
		Short: `Print shell exports for using the cluster with kubectl and kdp: eval "$(kdp env)"`,
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
	_, err = fmt.Fprintf(out, "export KUBECONFIG=%s\nexport KDP_DATA_DIR=%s\n", shellQuote(kubeconfig), shellQuote(dir))
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
