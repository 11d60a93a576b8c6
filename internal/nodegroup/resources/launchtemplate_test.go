package resources

import (
	"maps"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/join"
)

func TestNodeLabels(t *testing.T) {
	const ami = "ami-0123456789abcdef0"
	eks := func(name, capacity string) map[string]string {
		return map[string]string{"eks.amazonaws.com/nodegroup": name, "eks.amazonaws.com/nodegroup-image": ami, "eks.amazonaws.com/capacityType": capacity}
	}
	for _, c := range []struct {
		name     string
		capacity eksv1.CapacityType
		labels   map[string]string
		source   *Source
		want     map[string]string
	}{
		{name: "EKS's alone", capacity: eksv1.OnDemand, want: eks("web", "ON_DEMAND")},
		{name: "spot", capacity: eksv1.Spot, want: eks("web", "SPOT")},
		{name: "the user's beside EKS's", capacity: eksv1.OnDemand, labels: map[string]string{"team": "web"},
			want: with(eks("web", "ON_DEMAND"), map[string]string{"team": "web"})},
		{name: "EKS's win", capacity: eksv1.OnDemand,
			labels: map[string]string{"eks.amazonaws.com/nodegroup": "other", "eks.amazonaws.com/capacityType": "SPOT", "eks.amazonaws.com/nodegroup-image": "ami-x"},
			want:   eks("web", "ON_DEMAND")},
		{name: "from a launch template", capacity: eksv1.OnDemand, source: &Source{ID: "lt-0123456789abcdef0", Version: 7},
			want: with(eks("web", "ON_DEMAND"), map[string]string{
				"eks.amazonaws.com/sourceLaunchTemplateId": "lt-0123456789abcdef0", "eks.amazonaws.com/sourceLaunchTemplateVersion": "7",
			})},
	} {
		ng := nodegroup("web", uid)
		ng.Spec.CapacityType = c.capacity
		applied := &eksv1.AppliedConfig{Labels: maps.Clone(c.labels), ImageID: ami}
		got := NodeLabels(ng, applied, c.source)
		if !maps.Equal(got, c.want) {
			t.Errorf("%s: NodeLabels = %v, want %v", c.name, got, c.want)
		}
		if !maps.Equal(applied.Labels, c.labels) {
			t.Errorf("%s: NodeLabels changed the applied labels: %v", c.name, applied.Labels)
		}
	}
}

func TestTaints(t *testing.T) {
	for _, c := range []struct {
		eks  eksv1.TaintEffect
		want corev1.TaintEffect
	}{
		{eksv1.NoSchedule, corev1.TaintEffectNoSchedule},
		{eksv1.NoExecute, corev1.TaintEffectNoExecute},
		{eksv1.PreferNoSchedule, corev1.TaintEffectPreferNoSchedule},
	} {
		if got := TaintEffect(c.eks); got != c.want {
			t.Errorf("TaintEffect(%s) = %s, want %s", c.eks, got, c.want)
		}
	}
	got := Taints([]eksv1.Taint{{Key: "dedicated", Value: "gpu", Effect: eksv1.NoSchedule}, {Key: "spot", Effect: eksv1.PreferNoSchedule}})
	want := []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}, {Key: "spot", Effect: corev1.TaintEffectPreferNoSchedule}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Taints = %v, want %v", got, want)
	}
	if got := Taints(nil); got == nil || len(got) != 0 {
		t.Errorf("Taints(nil) = %#v, want empty", got)
	}
}

// TestTemplateData: the user data a group's instances boot with, read
// back as the kubelet reads it.
func TestTemplateData(t *testing.T) {
	base := join.Options{
		ClusterName: "prod", Server: "https://10.0.0.1:6443", CA: []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
		ServiceCIDR: "10.96.0.0/12",
		// The base's own labels and taints are not the group's.
		Labels: map[string]string{"base": "x"}, Taints: []corev1.Taint{{Key: "base", Effect: corev1.TaintEffectNoSchedule}},
	}
	const token = "abcdef.0123456789abcdef"
	labels := map[string]string{"eks.amazonaws.com/nodegroup": "web", "team": "web"}
	taints := []eksv1.Taint{{Key: "dedicated", Value: "gpu", Effect: eksv1.NoSchedule}}
	userNodeConfig := func(flags ...string) string {
		nc := join.Config(join.Options{ClusterName: "theirs", Server: "https://elsewhere", CA: []byte("theirs")}, "zzzzzz.zzzzzzzzzzzzzzzz")
		nc.Spec.Kubelet.Flags = flags
		b, err := nc.Render()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, c := range []struct {
		name   string
		image  string
		source *Source
		// want: the template's image, type and tags, and what its
		// NodeConfig says.
		wantImage, wantType string
		wantTags            map[string]string
		wantLabels          map[string]string
		wantTaints          []corev1.Taint
		wantFlags           []string
		// noTaints: the group has none.
		noTaints bool
	}{
		{name: "no source template", image: "ami-1", wantImage: "ami-1",
			wantLabels: labels, wantTaints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			wantFlags: []string{"--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=dedicated=gpu:NoSchedule"}},
		{name: "a source template's type, tags and image", image: "ami-1",
			source:    &Source{ID: "lt-1", Version: 2, Data: cloud.LaunchTemplateData{ImageID: "ami-custom", InstanceType: "m5.large", InstanceTags: map[string]string{"owner": "me"}}},
			wantImage: "ami-custom", wantType: "m5.large", wantTags: map[string]string{"owner": "me"},
			wantLabels: labels, wantTaints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			wantFlags: []string{"--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=dedicated=gpu:NoSchedule"}},
		{name: "a source template without an image launches the group's", image: "ami-1",
			source:    &Source{ID: "lt-1", Version: 2, Data: cloud.LaunchTemplateData{InstanceType: "m5.large"}},
			wantImage: "ami-1", wantType: "m5.large",
			wantLabels: labels, wantTaints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			wantFlags: []string{"--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=dedicated=gpu:NoSchedule"}},
		{name: "user data that is not a NodeConfig is replaced", image: "ami-1",
			source:     &Source{ID: "lt-1", Version: 2, Data: cloud.LaunchTemplateData{UserData: "MIME-Version: 1.0\n\n#!/bin/bash\necho hi\n"}},
			wantImage:  "ami-1",
			wantLabels: labels, wantTaints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			wantFlags: []string{"--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=dedicated=gpu:NoSchedule"}},
		{name: "a NodeConfig of another kind is replaced", image: "ami-1",
			source:     &Source{ID: "lt-1", Version: 2, Data: cloud.LaunchTemplateData{UserData: "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flags: [--v=4]\n"}},
			wantImage:  "ami-1",
			wantLabels: labels, wantTaints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			wantFlags: []string{"--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=dedicated=gpu:NoSchedule"}},
		{name: "a user NodeConfig's flags come first, its labels merged, the group's winning", image: "ami-1",
			source:     &Source{ID: "lt-1", Version: 2, Data: cloud.LaunchTemplateData{UserData: userNodeConfig("--max-pods=58", "--node-labels=team=theirs,extra=1")}},
			wantImage:  "ami-1",
			wantLabels: map[string]string{"eks.amazonaws.com/nodegroup": "web", "team": "web", "extra": "1"},
			wantTaints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}},
			wantFlags:  []string{"--max-pods=58", "--node-labels=team=theirs,extra=1", "--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=dedicated=gpu:NoSchedule"}},
		{name: "a user NodeConfig's taints are kept, the group's winning", image: "ami-1",
			source:    &Source{ID: "lt-1", Version: 2, Data: cloud.LaunchTemplateData{UserData: userNodeConfig("--max-pods=58", "--register-with-taints=dedicated=theirs:NoSchedule,dedicated:NoExecute,gpu=yes:PreferNoSchedule")}},
			wantImage: "ami-1", wantLabels: labels,
			wantTaints: []corev1.Taint{
				{Key: "dedicated", Effect: corev1.TaintEffectNoExecute},
				{Key: "gpu", Value: "yes", Effect: corev1.TaintEffectPreferNoSchedule},
				{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule},
			},
			wantFlags: []string{"--max-pods=58", "--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=dedicated:NoExecute,gpu=yes:PreferNoSchedule,dedicated=gpu:NoSchedule"}},
		{name: "a user NodeConfig's taints when the group has none", image: "ami-1",
			source:    &Source{ID: "lt-1", Version: 2, Data: cloud.LaunchTemplateData{UserData: userNodeConfig("--register-with-taints=gpu=yes:NoSchedule")}},
			wantImage: "ami-1", wantLabels: labels, noTaints: true,
			wantTaints: []corev1.Taint{{Key: "gpu", Value: "yes", Effect: corev1.TaintEffectNoSchedule}},
			wantFlags:  []string{"--node-labels=eks.amazonaws.com/nodegroup=web,team=web", "--register-with-taints=gpu=yes:NoSchedule"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before *Source
			if c.source != nil {
				s := *c.source
				s.Data.InstanceTags = maps.Clone(c.source.Data.InstanceTags)
				before = &s
			}
			taints := taints
			if c.noTaints {
				taints = nil
			}
			data, err := TemplateData(base, token, labels, taints, c.image, c.source)
			if err != nil {
				t.Fatal(err)
			}
			if data.ImageID != c.wantImage || data.InstanceType != c.wantType || !maps.Equal(data.InstanceTags, c.wantTags) {
				t.Errorf("image %q, type %q, tags %v; want %q, %q, %v", data.ImageID, data.InstanceType, data.InstanceTags, c.wantImage, c.wantType, c.wantTags)
			}
			if c.source != nil && !reflect.DeepEqual(c.source, before) {
				t.Errorf("TemplateData changed the source: %+v", c.source)
			}
			nc, err := join.Parse([]byte(data.UserData))
			if err != nil {
				t.Fatalf("the user data is not a NodeConfig a node can join with: %v\n%s", err, data.UserData)
			}
			cl := nc.Spec.Cluster
			if cl.Name != "prod" || cl.APIServerEndpoint != base.Server || cl.CIDR != base.ServiceCIDR || nc.Spec.Kubelet.BootstrapToken != token {
				t.Errorf("joins %+v with %q, want the base's cluster and the group's token", cl, nc.Spec.Kubelet.BootstrapToken)
			}
			if ca, _ := nc.CA(); string(ca) != string(base.CA) {
				t.Errorf("CA %q, want the base's", ca)
			}
			if got, _ := nc.Labels(); !maps.Equal(got, c.wantLabels) {
				t.Errorf("labels %v, want %v", got, c.wantLabels)
			}
			if got, _ := nc.Taints(); !reflect.DeepEqual(got, c.wantTaints) {
				t.Errorf("taints %v, want %v", got, c.wantTaints)
			}
			if c.wantFlags != nil && !reflect.DeepEqual(nc.Spec.Kubelet.Flags, c.wantFlags) {
				t.Errorf("flags\n%s\nwant\n%s", strings.Join(nc.Spec.Kubelet.Flags, "\n"), strings.Join(c.wantFlags, "\n"))
			}
		})
	}
}
