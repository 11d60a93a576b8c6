package controlplane

import (
	"fmt"
	"net/url"
	"strconv"

	"sigs.k8s.io/yaml"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/pki"
)

// The embedded components' flags are defaults maps: one place to read what
// kdp runs them with. The user's extra arguments (kdp up --kube-apiserver-arg
// and friends) override single entries.

func apiserverArgs(cfg cluster.Config, b *pki.Bundle) ([]string, error) {
	return withOverrides("kube-apiserver", cfg, map[string]string{
		"advertise-address": advertiseAddress(cfg),
		"bind-address":      cfg.BindAddress,
		// A loopback advertise address is fatal to the default (lease)
		// endpoint reconciler; one apiserver needs none.
		"endpoint-reconciler-type":           "none",
		"etcd-servers":                       cfg.EtcdURL(),
		"etcd-cafile":                        b.EtcdCA.CertFile,
		"etcd-certfile":                      b.APIServerEtcdClient.CertFile,
		"etcd-keyfile":                       b.APIServerEtcdClient.KeyFile,
		"client-ca-file":                     b.CA.CertFile,
		"tls-cert-file":                      b.APIServer.CertFile,
		"tls-private-key-file":               b.APIServer.KeyFile,
		"kubelet-client-certificate":         b.APIServerKubeletClient.CertFile,
		"kubelet-client-key":                 b.APIServerKubeletClient.KeyFile,
		"kubelet-preferred-address-types":    "InternalIP,Hostname",
		"service-account-issuer":             cluster.ServiceAccountIssuer,
		"service-account-key-file":           b.ServiceAccountPub,
		"service-account-signing-key-file":   b.ServiceAccountKey,
		"service-cluster-ip-range":           cluster.ServiceCIDR,
		"authorization-mode":                 "Node,RBAC",
		"enable-admission-plugins":           "NodeRestriction",
		"enable-bootstrap-token-auth":        "true",
		"allow-privileged":                   "true",
		"requestheader-client-ca-file":       b.FrontProxyCA.CertFile,
		"requestheader-allowed-names":        pki.FrontProxyClientCN,
		"requestheader-username-headers":     "X-Remote-User",
		"requestheader-group-headers":        "X-Remote-Group",
		"requestheader-extra-headers-prefix": "X-Remote-Extra-",
		"proxy-client-cert-file":             b.FrontProxyClient.CertFile,
		"proxy-client-key-file":              b.FrontProxyClient.KeyFile,
		"profiling":                          "false",
		"v":                                  strconv.Itoa(cfg.Verbosity), // identical for all: they share one logging configuration
	})
}

func controllerManagerArgs(cfg cluster.Config, layout cluster.Layout, b *pki.Bundle) ([]string, error) {
	kubeconfig := layout.Kubeconfig("kube-controller-manager")
	return withOverrides("kube-controller-manager", cfg, map[string]string{
		"kubeconfig":                kubeconfig,
		"authentication-kubeconfig": kubeconfig,
		"authorization-kubeconfig":  kubeconfig,
		"bind-address":              cfg.BindAddress,
		// The secure port only serves kcm's own healthz and metrics; it is
		// off so that kdp needs no more ports than it shows.
		"secure-port":                      "0",
		"leader-elect":                     "false",
		"use-service-account-credentials":  "true",
		"root-ca-file":                     b.CA.CertFile,
		"service-account-private-key-file": b.ServiceAccountKey,
		// Signs the CSRs of kubelets joining through TLS bootstrap.
		"cluster-signing-cert-file": b.CA.CertFile,
		"cluster-signing-key-file":  b.CA.KeyFile,
		"cluster-name":              cfg.ClusterName,
		"controllers":               "*,bootstrapsigner,tokencleaner",
		// The client is local: the default 20 qps would make a Deployment of
		// 10,000 replicas take minutes just to get its pods created.
		"kube-api-qps":   "1000",
		"kube-api-burst": "2000",
		"profiling":      "false",
		"v":              strconv.Itoa(cfg.Verbosity), // identical for all: they share one logging configuration
	})
}

func schedulerArgs(cfg cluster.Config, layout cluster.Layout) ([]string, error) {
	kubeconfig := layout.Kubeconfig("kube-scheduler")
	config := map[string]any{
		"apiVersion": "kubescheduler.config.k8s.io/v1",
		"kind":       "KubeSchedulerConfiguration",
		"clientConnection": map[string]any{
			"kubeconfig": kubeconfig,
			"qps":        1000,
			"burst":      2000,
		},
		"leaderElection": map[string]any{"leaderElect": false},
	}
	data, err := yaml.Marshal(config)
	if err != nil {
		return nil, err
	}
	if err := pki.WriteFileAtomic(layout.SchedulerConfig(), data, 0o600); err != nil {
		return nil, fmt.Errorf("kube-scheduler config: %w", err)
	}
	return withOverrides("kube-scheduler", cfg, map[string]string{
		"config":                    layout.SchedulerConfig(),
		"authentication-kubeconfig": kubeconfig,
		"authorization-kubeconfig":  kubeconfig,
		"bind-address":              cfg.BindAddress,
		"secure-port":               "0",
		"profiling":                 "false",
		"v":                         strconv.Itoa(cfg.Verbosity), // identical for all: they share one logging configuration
	})
}

// withOverrides applies the user's extra arguments for component to its
// defaults.
func withOverrides(component string, cfg cluster.Config, defaults map[string]string) ([]string, error) {
	return cluster.MergeArgs(defaults, cfg.ExtraArgs[component])
}

// advertiseAddress is the address the apiserver tells clients: the bind
// address, or loopback when it listens on every address.
func advertiseAddress(cfg cluster.Config) string {
	u, err := url.Parse(cfg.APIServerURL())
	if err != nil {
		return cfg.BindAddress
	}
	return u.Hostname()
}
