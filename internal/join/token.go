package join

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
)

// NodeGroup is the extra group kdp's bootstrap tokens authenticate as, as
// kubeadm's do (system:bootstrappers:kubeadm:default-node-token).
const NodeGroup = "system:bootstrappers:kdp:default-node-token"

// Options of a join configuration.
type Options struct {
	ClusterName string
	// Server is the API server URL nodes dial.
	Server string
	// CA is the cluster CA, PEM.
	CA          []byte
	ServiceCIDR string
	TTL         time.Duration
	Labels      map[string]string
	Taints      []corev1.Taint
	Description string
}

// Issue creates a bootstrap token (a bootstrap-token-<id> Secret in
// kube-system that expires after TTL) and returns the NodeConfig that
// carries it.
func Issue(ctx context.Context, client kubernetes.Interface, now time.Time, o Options) (*NodeConfig, error) {
	if o.TTL <= 0 {
		return nil, fmt.Errorf("--ttl %s: must be positive", o.TTL)
	}
	token, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		return nil, err
	}
	id, secret, _ := strings.Cut(token, ".")
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstraputil.BootstrapTokenSecretName(id), Namespace: metav1.NamespaceSystem},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		StringData: map[string]string{
			bootstrapapi.BootstrapTokenIDKey:               id,
			bootstrapapi.BootstrapTokenSecretKey:           secret,
			bootstrapapi.BootstrapTokenExpirationKey:       now.Add(o.TTL).UTC().Format(time.RFC3339),
			bootstrapapi.BootstrapTokenUsageAuthentication: "true",
			bootstrapapi.BootstrapTokenUsageSigningKey:     "true",
			bootstrapapi.BootstrapTokenExtraGroupsKey:      NodeGroup,
			bootstrapapi.BootstrapTokenDescriptionKey:      o.Description,
		},
	}
	if _, err := client.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating bootstrap token: %w", err)
	}
	var flags []string
	if len(o.Labels) > 0 {
		flags = append(flags, "--node-labels="+FormatLabels(o.Labels))
	}
	if len(o.Taints) > 0 {
		flags = append(flags, "--register-with-taints="+FormatTaints(o.Taints))
	}
	return &NodeConfig{
		APIVersion: APIVersion, Kind: Kind,
		Spec: NodeConfigSpec{
			Cluster: ClusterDetails{
				Name: o.ClusterName, APIServerEndpoint: o.Server,
				CertificateAuthority: base64.StdEncoding.EncodeToString(o.CA), CIDR: o.ServiceCIDR,
			},
			Kubelet: KubeletOptions{BootstrapToken: token, Flags: flags},
		},
	}, nil
}

// EnsureRBAC sets up what TLS bootstrap needs, as kubeadm does: bootstrap
// tokens may create CSRs, their kubelet-client CSRs are approved
// automatically, and so are nodes' renewals of their own certificates.
// It is idempotent.
func EnsureRBAC(ctx context.Context, client kubernetes.Interface) error {
	bindings := []struct{ name, role, group string }{
		{"kdp:kubelet-bootstrap", "system:node-bootstrapper", NodeGroup},
		{"kdp:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", NodeGroup},
		{"kdp:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", "system:nodes"},
	}
	for _, b := range bindings {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: b.name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: b.role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: b.group}},
		}
		if _, err := client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating ClusterRoleBinding %s: %w", b.name, err)
		}
	}
	return nil
}

// FormatLabels writes labels as --node-labels takes them, sorted.
func FormatLabels(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for k, v := range labels {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// FormatTaints writes taints as --register-with-taints takes them.
func FormatTaints(taints []corev1.Taint) string {
	parts := make([]string, 0, len(taints))
	for _, t := range taints {
		kv := t.Key
		if t.Value != "" {
			kv += "=" + t.Value
		}
		parts = append(parts, kv+":"+string(t.Effect))
	}
	return strings.Join(parts, ",")
}
