package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud/sim/simapi"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/manager"
)

// clusterFlags choose the cluster and the cloud a command talks to, the way
// kubectl finds its cluster: --kubeconfig, else the kubeconfig of
// --data-dir, else $KUBECONFIG, else the kubeconfig of $KDP_DATA_DIR (else
// ~/.kdp). `kdp env` exports both variables. The simulated cloud is the one
// kdp serves from the data dir (--data-dir, else $KDP_DATA_DIR, else
// ~/.kdp), whichever cluster it serves.
type clusterFlags struct {
	dataDir    string
	kubeconfig string
	flags      *pflag.FlagSet
}

func (f *clusterFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", cluster.DefaultDataDir(), "kdp's data directory ($KDP_DATA_DIR, else ~/.kdp)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "talk to the cluster of this kubeconfig (default: $KUBECONFIG, else the data dir's)")
	f.flags = fs
}

// clients are the clients of one command.
type clients struct {
	// clusterName is the kubeconfig's current cluster.
	clusterName string
	config      *rest.Config
	client      client.Client
	clientset   kubernetes.Interface
}

// loadingRules are where the kubeconfig comes from, as described on
// clusterFlags.
func (f *clusterFlags) loadingRules() (*clientcmd.ClientConfigLoadingRules, string) {
	switch {
	case f.kubeconfig != "":
		return &clientcmd.ClientConfigLoadingRules{ExplicitPath: f.kubeconfig}, "--kubeconfig " + f.kubeconfig
	case f.flags != nil && f.flags.Changed("data-dir"):
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		return clientcmd.NewDefaultClientConfigLoadingRules(), "$KUBECONFIG"
	}
	path := cluster.Layout{Root: f.dataDir}.AdminKubeconfig()
	return &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, path
}

func (f *clusterFlags) connect() (*clients, error) {
	rules, from := f.loadingRules()
	loaded, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to (%v): run kdp up, or pass --data-dir or --kubeconfig", err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*loaded, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to (%s: %v): run kdp up, or pass --data-dir or --kubeconfig", from, err)
	}
	name := cluster.DefaultClusterName
	if ctx := loaded.Contexts[loaded.CurrentContext]; ctx != nil {
		name = ctx.Cluster
	}
	c, err := client.New(cfg, client.Options{Scheme: manager.Scheme()})
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{clusterName: name, config: cfg, client: c, clientset: cs}, nil
}

// cloud connects to the simulated cloud kdp serves from the data dir.
func (f *clusterFlags) cloud(ctx context.Context) (*simapi.Client, *simapi.Info, error) {
	socket := cluster.Layout{Root: f.dataDir}.CloudSocket()
	c, info, err := simapi.Dial(ctx, socket)
	if errors.Is(err, simapi.ErrNotRunning) {
		return nil, nil, fmt.Errorf("%w: start it with kdp up%s", err, dataDirFlag(f.dataDir))
	}
	return c, info, err
}

// dataDirFlag is the --data-dir flag that names dir, unless it is the
// default.
func dataDirFlag(dir string) string {
	if dir == cluster.DefaultDataDir() {
		return ""
	}
	return " --data-dir " + shellQuote(dir)
}

// printJSON writes v as indented JSON.
func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
