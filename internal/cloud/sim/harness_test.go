package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kdp-project/kdp/internal/cloud"
)

// exact is a timing without jitter, so tests can name the moment a thing
// happens.
var exact = Timing{Boot: time.Second, ShutDown: time.Second, Join: time.Second, PodStart: time.Second, MicroVMBoot: 200 * time.Millisecond,
	Heartbeat: 10 * time.Second, Retention: time.Hour, SpotNotice: 2 * time.Minute, CapacityRetry: 10 * time.Second,
	Events: 24 * time.Hour, Scale: 1}

// epoch is when every test's fake clock starts.
var epoch = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// harness is a cloud on a fake clock, in a test's own directory.
type harness struct {
	t   testing.TB
	c   *Cloud
	p   *Provider
	clk *clocktesting.FakeClock
	dir string

	cancel context.CancelFunc
}

// start opens a cloud (with seed 42 and the exact timing unless opts say
// otherwise) and runs its loop until the test ends.
func start(t testing.TB, opts ...func(*Options)) *harness {
	t.Helper()
	h := &harness{t: t, clk: clocktesting.NewFakeClock(epoch), dir: t.TempDir()}
	h.open(opts...)
	t.Cleanup(h.stop)
	return h
}

func (h *harness) open(opts ...func(*Options)) {
	h.t.Helper()
	timing := exact
	o := Options{Dir: h.dir, Region: "us-east-1", Zones: 3, Profile: "fast", Scale: 1, Seed: 42, Clock: h.clk, timing: &timing}
	for _, f := range opts {
		f(&o)
	}
	c, err := Open(o)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.c, h.p, h.cancel = c, c.Provider("test"), cancel
	go func() { _ = c.Run(ctx) }()
}

// stop stops the loop and waits for it, as a clean shutdown does.
func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.c.Stopped()
		h.cancel = nil
		if h.c.overflows > 0 {
			h.t.Errorf("groups went round settle %d times without settling", h.c.overflows)
		}
	}
}

// restart stops the cloud and opens it again from its store.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.open()
}

// step moves the fake clock and waits until everything due has happened.
func (h *harness) step(d time.Duration) {
	h.t.Helper()
	h.clk.Step(d)
	h.sync()
}

func (h *harness) sync() {
	h.t.Helper()
	if err := h.c.Sync(); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) image(amiType string) cloud.Image {
	img, ok := h.c.Catalog().LatestImage(amiType, "1.37")
	if !ok {
		h.t.Fatalf("no %s image", amiType)
	}
	return img
}

// group makes a launch template (m5.large, AL2023) and a group, both named
// as in.Name.
func (h *harness) group(in cloud.GroupInput) cloud.Group {
	h.t.Helper()
	ctx := context.Background()
	if _, err := h.p.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "tmpl-" + in.Name, LaunchTemplateData: cloud.LaunchTemplateData{
		ImageID: h.image("AL2023_x86_64_STANDARD").ID, InstanceType: "m5.large", UserData: "user data of " + in.Name,
	}}); err != nil {
		h.t.Fatal(err)
	}
	in.LaunchTemplate = cloud.TemplateRef{Name: "tmpl-" + in.Name}
	if in.MaxSize == 0 {
		in.MaxSize = 10
	}
	g, err := h.p.CreateGroup(ctx, in)
	if err != nil {
		h.t.Fatal(err)
	}
	return *g
}

func (h *harness) instances(group string) []cloud.Instance {
	h.t.Helper()
	is, _, err := h.p.ListInstances(context.Background(), cloud.InstanceFilter{Group: group}, cloud.Page{})
	if err != nil {
		h.t.Fatal(err)
	}
	return is
}

func (h *harness) instance(id string) cloud.Instance {
	h.t.Helper()
	i, err := h.p.GetInstance(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return *i
}

func (h *harness) getGroup(name string) cloud.Group {
	h.t.Helper()
	g, err := h.p.GetGroup(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return *g
}

// history is every event the cloud keeps, in order.
func (h *harness) history() []cloud.Event {
	h.t.Helper()
	var out []cloud.Event
	for {
		batch, _, err := h.c.eventsAfter(uint64(len(out)), 1000)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(batch) == 0 {
			return out
		}
		for _, e := range batch {
			out = append(out, e.Event)
		}
	}
}

// states lists the state changes of an instance, with their times since
// epoch.
func (h *harness) states(id string) []string {
	h.t.Helper()
	var out []string
	for _, e := range h.history() {
		var d cloud.StateChangeDetail
		if e.DetailType == cloud.DetailStateChange && json.Unmarshal(e.Detail, &d) == nil && d.InstanceID == id {
			out = append(out, fmt.Sprintf("%s@%s", d.State, e.Time.Sub(epoch)))
		}
	}
	return out
}

// byState counts instances by state (and lifecycle state, when in a group).
func byState(is []cloud.Instance) map[string]int {
	out := map[string]int{}
	for _, i := range is {
		k := i.State
		if i.LifecycleState != "" {
			k += "/" + i.LifecycleState
		}
		out[k]++
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
