package clusters

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kdp-project/kdp/internal/eks/types"
	"github.com/kdp-project/kdp/internal/testenv"
)

// hooks records what the Registry tells.
type hooks struct {
	mu       sync.Mutex
	ready    map[string]int
	args     map[string]int
	deleting map[string]int
}

func (h *hooks) Deleting(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.deleting[name]++
}

func (h *hooks) APIServerArgs(name string, _ Layout) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.args[name]++
	return []string{"--v=0"}, nil
}

func (h *hooks) Ready(_ context.Context, name string, _ Layout) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ready[name]++
}

func (h *hooks) count(m map[string]int, name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return m[name]
}

func open(t *testing.T, dir string, h *hooks) *Registry {
	t.Helper()
	bin, err := testenv.Binary()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(Options{Dir: dir, Binary: bin, Hooks: h})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func waitPhase(t *testing.T, r *Registry, name string, want types.ClusterStatus, check func(Status) bool) Status {
	t.Helper()
	var st Status
	testenv.EventuallyEvery(t, 90*time.Second, 50*time.Millisecond, func() error {
		var ok bool
		_, st, ok = r.Get(name)
		if !ok || st.Phase != want || (check != nil && !check(st)) {
			return fmt.Errorf("cluster %s: %+v (ok %v), want %s", name, st, ok, want)
		}
		return nil
	})
	return st
}

// TestIntegration_Lifecycle: a cluster's control plane starts (CREATING,
// then ACTIVE with its endpoint), is restarted when killed (counted), keeps
// its endpoint across a restart of kdp, and its deletion stops it and
// removes its data, even when kdp stopped in the middle.
func TestIntegration_Lifecycle(t *testing.T) {
	dir := t.TempDir()
	h := &hooks{ready: map[string]int{}, args: map[string]int{}, deleting: map[string]int{}}
	r := open(t, dir, h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.Start(ctx)
	if err := r.Create(&Record{Cluster: types.Cluster{Name: "one"}}, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(&Record{Cluster: types.Cluster{Name: "one"}}, 1); err != ErrExists {
		t.Errorf("a second cluster named one: %v", err)
	}
	if err := r.Create(&Record{Cluster: types.Cluster{Name: "other"}}, 1); err != ErrLimit {
		t.Errorf("a cluster beyond the limit: %v", err)
	}
	if _, st, _ := r.Get("one"); st.Phase != types.ClusterStatusCreating {
		t.Errorf("a new cluster is %s, want CREATING", st.Phase)
	}
	st := waitPhase(t, r, "one", types.ClusterStatusActive, nil)
	if st.Endpoint == "" || len(st.CA) == 0 || st.PID == 0 {
		t.Fatalf("an ACTIVE cluster: %+v", st)
	}
	if err := readyz(ctx, r.Layout("one").Cluster().AdminKubeconfig()); err != nil {
		t.Fatalf("its API server: %v", err)
	}
	testenv.Eventually(t, 5*time.Second, func() error {
		if n := h.count(h.ready, "one"); n != 1 {
			return fmt.Errorf("Ready told %d times", n)
		}
		return nil
	})

	// kill -9 of the child: noticed, counted, restarted on its ports.
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	restarted := waitPhase(t, r, "one", types.ClusterStatusActive, func(s Status) bool { return s.Restarts == 1 && !s.Down && s.PID != 0 })
	if restarted.Endpoint != st.Endpoint || restarted.LastExit != "signal: killed" {
		t.Errorf("after a kill -9: %+v", restarted)
	}
	if n := h.count(h.ready, "one"); n != 1 {
		t.Errorf("Ready told %d times after a restart of the child, want once per kdp", n)
	}

	// kdp stops: the child stops with it; a new kdp starts it on the same
	// endpoint.
	r.Stop()
	if err := syscall.Kill(restarted.PID, 0); err == nil {
		t.Errorf("the child %d runs after kdp stopped", restarted.PID)
	}
	r = open(t, dir, h)
	r.Start(ctx)
	again := waitPhase(t, r, "one", types.ClusterStatusActive, nil)
	if again.Endpoint != st.Endpoint {
		t.Errorf("endpoint %s after a restart of kdp, was %s", again.Endpoint, st.Endpoint)
	}

	// A deletion a stopped kdp left is finished by the next.
	rec := r.Layout("one").Record()
	r.Stop()
	stored, err := readRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	stored.Deleting = true
	if err := writeRecord(rec, stored); err != nil {
		t.Fatal(err)
	}
	r = open(t, dir, h)
	r.Start(ctx)
	testenv.Eventually(t, 30*time.Second, func() error {
		if _, _, ok := r.Get("one"); ok {
			return fmt.Errorf("the deleted cluster is still there")
		}
		if _, err := os.Stat(filepath.Join(dir, "one")); !os.IsNotExist(err) {
			return fmt.Errorf("its directory: %v", err)
		}
		return nil
	})
	r.Stop()
}

// TestIntegration_Delete: Delete answers at once (DELETING) and the
// cluster is gone, process and data, when the channel closes.
func TestIntegration_Delete(t *testing.T) {
	dir := t.TempDir()
	h := &hooks{ready: map[string]int{}, args: map[string]int{}, deleting: map[string]int{}}
	r := open(t, dir, h)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.Start(ctx)
	defer r.Stop()
	if err := r.Create(&Record{Cluster: types.Cluster{Name: "two"}}, 1); err != nil {
		t.Fatal(err)
	}
	st := waitPhase(t, r, "two", types.ClusterStatusActive, nil)
	gone, err := r.Delete("two")
	if err != nil {
		t.Fatal(err)
	}
	if _, s, ok := r.Get("two"); ok && s.Phase != types.ClusterStatusDeleting {
		t.Errorf("a deleted cluster is %s", s.Phase)
	}
	if err := r.Update("two", func(*Record) error { return nil }); err != ErrDeleting && err != ErrNotFound {
		t.Errorf("updating a cluster being deleted: %v", err)
	}
	// One being deleted does not count to the limit.
	if err := r.Create(&Record{Cluster: types.Cluster{Name: "three"}}, 1); err != nil {
		t.Errorf("a cluster while the only other is deleted: %v", err)
	}
	select {
	case <-gone:
	case <-time.After(30 * time.Second):
		t.Fatal("not gone after 30 s")
	}
	if err := syscall.Kill(st.PID, 0); err == nil {
		t.Errorf("the deleted cluster's process %d runs", st.PID)
	}
	if _, err := os.Stat(filepath.Join(dir, "two")); !os.IsNotExist(err) {
		t.Errorf("its directory: %v", err)
	}
	if n := h.count(h.deleting, "two"); n != 1 {
		t.Errorf("Deleting told %d times", n)
	}
	if _, err := r.Delete("two"); err != ErrNotFound {
		t.Errorf("deleting it again: %v", err)
	}
}
