package join

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/certificate/csr"
	"k8s.io/client-go/util/keyutil"
)

// Credentials are a node's client certificate and key, PEM.
type Credentials struct {
	CertPEM, KeyPEM []byte
}

// WaitFunc waits until the CSR name (with uid) is signed and returns the
// certificate, PEM.
type WaitFunc func(ctx context.Context, name string, uid types.UID) ([]byte, error)

// BootstrapClient is the client a node's TLS bootstrap uses: it
// authenticates with the NodeConfig's bootstrap token. Nodes that share a
// NodeConfig may share it (a simulator running many does), so it has no
// client-side rate limit (client-go's default, 5 requests a second, is one
// node's): the API server's priority and fairness limits it instead.
func BootstrapClient(nc *NodeConfig) (kubernetes.Interface, error) {
	ca, err := nc.CA()
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(&rest.Config{
		Host:            nc.Spec.Cluster.APIServerEndpoint,
		BearerToken:     nc.Spec.Kubelet.BootstrapToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		UserAgent:       "kdp-kubelet",
		ContentConfig:   rest.ContentConfig{ContentType: runtime.ContentTypeProtobuf}, // as the kubelet talks
		QPS:             -1,
	})
}

// Bootstrap performs TLS bootstrap for nodeName with a BootstrapClient: it
// sends a CSR for a kubelet client certificate (CN system:node:<name>, O
// system:nodes), waits for the controller-manager to approve and sign it,
// and returns the credentials. With a nil wait it watches the CSR with the
// bootstrap credentials, as a kubelet does; a simulator running many nodes
// may pass one that reads a shared informer instead of opening a watch per
// node.
func Bootstrap(ctx context.Context, client kubernetes.Interface, nodeName string, wait WaitFunc) (*Credentials, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	csrPEM, err := certutil.MakeCSR(key, &pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}}, nil, nil)
	if err != nil {
		return nil, err
	}
	name, uid, err := csr.RequestCertificateWithContext(ctx, client, csrPEM, "", certificatesv1.KubeAPIServerClientKubeletSignerName, nil,
		[]certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}, key)
	if err != nil {
		return nil, fmt.Errorf("requesting a client certificate for %s: %w", nodeName, err)
	}
	if wait == nil {
		wait = func(ctx context.Context, name string, uid types.UID) ([]byte, error) {
			return csr.WaitForCertificate(ctx, client, name, uid)
		}
	}
	certPEM, err := wait(ctx, name, uid)
	if err != nil {
		return nil, fmt.Errorf("waiting for CSR %s of %s to be signed: %w", name, nodeName, err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return nil, err
	}
	return &Credentials{CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// NodeClientConfig is the REST config of a node with its credentials.
func NodeClientConfig(nc *NodeConfig, creds *Credentials) (*rest.Config, error) {
	ca, err := nc.CA()
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host: nc.Spec.Cluster.APIServerEndpoint,
		TLSClientConfig: rest.TLSClientConfig{
			CAData: ca, CertData: creds.CertPEM, KeyData: creds.KeyPEM,
		},
	}, nil
}
