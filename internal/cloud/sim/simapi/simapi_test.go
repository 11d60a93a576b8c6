package simapi

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kdp-project/kdp/internal/cloud"
	"github.com/kdp-project/kdp/internal/cloud/sim"
)

// serve runs a cloud (1000× faster than real) and its API on a socket.
func serve(t *testing.T) (*Client, *sim.Provider) {
	t.Helper()
	dir := t.TempDir()
	o := sim.DefaultOptions()
	o.Dir, o.Scale, o.Seed = dir, 1000, 1
	c, err := sim.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-c.Stopped() })
	p := c.Provider("api-test")
	socket := filepath.Join(dir, "api.sock")
	if err := Serve(ctx, socket, p, logr.Discard()); err != nil {
		t.Fatal(err)
	}
	client, info, err := Dial(ctx, socket)
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster != "api-test" || info.Region != "us-east-1" || info.Seed != 1 || info.SpotNotice != "120ms" {
		t.Errorf("info %+v", info)
	}
	return client, p
}

func TestClientAndServer(t *testing.T) {
	ctx := context.Background()
	c, _ := serve(t)
	images, err := c.Images(ctx)
	if err != nil || len(images) == 0 {
		t.Fatalf("images: %d, %v", len(images), err)
	}
	lt, err := c.CreateLaunchTemplate(ctx, cloud.LaunchTemplateInput{Name: "web", LaunchTemplateData: cloud.LaunchTemplateData{ImageID: images[0].ID, InstanceType: "m5.large"}})
	if err != nil {
		t.Fatal(err)
	}
	events, err := c.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(ctx, cloud.GroupInput{Name: "web", LaunchTemplate: cloud.TemplateRef{ID: lt.ID}, MaxSize: 3, DesiredCapacity: 2}); err != nil {
		t.Fatal(err)
	}
	// Typed errors survive the wire.
	_, err = c.CreateGroup(ctx, cloud.GroupInput{Name: "bad", LaunchTemplate: cloud.TemplateRef{ID: lt.ID}, MinSize: 2, MaxSize: 1, DesiredCapacity: 1})
	var invalid *cloud.InvalidParameterError
	if !errors.As(err, &invalid) || len(invalid.Problems) != 2 || invalid.Problems[0].Field != "minSize" {
		t.Errorf("bad group: %#v", err)
	}
	if _, err := c.CreateGroup(ctx, cloud.GroupInput{Name: "web", LaunchTemplate: cloud.TemplateRef{ID: lt.ID}, MaxSize: 1}); !cloud.IsAlreadyExists(err) {
		t.Errorf("a second group web: %v", err)
	}
	if _, err := c.GetGroup(ctx, "nope"); !cloud.IsNotFound(err) || err.Error() != `auto scaling group "nope" not found` {
		t.Errorf("a missing group: %v", err)
	}
	if err := c.DeleteLaunchTemplate(ctx, cloud.TemplateRef{Name: "web"}); !cloud.IsInUse(err) {
		t.Errorf("deleting a template in use: %v", err)
	}
	// The group's instances launch and boot; their events stream.
	var is []cloud.Instance
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		is, _, err = c.ListInstances(ctx, cloud.InstanceFilter{Group: "web", States: []string{cloud.StateRunning}}, cloud.Page{})
		return err == nil && len(is) == 2, err
	}); err != nil {
		t.Fatalf("running instances: %v, %v", is, err)
	}
	var got []cloud.Event
	for len(got) < 4 { // pending and running, twice
		select {
		case e := <-events:
			got = append(got, e)
		case <-time.After(10 * time.Second):
			t.Fatalf("events: %d", len(got))
		}
	}
	if got[0].Sequence != 1 || got[0].DetailType != cloud.DetailStateChange || got[0].Source != cloud.SourceEC2 || got[0].Account != sim.Account {
		t.Errorf("first event %+v", got[0])
	}
	// Resuming from a cursor gives what came after it, with the same ids.
	again, err := c.Subscribe(ctx, got[1].Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if e := <-again; e.Sequence != got[2].Sequence || e.ID != got[2].ID {
		t.Errorf("resumed at %d (%s), want %d (%s)", e.Sequence, e.ID, got[2].Sequence, got[2].ID)
	}
	// A fault over the wire.
	if err := c.Interrupt(ctx, is[0].ID); !cloud.IsInvalid(err) {
		t.Errorf("interrupting on-demand: %v", err)
	}
	if err := c.FailKubelet(ctx, is[0].ID); err != nil {
		t.Fatal(err)
	}
	if i, err := c.GetInstance(ctx, is[0].ID); err != nil || !i.KubeletFailed {
		t.Errorf("after FailKubelet: %+v, %v", i, err)
	}
	if err := c.FailCondition(ctx, is[0].ID, "Kernel", "KernelBug"); !cloud.IsInvalid(err) {
		t.Errorf("failing an unknown condition: %v", err)
	}
	if err := c.FailCondition(ctx, is[0].ID, "KernelReady", "KernelBug"); err != nil {
		t.Fatal(err)
	}
	if i, err := c.GetInstance(ctx, is[0].ID); err != nil || i.FailedConditions["KernelReady"] != "KernelBug" {
		t.Errorf("after FailCondition: %+v, %v", i, err)
	}
}

func TestErrorsRoundTrip(t *testing.T) {
	for _, err := range []error{
		&cloud.InvalidParameterError{Problems: []cloud.Problem{{Field: "minSize", Message: "too big"}, {Field: "tags", Message: "too many"}}},
		&cloud.NotFoundError{Kind: "instance", Name: "i-1"},
		&cloud.AlreadyExistsError{Kind: "auto scaling group", Name: "web"},
		&cloud.ResourceInUseError{Kind: "launch template", Name: "web", Message: "group web launches from it"},
		&cloud.InsufficientCapacityError{InstanceType: "m5.large", Zone: "us-east-1a"},
		&cloud.EventsExpiredError{Since: 3, Oldest: 10},
		sim.ErrStopped,
	} {
		rec := httptest.NewRecorder()
		writeError(rec, err)
		if got := decodeError(rec.Result()); !reflect.DeepEqual(got, err) {
			t.Errorf("%T: sent %v, got back %#v", err, err, got)
		}
	}
}

func TestDialWhenNothingRuns(t *testing.T) {
	dir := t.TempDir()
	socket := filepath.Join(dir, "api.sock")
	if _, _, err := Dial(context.Background(), socket); !errors.Is(err, ErrNotRunning) {
		t.Errorf("no socket: %v", err)
	}
	// A socket left behind by a kdp that was killed.
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(socket); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Dial(context.Background(), socket); !errors.Is(err, ErrNotRunning) {
		t.Errorf("a stale socket: %v", err)
	}
}
