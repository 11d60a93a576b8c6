package pki

import (
	"fmt"
	"net"
	"slices"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kdp-project/kdp/internal/cluster"
)

// Identities of the clients kdp issues certificates to. The apiserver maps
// CN to the user name and O to groups.
const (
	AdminUser             = "kubernetes-admin"
	ControllerManagerUser = "system:kube-controller-manager"
	SchedulerUser         = "system:kube-scheduler"
	ManagerUser           = "kdp:manager"
	FrontProxyClientCN    = "front-proxy-client"
	mastersGroup          = "system:masters"
)

// Bundle is the PKI of one cluster, as laid out in the data directory.
type Bundle struct {
	CA, EtcdCA, FrontProxyCA *CA

	APIServer, APIServerKubeletClient, APIServerEtcdClient *Leaf
	EtcdServer, FrontProxyClient                           *Leaf

	ServiceAccountKey, ServiceAccountPub string
}

// Ensure loads the cluster's PKI from the data directory, creating what is
// missing, and (re)writes the kubeconfigs of the admin, the embedded
// components and kdp's manager for the current API server address.
func Ensure(layout cluster.Layout, cfg cluster.Config) (*Bundle, error) {
	dir := layout.PKIDir()
	b := &Bundle{}
	var err error
	if b.CA, err = LoadOrCreateCA(dir, "ca", "kdp-ca"); err != nil {
		return nil, err
	}
	if b.EtcdCA, err = LoadOrCreateCA(dir, "etcd-ca", "kdp-etcd-ca"); err != nil {
		return nil, err
	}
	if b.FrontProxyCA, err = LoadOrCreateCA(dir, "front-proxy-ca", "kdp-front-proxy-ca"); err != nil {
		return nil, err
	}
	// Servers are reached on loopback and on the bind address; the apiserver
	// also on the kubernetes.default service IP.
	local := []net.IP{net.ParseIP("127.0.0.1")}
	if bind := net.ParseIP(cfg.BindAddress); !bind.IsUnspecified() && !bind.Equal(local[0]) {
		local = append(local, bind)
	}
	leaves := []struct {
		into *(*Leaf)
		ca   *CA
		name string
		spec LeafSpec
	}{
		{&b.APIServer, b.CA, "apiserver", LeafSpec{
			CommonName: "kube-apiserver", Server: true, IPs: append(slices.Clone(local), firstServiceIP()),
			DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		}},
		{&b.APIServerKubeletClient, b.CA, "apiserver-kubelet-client", LeafSpec{
			CommonName: "kube-apiserver-kubelet-client", Organization: []string{mastersGroup}, Client: true,
		}},
		{&b.EtcdServer, b.EtcdCA, "etcd-server", LeafSpec{
			CommonName: "kdp-etcd", Server: true, Client: true, IPs: local, DNSNames: []string{"localhost"},
		}},
		{&b.APIServerEtcdClient, b.EtcdCA, "apiserver-etcd-client", LeafSpec{
			CommonName: "kube-apiserver-etcd-client", Client: true,
		}},
		{&b.FrontProxyClient, b.FrontProxyCA, "front-proxy-client", LeafSpec{
			CommonName: FrontProxyClientCN, Client: true,
		}},
	}
	for _, l := range leaves {
		if *l.into, err = l.ca.LoadOrIssue(dir, l.name, l.spec); err != nil {
			return nil, err
		}
	}
	if b.ServiceAccountKey, b.ServiceAccountPub, err = LoadOrCreateKeyPair(dir, "sa"); err != nil {
		return nil, err
	}

	kubeconfigs := []struct {
		path, file string
		spec       LeafSpec
	}{
		{layout.AdminKubeconfig(), "admin", LeafSpec{CommonName: AdminUser, Organization: []string{mastersGroup}, Client: true}},
		{layout.Kubeconfig("kube-controller-manager"), "kube-controller-manager", LeafSpec{CommonName: ControllerManagerUser, Client: true}},
		{layout.Kubeconfig("kube-scheduler"), "kube-scheduler", LeafSpec{CommonName: SchedulerUser, Client: true}},
		{layout.Kubeconfig("kdp-manager"), "kdp-manager", LeafSpec{CommonName: ManagerUser, Client: true}},
	}
	for _, k := range kubeconfigs {
		leaf, err := b.CA.LoadOrIssue(dir, k.file, k.spec)
		if err != nil {
			return nil, err
		}
		if err := WriteKubeconfig(k.path, cfg.ClusterName, cfg.APIServerURL(), b.CA.CertPEM(), leaf); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// WriteKubeconfig writes a self-contained kubeconfig (certificates embedded)
// for leaf's identity, with one context named after the cluster.
func WriteKubeconfig(path, clusterName, server string, caPEM []byte, leaf *Leaf) error {
	user := leaf.Cert.Subject.CommonName
	kc := clientcmdapi.NewConfig()
	kc.Clusters[clusterName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: leaf.CertPEM(), ClientKeyData: leaf.KeyPEM()}
	kc.Contexts[clusterName] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: user}
	kc.CurrentContext = clusterName
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return fmt.Errorf("writing kubeconfig %s: %w", path, err)
	}
	return WriteFileAtomic(path, data, 0o600)
}

// firstServiceIP is the first address of the service range: the ClusterIP of
// the kubernetes.default service, which in-cluster clients dial.
func firstServiceIP() net.IP {
	_, n, _ := net.ParseCIDR(cluster.ServiceCIDR)
	ip := n.IP.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1)
}
