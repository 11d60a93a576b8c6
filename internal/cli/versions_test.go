package cli

import (
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSkew(t *testing.T) {
	for _, tc := range []struct {
		server, kubelet string
		minors          int
		ok              bool
		why             string
	}{
		{"v1.37.2", "v1.37.2", 0, true, ""},
		{"v1.37.2", "v1.34.7", 3, true, ""},
		{"v1.37.2", "v1.33.9", 4, false, "more than 3 minors behind"},
		{"v1.37.2", "v1.38.0", -1, false, "newer than the control plane"},
		{"v1.37.2", "v2.0.0", 37, false, "different major version"},
	} {
		minors, ok, why, err := Skew(tc.server, tc.kubelet)
		if err != nil || minors != tc.minors || ok != tc.ok || !strings.Contains(why, tc.why) {
			t.Errorf("Skew(%s, %s) = %d, %v, %q, %v", tc.server, tc.kubelet, minors, ok, why, err)
		}
	}
	if _, _, _, err := Skew("v1.37.2", "garbage"); err == nil {
		t.Error("no error for an unparsable version")
	}
}

func TestPrintVersions(t *testing.T) {
	node := func(name, v string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: v}}}
	}
	var out bytes.Buffer
	if err := printVersions(&out, "v1.37.2", []corev1.Node{node("a", "v1.37.2"), node("b", "v1.33.1")}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"control plane v1.37.2", "a     v1.37.2  0              ok", "UNSUPPORTED: more than 3 minors behind", "2 nodes, 1 outside the supported skew"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
