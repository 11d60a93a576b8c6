// Package join is how nodes join a kdp cluster, the way kubelets join any
// Kubernetes cluster: kdp issues a bootstrap token and a NodeConfig (the
// user data of a node's machine); the node authenticates with the token,
// asks for a client certificate through a CertificateSigningRequest
// (TLS bootstrap), which kube-controller-manager approves and signs, and
// registers its Node as system:node:<name>.
//
// A real kubelet given the same NodeConfig joins the same way: the fields
// map to `kubelet --bootstrap-kubeconfig` (server, CA, token) and the
// --node-labels and --register-with-taints flags.
package join

import (
	"encoding/base64"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// APIVersion and Kind of the NodeConfig document. It is modelled on EKS's
// AL2023 NodeConfig (node.eks.aws/v1alpha1): spec.cluster is the same;
// spec.kubelet adds the bootstrap token that EKS replaces with IAM.
const (
	APIVersion = "node.kdp.dev/v1alpha1"
	Kind       = "NodeConfig"
)

// NodeConfig is the user data a node boots with.
type NodeConfig struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Spec       NodeConfigSpec `json:"spec"`
}

// NodeConfigSpec says which cluster to join and how.
type NodeConfigSpec struct {
	Cluster ClusterDetails `json:"cluster"`
	Kubelet KubeletOptions `json:"kubelet"`
}

// ClusterDetails are as in EKS's NodeConfig.
type ClusterDetails struct {
	Name              string `json:"name"`
	APIServerEndpoint string `json:"apiServerEndpoint"`
	// CertificateAuthority is the cluster CA, PEM, base64-encoded.
	CertificateAuthority string `json:"certificateAuthority"`
	// CIDR is the service CIDR.
	CIDR string `json:"cidr"`
}

// KubeletOptions configure the kubelet.
type KubeletOptions struct {
	// BootstrapToken is "<id>.<secret>".
	BootstrapToken string `json:"bootstrapToken"`
	// Flags are kubelet flags; kdp reads --node-labels and
	// --register-with-taints, as the kubelet does.
	Flags []string `json:"flags,omitempty"`
}

// Render writes the NodeConfig as YAML.
func (c NodeConfig) Render() ([]byte, error) { return yaml.Marshal(c) }

// Parse reads a NodeConfig and checks it, naming the field at fault.
func Parse(data []byte) (*NodeConfig, error) {
	c := &NodeConfig{}
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, fmt.Errorf("user data is not a NodeConfig: %w", err)
	}
	switch {
	case c.APIVersion != APIVersion || c.Kind != Kind:
		return nil, fmt.Errorf("user data: apiVersion/kind %s/%s, want %s/%s", c.APIVersion, c.Kind, APIVersion, Kind)
	case c.Spec.Cluster.APIServerEndpoint == "":
		return nil, fmt.Errorf("user data: spec.cluster.apiServerEndpoint is required")
	case c.Spec.Kubelet.BootstrapToken == "":
		return nil, fmt.Errorf("user data: spec.kubelet.bootstrapToken is required")
	}
	if _, err := c.CA(); err != nil {
		return nil, err
	}
	if _, err := c.Labels(); err != nil {
		return nil, err
	}
	if _, err := c.Taints(); err != nil {
		return nil, err
	}
	return c, nil
}

// CA returns the cluster CA in PEM form.
func (c *NodeConfig) CA() ([]byte, error) {
	ca, err := base64.StdEncoding.DecodeString(c.Spec.Cluster.CertificateAuthority)
	if err != nil || len(ca) == 0 {
		return nil, fmt.Errorf("user data: spec.cluster.certificateAuthority must be a base64-encoded PEM certificate")
	}
	return ca, nil
}

// Labels returns the labels of --node-labels.
func (c *NodeConfig) Labels() (map[string]string, error) {
	labels := map[string]string{}
	for _, v := range c.flagValues("node-labels") {
		parsed, err := ParseLabels(v)
		if err != nil {
			return nil, fmt.Errorf("user data: --node-labels: %w", err)
		}
		for k, val := range parsed {
			labels[k] = val
		}
	}
	return labels, nil
}

// Taints returns the taints of --register-with-taints.
func (c *NodeConfig) Taints() ([]corev1.Taint, error) {
	var taints []corev1.Taint
	for _, v := range c.flagValues("register-with-taints") {
		parsed, err := ParseTaints(v)
		if err != nil {
			return nil, fmt.Errorf("user data: --register-with-taints: %w", err)
		}
		taints = append(taints, parsed...)
	}
	return taints, nil
}

func (c *NodeConfig) flagValues(name string) []string {
	var out []string
	for _, f := range c.Spec.Kubelet.Flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			out = append(out, v)
		}
	}
	return out
}
