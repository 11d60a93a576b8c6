package matching

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
)

// profile is an ACTIVE profile with selectors.
func profile(name string, selectors ...eksv1.FargateProfileSelector) eksv1.FargateProfile {
	return eksv1.FargateProfile{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       eksv1.FargateProfileSpec{Selectors: selectors},
		Status:     eksv1.FargateProfileStatus{Status: eksv1.FargateActive},
	}
}

// selector selects a namespace pattern and label patterns given as
// key, value, key, value...
func selector(namespace string, labels ...string) eksv1.FargateProfileSelector {
	s := eksv1.FargateProfileSelector{Namespace: namespace}
	for i := 0; i+1 < len(labels); i += 2 {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[labels[i]] = labels[i+1]
	}
	return s
}

func pod(namespace string, labels ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: namespace}}
	for i := 0; i+1 < len(labels); i += 2 {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels[labels[i]] = labels[i+1]
	}
	return p
}

func TestSelectorMatches(t *testing.T) {
	for _, c := range []struct {
		name string
		sel  eksv1.FargateProfileSelector
		pod  *corev1.Pod
		want bool
	}{
		{"namespace only: any pod of it", selector("prod"), pod("prod", "app", "web"), true},
		{"namespace only: a pod without labels", selector("prod"), pod("prod"), true},
		{"namespace only: another namespace", selector("prod"), pod("staging"), false},
		{"namespace wildcard", selector("prod-*"), pod("prod-eu"), true},
		{"namespace wildcard, no match", selector("prod-*"), pod("production"), false},
		{"one label", selector("prod", "app", "web"), pod("prod", "app", "web", "tier", "front"), true},
		{"one label, other value", selector("prod", "app", "web"), pod("prod", "app", "api"), false},
		{"one label, pod has none", selector("prod", "app", "web"), pod("prod"), false},
		{"all labels", selector("prod", "app", "web", "tier", "front"), pod("prod", "app", "web", "tier", "front"), true},
		{"all labels, one missing", selector("prod", "app", "web", "tier", "front"), pod("prod", "app", "web"), false},
		{"labels, but another namespace", selector("prod", "app", "web"), pod("staging", "app", "web"), false},
		{"wildcard value", selector("prod", "app", "web-*"), pod("prod", "app", "web-blue"), true},
		{"wildcard value, no match", selector("prod", "app", "web-*"), pod("prod", "app", "api-blue"), false},
		{"wildcard key", selector("prod", "team-?", "a"), pod("prod", "team-x", "a"), true},
		{"wildcard key, value of another key", selector("prod", "team-?", "a"), pod("prod", "team-x", "b", "team-yy", "a"), false},
		{"wildcard key and value", selector("*", "*/name", "*"), pod("any", "app.kubernetes.io/name", "x"), true},
		{"wildcard key, some label matches", selector("prod", "k?", "v*"), pod("prod", "a", "b", "k1", "v2"), true},
		{"empty value matches only empty", selector("prod", "canary", ""), pod("prod", "canary", "yes"), false},
		{"empty value", selector("prod", "canary", ""), pod("prod", "canary", ""), true},
	} {
		if got := SelectorMatches(&c.sel, c.pod); got != c.want {
			t.Errorf("%s: SelectorMatches = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSelect(t *testing.T) {
	deleting := profile("alpha-gone", selector("prod"))
	deleting.DeletionTimestamp = &metav1.Time{}
	creating := profile("alpha-new", selector("prod"))
	creating.Status.Status = eksv1.FargateCreating
	failed := profile("alpha-failed", selector("prod"))
	failed.Status.Status = eksv1.FargateCreateFailed
	profiles := []eksv1.FargateProfile{
		profile("prod-workload", selector("prod"), selector("shared", "team", "prod")),
		profile("beta-workload", selector("prod", "app", "*")),
		profile("web", selector("web-*")),
		deleting, creating, failed,
	}
	for _, c := range []struct {
		name string
		pod  *corev1.Pod
		want string // "": no profile
	}{
		{"the only match", pod("prod"), "prod-workload"},
		{"two match: the first by name", pod("prod", "app", "api"), "beta-workload"},
		{"the second selector of a profile", pod("shared", "team", "prod"), "prod-workload"},
		{"a wildcard namespace", pod("web-eu"), "web"},
		{"no profile matches", pod("staging"), ""},
		{"pinned to a profile it matches, though another sorts first", pod("prod", "app", "api", eksv1.LabelFargateProfile, "prod-workload"), "prod-workload"},
		{"pinned to a profile it does not match, though another does", pod("web-eu", eksv1.LabelFargateProfile, "prod-workload"), ""},
		{"pinned to a profile that does not exist", pod("prod", eksv1.LabelFargateProfile, "nope"), ""},
		{"pinned to a profile being deleted", pod("prod", eksv1.LabelFargateProfile, "alpha-gone"), ""},
		{"pinned to a profile still creating", pod("prod", eksv1.LabelFargateProfile, "alpha-new"), ""},
	} {
		got, ok := Select(profiles, c.pod)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: Select = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	// The order of the list does not matter.
	reversed := []eksv1.FargateProfile{profiles[5], profiles[4], profiles[3], profiles[2], profiles[1], profiles[0]}
	if got, _ := Select(reversed, pod("prod", "app", "api")); got != "beta-workload" {
		t.Errorf("reversed list: Select = %q, want beta-workload", got)
	}
	if _, ok := Select(nil, pod("prod")); ok {
		t.Error("no profiles: a match")
	}
}

func TestSelectSkipsProfilesNotServing(t *testing.T) {
	for _, st := range []eksv1.FargateProfileStatusValue{"", eksv1.FargateCreating, eksv1.FargateDeleting, eksv1.FargateCreateFailed, eksv1.FargateDeleteFailed} {
		fp := profile("only", selector("prod"))
		fp.Status.Status = st
		if got, ok := Select([]eksv1.FargateProfile{fp}, pod("prod")); ok {
			t.Errorf("status %q: Select = %q, want no profile", st, got)
		}
	}
	fp := profile("only", selector("prod"))
	fp.DeletionTimestamp = &metav1.Time{}
	if got, ok := Select([]eksv1.FargateProfile{fp}, pod("prod")); ok {
		t.Errorf("ACTIVE but being deleted: Select = %q, want no profile", got)
	}
}

func TestMatchingSelector(t *testing.T) {
	fp := profile("p", selector("a"), selector("b"), selector("b", "app", "x"))
	for _, c := range []struct {
		pod  *corev1.Pod
		want int
	}{
		{pod("a"), 0},
		{pod("b", "app", "x"), 1}, // the first that matches
		{pod("c"), -1},
	} {
		got, ok := MatchingSelector(&fp, c.pod)
		if got != c.want || ok != (c.want >= 0) {
			t.Errorf("namespace %s: MatchingSelector = %d, %v; want %d", c.pod.Namespace, got, ok, c.want)
		}
	}
}

func TestSelectAllocatesNothing(t *testing.T) {
	profiles := []eksv1.FargateProfile{
		profile("a", selector("staging-*", "app", "web")),
		profile("b", selector("prod-*", "app.kubernetes.io/*", "web-?")),
	}
	p := pod("prod-eu", "app.kubernetes.io/name", "web-1", "pod-template-hash", "abc")
	if n := testing.AllocsPerRun(100, func() { Select(profiles, p) }); n != 0 {
		t.Fatalf("Select allocates %v times a call", n)
	}
}
