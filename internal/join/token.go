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
	s := tokenSecret(id, secret, o.Description, NodeGroup, nil)
	s.StringData[bootstrapapi.BootstrapTokenExpirationKey] = now.Add(o.TTL).UTC().Format(time.RFC3339)
	if _, err := client.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, s, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating bootstrap token: %w", err)
	}
	return Config(o, token), nil
}

// EnsureToken returns the bootstrap token of id (6 characters a-z0-9),
// creating it, without expiry, if there is none: a token for machines that
// join long after it was made (a node group's, which scale-ups use for
// years, as kubeadm's --ttl 0). Labels mark the Secret as its owner's.
func EnsureToken(ctx context.Context, client kubernetes.Interface, id, description string, labels map[string]string) (string, error) {
	return EnsureGroupToken(ctx, client, id, description, NodeGroup, labels)
}

// EnsureGroupToken is EnsureToken for a token that authenticates as the
// extra group (system:bootstrappers:…) instead of NodeGroup: a token whose
// right to join is granted on its own (a Fargate profile's, granted and
// revoked with the profile).
func EnsureGroupToken(ctx context.Context, client kubernetes.Interface, id, description, group string, labels map[string]string) (string, error) {
	if !bootstraputil.IsValidBootstrapTokenID(id) {
		return "", fmt.Errorf("bootstrap token id %q: must be 6 characters a-z and 0-9", id)
	}
	secrets := client.CoreV1().Secrets(metav1.NamespaceSystem)
	name := bootstraputil.BootstrapTokenSecretName(id)
	if s, err := secrets.Get(ctx, name, metav1.GetOptions{}); err == nil {
		if got := string(s.Data[bootstrapapi.BootstrapTokenExtraGroupsKey]); got != group {
			return "", fmt.Errorf("bootstrap token %s authenticates as %q, not %q: it is not this token's (delete it to make a new one)", id, got, group)
		}
		return id + "." + string(s.Data[bootstrapapi.BootstrapTokenSecretKey]), nil
	} else if !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("reading bootstrap token %s: %w", name, err)
	}
	token, err := bootstraputil.GenerateBootstrapToken()
	if err != nil {
		return "", err
	}
	_, secret, _ := strings.Cut(token, ".")
	_, err = secrets.Create(ctx, tokenSecret(id, secret, description, group, labels), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) { // made meanwhile: use that one
		return EnsureGroupToken(ctx, client, id, description, group, labels)
	}
	if err != nil {
		return "", fmt.Errorf("creating bootstrap token %s: %w", name, err)
	}
	return id + "." + secret, nil
}

// DeleteToken deletes the bootstrap token of id; one that is gone is not
// an error.
func DeleteToken(ctx context.Context, client kubernetes.Interface, id string) error {
	err := client.CoreV1().Secrets(metav1.NamespaceSystem).Delete(ctx, bootstraputil.BootstrapTokenSecretName(id), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting bootstrap token %s: %w", id, err)
	}
	return nil
}

func tokenSecret(id, secret, description, group string, labels map[string]string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstraputil.BootstrapTokenSecretName(id), Namespace: metav1.NamespaceSystem, Labels: labels},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		StringData: map[string]string{
			bootstrapapi.BootstrapTokenIDKey:               id,
			bootstrapapi.BootstrapTokenSecretKey:           secret,
			bootstrapapi.BootstrapTokenUsageAuthentication: "true",
			bootstrapapi.BootstrapTokenUsageSigningKey:     "true",
			bootstrapapi.BootstrapTokenExtraGroupsKey:      group,
			bootstrapapi.BootstrapTokenDescriptionKey:      description,
		},
	}
}

// Config is the NodeConfig that joins a node with token, and the labels
// and taints of o.
func Config(o Options, token string) *NodeConfig {
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
	}
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
