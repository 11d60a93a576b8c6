package clusters

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/eks/types"
)

// DefaultReadyTimeout bounds how long a new cluster's API server may take
// to be ready before the cluster is FAILED.
const DefaultReadyTimeout = 2 * time.Minute

// The restart backoff of a child that dies: doubled from the first to the
// last, reset once the child has been ready for a minute.
const (
	firstBackoff = 500 * time.Millisecond
	lastBackoff  = 30 * time.Second
)

// ErrExists is Create's error for a name in use.
var ErrExists = errors.New("a cluster of that name exists")

// ErrNotFound is the error for a cluster kdp does not have.
var ErrNotFound = errors.New("no such cluster")

// ErrDeleting is Update's error for a cluster being deleted.
var ErrDeleting = errors.New("the cluster is being deleted")

// ErrLimit is Create's error when the registry has its most clusters.
var ErrLimit = errors.New("the most clusters kdp runs are running")

// Hooks are what the Registry tells its user.
type Hooks interface {
	// APIServerArgs are extra kube-apiserver flags of the cluster's
	// control plane (its token authentication webhook, say), asked before
	// each start.
	APIServerArgs(name string, l Layout) ([]string, error)
	// Ready is called once per kdp process, when the cluster's API server
	// is first ready: kdp then runs the cluster's controllers. ctx ends
	// when the cluster is deleted or kdp stops.
	Ready(ctx context.Context, name string, l Layout)
	// Deleting is called when a deletion begins, before the cluster's
	// control plane stops: its controllers stop first. It returns once
	// they have.
	Deleting(name string)
}

// Options configure a Registry.
type Options struct {
	// Dir holds a directory per cluster: DATA_DIR/clusters.
	Dir string
	// Binary is the kdp executable the children run.
	Binary string
	Hooks  Hooks
	Log    logr.Logger
	Clock  clock.PassiveClock
	// ReadyTimeout is DefaultReadyTimeout if zero.
	ReadyTimeout time.Duration
}

// Status is what the Registry knows of a cluster's process.
type Status struct {
	Phase types.ClusterStatus
	// Endpoint is the API server's URL and CA its certificate authority
	// (PEM), once the cluster has been ready.
	Endpoint string
	CA       []byte
	// Restarts counts the times kdp restarted the control plane after it
	// died, since kdp started; LastExit says how it last died, and when.
	Restarts   int
	LastExit   string
	LastExitAt time.Time
	// Down is set while the control plane is not running (it died and is
	// being restarted).
	Down bool
	// Failure says why a FAILED cluster failed.
	Failure string
	// PID is the process id of the control plane, 0 when none runs.
	PID int
}

// Registry is the clusters kdp created and their processes.
type Registry struct {
	o Options

	mu       sync.Mutex
	clusters map[string]*entry
	ctx      context.Context // of Start
	stopped  bool            // by Stop: no cluster starts any more
	wg       sync.WaitGroup
}

// entry is one cluster: its record and its supervisor.
type entry struct {
	layout Layout
	rec    *Record
	status Status
	// cancel stops the supervisor; done is closed when it has stopped
	// the process.
	cancel context.CancelFunc
	done   chan struct{}
	// ready is closed when the API server was first ready.
	ready chan struct{}
	// removedCh is closed when a deleted cluster is gone.
	removedCh chan struct{}
}

// Open reads the records of o.Dir. It starts nothing: Start does.
func Open(o Options) (*Registry, error) {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	if o.Log.GetSink() == nil {
		o.Log = logr.Discard()
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	r := &Registry{o: o, clusters: map[string]*entry{}}
	dirs, err := os.ReadDir(o.Dir)
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		l := Layout{Dir: filepath.Join(o.Dir, d.Name())}
		rec, err := readRecord(l.Record())
		if isNotExist(err) {
			// A cluster whose first record never landed (kdp was killed
			// within CreateCluster): nobody was told of it.
			o.Log.Info("removing a cluster directory without a record", "dir", l.Dir)
			_ = os.RemoveAll(l.Dir)
			continue
		}
		if err != nil {
			// One bad record must not keep kdp (and the other clusters)
			// from starting: it is left for the user to look at.
			o.Log.Error(err, "skipping a cluster whose record is unreadable", "dir", l.Dir)
			continue
		}
		r.clusters[rec.Cluster.Name] = &entry{layout: l, rec: rec, status: Status{Phase: types.ClusterStatusCreating}, ready: make(chan struct{})}
	}
	return r, nil
}

// Start starts the control plane of every cluster, and finishes the
// deletions a stopped kdp left. The children run until ctx ends or Stop.
func (r *Registry) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.ctx = ctx
	for name, e := range r.clusters {
		if e.rec.Deleting {
			e.status.Phase = types.ClusterStatusDeleting
			e.removed()
			go r.remove(name, e)
			continue
		}
		r.supervise(name, e)
	}
}

// Stop stops every control plane and waits for them.
func (r *Registry) Stop() {
	r.mu.Lock()
	r.stopped = true
	for _, e := range r.clusters {
		if e.cancel != nil {
			e.cancel()
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// Names are the clusters' names, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.clusters))
	for n := range r.clusters {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Len is the number of clusters.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.clusters)
}

// Get returns a copy of the cluster's record and its status.
func (r *Registry) Get(name string) (Record, Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.clusters[name]
	if !ok {
		return Record{}, Status{}, false
	}
	return *clone(e.rec), e.status, true
}

// Layout is where the cluster's files are.
func (r *Registry) Layout(name string) Layout { return Layout{Dir: filepath.Join(r.o.Dir, name)} }

// Ready is closed when the cluster's API server is first ready.
func (r *Registry) Ready(name string) (<-chan struct{}, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.clusters[name]
	if !ok {
		return nil, false
	}
	return e.ready, true
}

// Create records a new cluster and starts its control plane (CREATING
// until its API server is ready). It fails with ErrExists if the name is
// taken, and with ErrLimit if max clusters (those being deleted not
// counted) exist already; it writes nothing then.
func (r *Registry) Create(rec *Record, max int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := rec.Cluster.Name
	if _, ok := r.clusters[name]; ok {
		return ErrExists
	}
	live := 0
	for _, e := range r.clusters {
		if !e.rec.Deleting {
			live++
		}
	}
	if live >= max {
		return ErrLimit
	}
	l := r.Layout(name)
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return err
	}
	rec = clone(rec)
	if err := writeRecord(l.Record(), rec); err != nil {
		_ = os.RemoveAll(l.Dir)
		return err
	}
	e := &entry{layout: l, rec: rec, status: Status{Phase: types.ClusterStatusCreating}, ready: make(chan struct{})}
	r.clusters[name] = e
	if r.ctx != nil && !r.stopped {
		r.supervise(name, e)
	}
	return nil
}

// Update changes the cluster's record with change, and writes it; an
// error of change leaves it as it was.
func (r *Registry) Update(name string, change func(*Record) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.clusters[name]
	if !ok {
		return ErrNotFound
	}
	if e.rec.Deleting {
		return ErrDeleting
	}
	next := clone(e.rec)
	if err := change(next); err != nil {
		return err
	}
	if err := writeRecord(e.layout.Record(), next); err != nil {
		return err
	}
	e.rec = next
	return nil
}

// Delete marks the cluster DELETING (in its record, so that a restarted
// kdp finishes), then, in the background, stops its control plane and
// removes its directory; the cluster is gone from the Registry once that
// is done. Gone is closed then.
func (r *Registry) Delete(name string) (gone <-chan struct{}, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.clusters[name]
	if !ok {
		return nil, ErrNotFound
	}
	if !e.rec.Deleting {
		next := clone(e.rec)
		next.Deleting = true
		if err := writeRecord(e.layout.Record(), next); err != nil {
			return nil, err
		}
		e.rec = next
		e.status.Phase = types.ClusterStatusDeleting
		e.removed()
		go r.remove(name, e)
	}
	return e.removed(), nil
}

// removed is closed once remove finished. r.mu is held.
func (e *entry) removed() <-chan struct{} {
	if e.removedCh == nil {
		e.removedCh = make(chan struct{})
	}
	return e.removedCh
}

// remove stops the cluster's process, removes its directory and forgets
// it.
func (r *Registry) remove(name string, e *entry) {
	r.mu.Lock()
	cancel, done := e.cancel, e.done
	removed := e.removedCh
	r.mu.Unlock()
	if r.o.Hooks != nil {
		r.o.Hooks.Deleting(name)
	}
	if cancel != nil {
		cancel()
		<-done
	}
	if pid, ok := orphan(e.layout); ok {
		r.o.Log.Info("stopping an orphaned control plane of a deleted cluster", "cluster", name, "pid", pid)
		killAndWait(pid)
	}
	for i := 0; ; i++ {
		err := os.RemoveAll(e.layout.Dir)
		if err == nil {
			break
		}
		r.o.Log.Error(err, "removing a deleted cluster's directory", "cluster", name)
		time.Sleep(min(time.Duration(i+1)*time.Second, 10*time.Second))
	}
	r.mu.Lock()
	delete(r.clusters, name)
	r.mu.Unlock()
	close(removed)
	r.o.Log.Info("cluster deleted", "cluster", name)
}

// supervise starts the cluster's supervisor. r.mu is held.
func (r *Registry) supervise(name string, e *entry) {
	ctx, cancel := context.WithCancel(r.ctx)
	e.cancel, e.done = cancel, make(chan struct{})
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(e.done)
		r.run(ctx, name, e)
	}()
}

// run keeps the cluster's control plane running until ctx ends: it
// starts it, waits for its API server (the first time: CREATING, then
// ACTIVE; FAILED if it never is), and starts it again when it dies.
func (r *Registry) run(ctx context.Context, name string, e *entry) {
	log := r.o.Log.WithValues("cluster", name)
	backoff := firstBackoff
	first := true
	for ctx.Err() == nil {
		p, ports, err := r.start(name, e)
		if err != nil {
			log.Error(err, "starting the cluster's control plane")
			r.setStatus(e, func(s *Status) {
				s.Down = true
				if s.Phase == types.ClusterStatusCreating {
					s.Phase, s.Failure = types.ClusterStatusFailed, err.Error()
				}
			})
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, lastBackoff)
			continue
		}
		log.Info("started the cluster's control plane", "pid", p.pid(), "apiServerPort", ports.APIServer)
		r.setStatus(e, func(s *Status) { s.PID = p.pid() })
		readyAt, ok := r.waitReady(ctx, e, p)
		if ok {
			r.becameReady(ctx, name, e, first)
			first = false
		} else if r.failed(e) {
			// A cluster that never came up is FAILED, as on EKS: kdp
			// leaves it so (its process stopped) until it is deleted or
			// kdp starts again.
			log.Info("the cluster's control plane was never ready: FAILED", "log", e.layout.ProcessLog())
			<-ctx.Done()
			return
		}
		select {
		case <-ctx.Done():
			p.stop()
			r.setStatus(e, func(s *Status) { s.PID = 0 })
			return
		case <-p.exited:
		}
		how := describeExit(p.err)
		log.Info("the cluster's control plane exited; restarting it", "exit", how)
		if ok && r.o.Clock.Since(readyAt) > time.Minute {
			backoff = firstBackoff
		}
		r.setStatus(e, func(s *Status) {
			s.PID, s.Down = 0, true
			s.Restarts++
			s.LastExit, s.LastExitAt = how, r.o.Clock.Now()
		})
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, lastBackoff)
	}
}

// start starts the cluster's process on its recorded ports, or new ones
// if those are taken (the endpoint then changes), after stopping an
// orphaned control plane of its data dir.
func (r *Registry) start(name string, e *entry) (*process, Ports, error) {
	if pid, ok := orphan(e.layout); ok {
		r.o.Log.Info("stopping an orphaned control plane of the cluster", "cluster", name, "pid", pid)
		killAndWait(pid)
	}
	r.mu.Lock()
	ports := e.rec.Ports
	r.mu.Unlock()
	if !portsFree(ports) {
		ps, err := freePorts(3)
		if err != nil {
			return nil, ports, err
		}
		ports = Ports{APIServer: ps[0], Etcd: ps[1], EtcdPeer: ps[2]}
		if err := r.Update(name, func(rec *Record) error { rec.Ports = ports; return nil }); err != nil {
			return nil, ports, err
		}
	}
	var args []string
	if r.o.Hooks != nil {
		var err error
		if args, err = r.o.Hooks.APIServerArgs(name, e.layout); err != nil {
			return nil, ports, err
		}
	}
	p, err := startProcess(r.o.Binary, name, e.layout, ports, args)
	return p, ports, err
}

// waitReady waits for the process's API server to answer /readyz, and
// records its endpoint and CA. It gives up when the process exits, ctx
// ends, or (for a cluster being created) after the ready timeout, which
// fails the cluster.
func (r *Registry) waitReady(ctx context.Context, e *entry, p *process) (time.Time, bool) {
	start := r.o.Clock.Now()
	kubeconfig := e.layout.Cluster().AdminKubeconfig()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, false
		case <-p.exited:
			return time.Time{}, false
		case <-tick.C:
		}
		if err := readyz(ctx, kubeconfig); err == nil {
			endpoint, ca, err := endpointOf(kubeconfig)
			if err == nil {
				r.setStatus(e, func(s *Status) { s.Endpoint, s.CA, s.Down = endpoint, ca, false })
				return r.o.Clock.Now(), true
			}
		}
		if r.o.Clock.Since(start) > r.o.ReadyTimeout {
			r.setStatus(e, func(s *Status) {
				if s.Phase == types.ClusterStatusCreating {
					s.Phase = types.ClusterStatusFailed
					s.Failure = fmt.Sprintf("the control plane's API server was not ready within %s (see %s)", r.o.ReadyTimeout, e.layout.ProcessLog())
				}
			})
			p.stop()
			return time.Time{}, false
		}
	}
}

// becameReady makes a CREATING cluster ACTIVE and, the first time in this
// process, tells the hooks.
func (r *Registry) becameReady(ctx context.Context, name string, e *entry, first bool) {
	r.setStatus(e, func(s *Status) {
		if s.Phase == types.ClusterStatusCreating || s.Phase == types.ClusterStatusFailed {
			s.Phase, s.Failure = types.ClusterStatusActive, ""
		}
	})
	if first {
		close(e.ready)
		if r.o.Hooks != nil {
			go r.o.Hooks.Ready(ctx, name, e.layout)
		}
	}
}

func (r *Registry) failed(e *entry) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return e.status.Phase == types.ClusterStatusFailed
}

func (r *Registry) setStatus(e *entry, change func(*Status)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	change(&e.status)
}

// endpointOf is the API server URL and CA of a kubeconfig.
func endpointOf(kubeconfig string) (string, []byte, error) {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return "", nil, err
	}
	ctx := cfg.Contexts[cfg.CurrentContext]
	if ctx == nil || cfg.Clusters[ctx.Cluster] == nil {
		return "", nil, fmt.Errorf("%s: no current cluster", kubeconfig)
	}
	c := cfg.Clusters[ctx.Cluster]
	ca := c.CertificateAuthorityData
	if len(ca) == 0 && c.CertificateAuthority != "" {
		if ca, err = os.ReadFile(c.CertificateAuthority); err != nil {
			return "", nil, err
		}
	}
	return strings.TrimSuffix(c.Server, "/"), ca, nil
}

// sleep waits d, or less if ctx ends first (false then).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var (
	clustersDesc = prometheus.NewDesc("kdp_clusters", "Clusters created through the EKS API, by status.", []string{"status"}, nil)
	restartsDesc = prometheus.NewDesc("kdp_cluster_control_plane_restarts_total",
		"Times kdp restarted a created cluster's control plane after it died, since kdp started.", []string{"cluster"}, nil)
)

// Describe and Collect make the Registry a Prometheus collector: the
// clusters by status, and each one's restarts.
func (r *Registry) Describe(ch chan<- *prometheus.Desc) {
	ch <- clustersDesc
	ch <- restartsDesc
}

func (r *Registry) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byStatus := map[types.ClusterStatus]int{}
	for _, s := range []types.ClusterStatus{types.ClusterStatusCreating, types.ClusterStatusActive, types.ClusterStatusDeleting, types.ClusterStatusFailed} {
		byStatus[s] = 0
	}
	for name, e := range r.clusters {
		byStatus[e.status.Phase]++
		ch <- prometheus.MustNewConstMetric(restartsDesc, prometheus.CounterValue, float64(e.status.Restarts), name)
	}
	for s, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(clustersDesc, prometheus.GaugeValue, float64(n), string(s))
	}
}
