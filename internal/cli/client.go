package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kdp-project/kdp/internal/cloud/sim"
	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/manager"
)

// clusterFlags choose the cluster a command talks to: kdp's own (by data
// dir) or any other (by kubeconfig).
type clusterFlags struct {
	dataDir    string
	kubeconfig string
}

func (f *clusterFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", cluster.DefaultDataDir(), "kdp's data directory ($KDP_DATA_DIR, else ~/.kdp)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "talk to the cluster of this kubeconfig instead of kdp's own")
}

// clients are the clients of one command.
type clients struct {
	// clusterName is the kubeconfig's current cluster.
	clusterName string
	config      *rest.Config
	client      client.Client
	clientset   kubernetes.Interface
}

func (f *clusterFlags) connect() (*clients, error) {
	path := f.kubeconfig
	if path == "" {
		path = cluster.Layout{Root: f.dataDir}.AdminKubeconfig()
	}
	loaded, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to (%v): run kdp up, or pass --data-dir or --kubeconfig", err)
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*loaded, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
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

// simProvider connects to the simulated cloud of the cluster.
func (f *clusterFlags) simProvider(ctx context.Context) (*sim.Provider, *clients, error) {
	c, err := f.connect()
	if err != nil {
		return nil, nil, err
	}
	o, err := sim.LoadOptions(ctx, c.client)
	if err != nil {
		return nil, nil, err
	}
	catalog, err := sim.NewCatalog(o.Region, o.Zones)
	if err != nil {
		return nil, nil, err
	}
	timing, err := sim.Profile(o.Profile, o.Scale)
	if err != nil {
		return nil, nil, err
	}
	return sim.NewProvider(c.client, catalog, clock.RealClock{}, timing, sim.NewBroker(o.Region)), c, nil
}

// printJSON writes v as indented JSON.
func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
