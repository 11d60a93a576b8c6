package resources

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	eksv1 "github.com/kdp-project/kdp/api/eks/v1alpha1"
	"github.com/kdp-project/kdp/internal/cloud"
)

func TestReady(t *testing.T) {
	cond := func(typ corev1.NodeConditionType, s corev1.ConditionStatus) corev1.NodeCondition {
		return corev1.NodeCondition{Type: typ, Status: s}
	}
	for _, c := range []struct {
		name       string
		conditions []corev1.NodeCondition
		want       bool
	}{
		{"Ready", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue)}, true},
		{"not Ready", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionFalse)}, false},
		{"Ready unknown", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)}, false},
		{"no conditions yet", nil, false},
		{"only other conditions", []corev1.NodeCondition{cond(corev1.NodeMemoryPressure, corev1.ConditionTrue)}, false},
		{"Ready among others", []corev1.NodeCondition{cond(corev1.NodeDiskPressure, corev1.ConditionFalse), cond(corev1.NodeReady, corev1.ConditionTrue)}, true},
	} {
		if got := Ready(&corev1.Node{Status: corev1.NodeStatus{Conditions: c.conditions}}); got != c.want {
			t.Errorf("%s: Ready = %v, want %v", c.name, got, c.want)
		}
	}
}

// pagedInstances is a cloud that lists instances a page at a time; the
// rest of cloud.Instances is not called.
type pagedInstances struct {
	cloud.Instances
	pages   [][]cloud.Instance
	filters []cloud.InstanceFilter
	err     error
}

func (p *pagedInstances) ListInstances(_ context.Context, f cloud.InstanceFilter, page cloud.Page) ([]cloud.Instance, string, error) {
	p.filters = append(p.filters, f)
	if p.err != nil {
		return nil, "", p.err
	}
	i := 0
	if page.NextToken != "" {
		i = int(page.NextToken[0] - '0')
	}
	next := ""
	if i+1 < len(p.pages) {
		next = string(rune('0' + i + 1))
	}
	return p.pages[i], next, nil
}

// indexedNodes answers only lists of Nodes by ProviderIDIndex, as the
// manager's cache does once IndexNodes registered it.
type indexedNodes struct {
	client.Reader
	nodes []corev1.Node
}

func (r *indexedNodes) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := &client.ListOptions{}
	o.ApplyOptions(opts)
	id, ok := "", false
	if o.FieldSelector != nil {
		id, ok = o.FieldSelector.RequiresExactMatch(ProviderIDIndex)
	}
	if !ok {
		return errors.New("not a list by " + ProviderIDIndex)
	}
	out := list.(*corev1.NodeList)
	for _, n := range r.nodes {
		if n.Spec.ProviderID == id {
			out.Items = append(out.Items, n)
		}
	}
	return nil
}

func TestMembers(t *testing.T) {
	ng := nodegroup("web", uid)
	inst := func(id string) cloud.Instance { return cloud.Instance{ID: id, Zone: "us-east-1a", Group: ASGName(ng)} }
	node := func(name, providerID string) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{eksv1.LabelNodegroup: "web"}}, Spec: corev1.NodeSpec{ProviderID: providerID}}
	}
	deleted := node("n-1-old", "aws:///us-east-1a/i-1")
	now := metav1.Now()
	deleted.DeletionTimestamp, deleted.Finalizers = &now, []string{"x"}
	p := &pagedInstances{pages: [][]cloud.Instance{{inst("i-1"), inst("i-2")}, {inst("i-3")}}}
	r := &indexedNodes{nodes: []corev1.Node{
		deleted,
		node("n-1", "aws:///us-east-1a/i-1"),
		node("n-2-elsewhere", "aws:///us-east-1b/i-2"), // another zone: another instance's
		node("impostor", "aws:///us-east-1a/i-9"),      // the group's label says nothing
		node("n-3", "aws:///us-east-1a/i-3"),
	}}
	members, err := Members(context.Background(), r, p, ng)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range members {
		got[m.Instance.ID] = ""
		if m.Node != nil {
			got[m.Instance.ID] = m.Node.Name
		}
	}
	if want := map[string]string{"i-1": "n-1", "i-2": "", "i-3": "n-3"}; !reflect.DeepEqual(got, want) || len(members) != 3 {
		t.Fatalf("members (instance: node) %v, want %v", got, want)
	}
	want := cloud.InstanceFilter{Group: ASGName(ng), States: []string{cloud.StatePending, cloud.StateRunning, cloud.StateShuttingDown}}
	if len(p.filters) != 2 || !reflect.DeepEqual(p.filters[0], want) || !reflect.DeepEqual(p.filters[1], want) {
		t.Fatalf("listed instances with %+v, want two pages of %+v", p.filters, want)
	}

	// The cloud's error says which group.
	_, err = Members(context.Background(), r, &pagedInstances{err: errors.New("throttled")}, ng)
	if err == nil || !strings.Contains(err.Error(), "listing the instances of "+ASGName(ng)) || !strings.Contains(err.Error(), "throttled") {
		t.Fatalf("error %v", err)
	}
	// A failed node lookup says which instance.
	_, err = NodeOf(context.Background(), &failingNodes{}, inst("i-1"))
	if err == nil || !strings.Contains(err.Error(), "finding the node of i-1") {
		t.Fatalf("error %v", err)
	}
}

type failingNodes struct{ client.Reader }

func (failingNodes) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("cache not started")
}

// fieldIndexer keeps the index function IndexNodes registers.
type fieldIndexer struct {
	field   string
	extract client.IndexerFunc
}

func (f *fieldIndexer) IndexField(_ context.Context, _ client.Object, field string, extract client.IndexerFunc) error {
	f.field, f.extract = field, extract
	return nil
}

func TestIndexNodes(t *testing.T) {
	f := &fieldIndexer{}
	if err := IndexNodes(context.Background(), f); err != nil || f.field != ProviderIDIndex {
		t.Fatalf("IndexNodes registered %q: %v", f.field, err)
	}
	if got := f.extract(&corev1.Node{Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-1"}}); !reflect.DeepEqual(got, []string{"aws:///us-east-1a/i-1"}) {
		t.Errorf("index of a node with a providerID: %v", got)
	}
	if got := f.extract(&corev1.Node{}); got != nil {
		t.Errorf("index of a node without one: %v", got)
	}
}
