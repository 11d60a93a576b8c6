package join

import (
	"encoding/base64"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseLabelsAndTaints(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"", map[string]string{}, ""},
		{"team=web,tier=frontend", map[string]string{"team": "web", "tier": "frontend"}, ""},
		{"example.com/gpu=true", map[string]string{"example.com/gpu": "true"}, ""},
		{"team", nil, `label "team": must be key=value`},
		{"bad key!=x", nil, `label key "bad key!"`},
		{"k=" + strings.Repeat("v", 64), nil, "must be no more than 63"},
		{"node-role.kubernetes.io/worker=", nil, "a kubelet may not set labels"},
		{"node.kubernetes.io/instance-type=m5.large,topology.kubernetes.io/zone=a", map[string]string{"node.kubernetes.io/instance-type": "m5.large", "topology.kubernetes.io/zone": "a"}, ""},
	} {
		got, err := ParseLabels(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLabels(%q) err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseLabels(%q) = %v, %v", tc.in, got, err)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("ParseLabels(%q)[%s] = %q", tc.in, k, got[k])
			}
		}
	}
	for _, tc := range []struct {
		in      string
		want    []corev1.Taint
		wantErr string
	}{
		{"dedicated=gpu:NoSchedule", []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}, ""},
		{"spot:PreferNoSchedule,a=b:NoExecute", []corev1.Taint{{Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule}, {Key: "a", Value: "b", Effect: corev1.TaintEffectNoExecute}}, ""},
		{"dedicated=gpu", nil, "must be key[=value]:Effect"},
		{"dedicated=gpu:Never", nil, "effect must be NoSchedule, PreferNoSchedule or NoExecute"},
	} {
		got, err := ParseTaints(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseTaints(%q) err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("ParseTaints(%q) = %v, %v", tc.in, got, err)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseTaints(%q)[%d] = %+v", tc.in, i, got[i])
			}
		}
		if back := FormatTaints(got); back != tc.in {
			t.Errorf("FormatTaints round trip: %q → %q", tc.in, back)
		}
	}
}

func TestParseNodeConfig(t *testing.T) {
	good := NodeConfig{APIVersion: APIVersion, Kind: Kind, Spec: NodeConfigSpec{
		Cluster: ClusterDetails{Name: "kdp", APIServerEndpoint: "https://127.0.0.1:17443", CertificateAuthority: base64.StdEncoding.EncodeToString([]byte("-----BEGIN CERTIFICATE-----"))},
		Kubelet: KubeletOptions{BootstrapToken: "abcdef.0123456789abcdef", Flags: []string{"--node-labels=team=web", "--register-with-taints=a=b:NoSchedule"}},
	}}
	data, err := good.Render()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if labels, _ := nc.Labels(); labels["team"] != "web" {
		t.Errorf("labels %v", labels)
	}
	for _, tc := range []struct {
		mutate func(*NodeConfig)
		want   string
	}{
		{func(c *NodeConfig) { c.Kind = "Other" }, "apiVersion/kind"},
		{func(c *NodeConfig) { c.Spec.Cluster.APIServerEndpoint = "" }, "spec.cluster.apiServerEndpoint is required"},
		{func(c *NodeConfig) { c.Spec.Kubelet.BootstrapToken = "" }, "spec.kubelet.bootstrapToken is required"},
		{func(c *NodeConfig) { c.Spec.Cluster.CertificateAuthority = "%%%" }, "spec.cluster.certificateAuthority"},
		{func(c *NodeConfig) { c.Spec.Kubelet.Flags = []string{"--register-with-taints=x"} }, "--register-with-taints"},
	} {
		bad := good
		bad.Spec.Kubelet.Flags = append([]string(nil), good.Spec.Kubelet.Flags...)
		tc.mutate(&bad)
		data, _ := bad.Render()
		if _, err := Parse(data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want %q", err, tc.want)
		}
	}
	if _, err := Parse([]byte("#!/bin/bash\necho hi")); err == nil {
		t.Error("a shell script parsed as a NodeConfig")
	}
}
