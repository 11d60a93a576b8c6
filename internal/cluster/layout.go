package cluster

import "path/filepath"

// Layout names the files of a data directory. Everything kdp keeps lives
// below Root, so a data directory is the whole state of a cluster.
type Layout struct{ Root string }

func (l Layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.Root}, elem...)...)
}

func (l Layout) Lock() string            { return l.path("kdp.lock") }
func (l Layout) AdminKubeconfig() string { return l.path("kubeconfig") }
func (l Layout) EtcdDir() string         { return l.path("etcd") }
func (l Layout) PKIDir() string          { return l.path("pki") }
func (l Layout) PKI(name string) string  { return l.path("pki", name) }
func (l Layout) Kubeconfig(user string) string {
	return l.path("kubeconfigs", user+".kubeconfig")
}
func (l Layout) SchedulerConfig() string { return l.path("kube-scheduler.yaml") }
func (l Layout) LogFile() string         { return l.path("kdp.log") }

// CloudDir holds the simulated cloud's state; it lives outside every
// cluster's API server, as a cloud does.
func (l Layout) CloudDir() string { return l.path("cloud") }

// CloudSocket is where kdp serves the simulated cloud to its CLI.
func (l Layout) CloudSocket() string { return l.path("cloud", "api.sock") }

// WebhookDir holds the CA and serving certificate of kdp's admission
// webhooks, kept across restarts so that the API server's caBundle stays
// valid.
func (l Layout) WebhookDir() string { return l.path("webhook") }

// EKSDir holds what kdp's EKS-compatible API keeps: its credentials
// (0600) and the endpoint it serves on.
func (l Layout) EKSDir() string { return l.path("eks-api") }

// EKSCredentials is the file of the EKS API's access keys.
func (l Layout) EKSCredentials() string { return l.path("eks-api", "credentials.json") }

// EKSEndpoint is the file where a running kdp writes the URL of its EKS
// API (the port is configurable, and may be any free one): `kdp env`
// reads it.
func (l Layout) EKSEndpoint() string { return l.path("eks-api", "endpoint") }

// EKSAuditLog is the EKS API's audit log: a JSON line per change and per
// refused authentication (0600, appended to).
func (l Layout) EKSAuditLog() string { return l.path("eks-api", "audit.log") }

// ClustersDir holds a directory per cluster kdp created through the EKS
// API (CreateCluster): its record, and the data dir of its control plane.
func (l Layout) ClustersDir() string { return l.path("clusters") }
