// Package sim is the simulated cloud that kdp runs by default: EC2
// instances, launch templates and Auto Scaling groups of one region,
// modelled on AWS. It is a service of its own, outside every cluster it
// serves: its state lives in its own store (DATA_DIR/cloud), and kdp's
// controllers reach it only through cloud.Provider (Cloud.Provider gives a
// cluster its view of the account).
//
// It is a discrete-event simulation: the state is in memory, and one loop
// applies, in order, the requests made of it and the timed events it has
// queued (a boot that ends, a spot notice that runs out, a hook that times
// out, a fault scenario's next step), each at its own time on an injected
// clock. Every change is written to the store in the loop's batch, and the
// batch is on disk before any request in it is answered and before any
// event it made is delivered: a crash loses nothing that was acknowledged,
// and a restart queues every record's next deadline again. Ids come from the
// cloud's seed and the scenarios' picks from theirs, so the same seeds and
// the same requests on a fake clock give the same events.
//
// Instance-type selection follows EC2 Auto Scaling: an on-demand group uses
// its instance types in order (prioritized), a spot group takes the
// cheapest type in the zone (price-capacity-optimized); a type with no
// capacity in a zone is skipped.
package sim

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"

	"github.com/kdp-project/kdp/internal/cloud/sim/catalog"
	"github.com/kdp-project/kdp/internal/cloud/sim/store"
	"github.com/kdp-project/kdp/internal/timescale"
)

// Options configure the simulated cloud.
type Options struct {
	// Dir holds its state (state.db).
	Dir     string
	Region  string
	Zones   int
	Profile string
	Scale   timescale.Scale
	// Seed gives the ids of a new cloud; 0 picks one at random. An existing
	// cloud keeps the seed it was created with.
	Seed uint64
	// Account is the 12-digit account id of a new cloud (its ARNs and
	// events); Account (the constant) if empty. An existing cloud keeps
	// the account it was created with.
	Account string
	// LaunchRetention is how long the record of a launch is kept after its
	// instance's record went: long enough for controllers that were down
	// to find the Nodes of instances they lost (7 days; not scaled).
	LaunchRetention time.Duration
	// Clock is the cloud's clock; the real one when nil.
	Clock clock.Clock
	// Log is where it logs what it does.
	Log logr.Logger

	// timing, if set, replaces the profile's (tests).
	timing *Timing
}

// DefaultOptions are `kdp up`'s defaults.
func DefaultOptions() Options {
	return Options{Region: "us-east-1", Zones: 3, Profile: "fast", Scale: timescale.Real, Account: Account, LaunchRetention: 7 * 24 * time.Hour}
}

// Validate checks the options, naming the flag at fault, every problem at
// once.
func (o Options) Validate() error {
	var errs []error
	if o.Region == "" {
		errs = append(errs, fmt.Errorf("--region: must not be empty"))
	}
	if o.Account != "" && (len(o.Account) != 12 || strings.Trim(o.Account, "0123456789") != "") {
		errs = append(errs, fmt.Errorf("--account-id %q: must be 12 digits, like an AWS account id (123456789012)", o.Account))
	}
	if o.Zones < 1 || o.Zones > 6 {
		errs = append(errs, fmt.Errorf("--zones %d: must be between 1 and 6", o.Zones))
	}
	if _, err := Profile(o.Profile, timescale.Real); err != nil {
		errs = append(errs, err)
	}
	if err := o.Scale.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ErrStopped is what a request gets once the cloud has stopped.
var ErrStopped = errors.New("the simulated cloud has stopped")

// Cloud is the simulated cloud of one account and region.
type Cloud struct {
	opts    Options
	account string // set once, when the state is read
	catalog *catalog.Catalog
	timing  Timing
	clock   clock.Clock
	store   *store.Store
	log     logr.Logger
	metrics *metrics

	// mu guards st: the loop holds it to change the state and write it,
	// readers to read it.
	mu sync.RWMutex
	st state

	reqs  chan *request
	queue wakeQueue // the loop's own
	// overflows counts settles that hit maxSettleRounds (tests fail on it).
	overflows int
	// failed is set when a batch could not be written: the state in memory
	// is then ahead of the disk, and nobody may read it any more.
	failed atomic.Bool
	// events are the kept events, for subscribers.
	events eventLog

	stopped chan struct{}
	err     error // why the loop stopped, once stopped is closed
}

// state is everything the cloud knows.
type state struct {
	meta       meta
	templates  map[string]*template   // by id
	groups     map[string]*group      // by name
	instances  map[string]*instance   // by id
	launches   map[string]*launch     // by instance id, for instances whose record went
	capacity   map[string]int         // capacityKey → instances the zone holds at most
	activities map[string][]*activity // by group, oldest first
	scenarios  map[string]*scenarioRun
	// Indexes, rebuilt at load: a group's instances (by the group's id: a
	// group made again under a name has none of the old one's), the
	// addresses in use, the activities by id.
	byGroup      map[string]map[string]*instance
	ips          ipPool
	activityByID map[string]*activity
}

type request struct {
	fn   func(*txn) error
	done chan error
}

// Open loads the cloud from its store (creating it if there is none). Run
// must then run its loop.
func Open(o Options) (*Cloud, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.LaunchRetention == 0 {
		o.LaunchRetention = DefaultOptions().LaunchRetention
	}
	cat, err := catalog.New(o.Region, o.Zones)
	if err != nil {
		return nil, err
	}
	timing, _ := Profile(o.Profile, o.Scale)
	if o.timing != nil {
		timing = *o.timing
	}
	clk := o.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	st, err := store.Open(filepath.Join(o.Dir, "state.db"))
	if err != nil {
		return nil, err
	}
	c := &Cloud{
		opts: o, catalog: cat, timing: timing, clock: clk, store: st, log: o.Log,
		reqs: make(chan *request, 1024), stopped: make(chan struct{}), metrics: newMetrics(),
	}
	if err := c.load(); err != nil {
		st.Close()
		return nil, err
	}
	return c, nil
}

// load reads the state and queues every record's next deadline.
func (c *Cloud) load() error {
	c.st = state{
		templates: map[string]*template{}, groups: map[string]*group{}, instances: map[string]*instance{},
		launches: map[string]*launch{}, capacity: map[string]int{}, activities: map[string][]*activity{},
		scenarios: map[string]*scenarioRun{}, byGroup: map[string]map[string]*instance{}, activityByID: map[string]*activity{},
	}
	decode := func(bucket string, fn func([]byte) error) error {
		return c.store.Each(bucket, func(k, v []byte) error {
			if err := fn(v); err != nil {
				return fmt.Errorf("%s/%s: %w", bucket, k, err)
			}
			return nil
		})
	}
	err := errors.Join(
		decode(bucketMeta, func(v []byte) error { return json.Unmarshal(v, &c.st.meta) }),
		decode(bucketTemplates, func(v []byte) error {
			t := &template{}
			return unmarshalInto(v, t, func() { c.st.templates[t.ID] = t })
		}),
		decode(bucketGroups, func(v []byte) error {
			g := &group{}
			return unmarshalInto(v, g, func() { c.st.groups[g.Name] = g })
		}),
		decode(bucketInstances, func(v []byte) error {
			i := &instance{}
			return unmarshalInto(v, i, func() { c.addInstance(i) })
		}),
		decode(bucketLaunches, func(v []byte) error {
			l := &launch{}
			return unmarshalInto(v, l, func() { c.st.launches[l.ID] = l })
		}),
		c.store.Each(bucketCapacity, func(k, v []byte) error {
			var n int
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			c.st.capacity[string(k)] = n
			return nil
		}),
		decode(bucketActivities, func(v []byte) error {
			a := &activity{}
			return unmarshalInto(v, a, func() {
				c.st.activities[a.Group] = append(c.st.activities[a.Group], a)
				c.st.activityByID[a.ID] = a
			})
		}),
		decode(bucketScenarios, func(v []byte) error {
			s := &scenarioRun{}
			return unmarshalInto(v, s, func() { c.st.scenarios[s.ID] = s })
		}),
	)
	if err != nil {
		return fmt.Errorf("reading the simulated cloud's state from %s: %w", c.store.Path(), err)
	}
	m := &c.st.meta
	if m.Addresses == nil {
		m.Addresses = map[string]int{}
	}
	c.st.ips.cursor = m.Addresses // written with the meta, in the batch of each launch
	switch {
	case m.Seed == 0: // a new cloud
		m.Seed = c.opts.Seed
		for m.Seed == 0 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			m.Seed = binary.LittleEndian.Uint64(b[:])
		}
		m.Region, m.Zones, m.Account = c.opts.Region, c.opts.Zones, c.opts.Account
		if m.Account == "" {
			m.Account = Account
		}
		var b store.Batch
		b.Put(bucketMeta, []byte("meta"), mustJSON(m))
		if err := c.store.Commit(&b); err != nil {
			return err
		}
	case m.Region != c.opts.Region || m.Zones != c.opts.Zones:
		return fmt.Errorf("the simulated cloud in %s was created with --region %s --zones %d; start it with those, or with another --data-dir",
			c.opts.Dir, m.Region, m.Zones)
	case m.Account == "": // created before clouds had an account of their own
		m.Account = Account
	}
	if c.opts.Account != "" && c.opts.Account != m.Account {
		c.log.Info("the simulated cloud keeps the account it was created with", "account", m.Account, "asked", c.opts.Account)
	}
	c.account = m.Account
	for _, list := range c.st.activities {
		slices.SortFunc(list, func(a, b *activity) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	if err := c.events.load(c.store, m.Sequence); err != nil {
		return err
	}
	// Every record's next deadline, in a stable order.
	for _, id := range sortedKeys(c.st.instances) {
		if at, ok := c.st.instances[id].nextDue(); ok {
			c.queue.add(wakeInstance, id, at)
		}
	}
	for _, name := range sortedKeys(c.st.groups) {
		c.queue.add(wakeGroup, name, c.clock.Now()) // settle each group once
	}
	for _, id := range sortedKeys(c.st.scenarios) {
		if at, ok := c.scenarioDue(c.st.scenarios[id]); ok {
			c.queue.add(wakeScenario, id, at)
		}
	}
	c.queue.add(wakeHousekeeping, "", c.clock.Now())
	return nil
}

func unmarshalInto(v []byte, into any, keep func()) error {
	if err := json.Unmarshal(v, into); err != nil {
		return err
	}
	keep()
	return nil
}

// Catalog is the cloud's catalogue.
func (c *Cloud) Catalog() *catalog.Catalog { return c.catalog }

// Timing is the cloud's timing, compressed by its time scale.
func (c *Cloud) Timing() Timing { return c.timing }

// Options are the options the cloud runs with.
func (c *Cloud) Options() Options { return c.opts }

// Account is the cloud's account id.
func (c *Cloud) Account() string { return c.account }

// Seed is the seed the cloud's ids come from.
func (c *Cloud) Seed() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.st.meta.Seed
}

// Run runs the cloud's loop until ctx ends, then closes its store. It
// returns an error if the loop failed (its store could not be written: the
// state in memory is then ahead of the disk, and the process should stop).
func (c *Cloud) Run(ctx context.Context) error {
	err := c.run(ctx)
	c.err = err
	close(c.stopped)
	// Requests that came in meanwhile get ErrStopped.
	for {
		select {
		case r := <-c.reqs:
			r.done <- ErrStopped
		default:
			return errors.Join(err, c.store.Close())
		}
	}
}

// maxBatch bounds how many requests one batch carries.
const maxBatch = 512

func (c *Cloud) run(ctx context.Context) error {
	for {
		var timer clock.Timer
		var due <-chan time.Time
		if at, ok := c.queue.peek(); ok {
			timer = c.clock.NewTimer(max(at.Sub(c.clock.Now()), 0))
			due = timer.C()
		}
		var batch []*request
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case r := <-c.reqs:
			batch = append(batch, r)
		more:
			for len(batch) < maxBatch {
				select {
				case r := <-c.reqs:
					batch = append(batch, r)
				default:
					break more
				}
			}
		case <-due:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := c.iterate(batch); err != nil {
			for _, r := range batch {
				r.done <- err
			}
			return err
		}
	}
}

// iterate runs the simulation up to now: the timed events due by then, each
// at its own time, then the requests, at now; writes what changed in one
// batch; and only then answers the requests and delivers the events.
func (c *Cloud) iterate(batch []*request) error {
	start := c.clock.Now()
	c.mu.Lock()
	tx := c.begin(start)
	c.advance(tx, start)
	errs := make([]error, len(batch))
	for i, r := range batch {
		tx.now = start
		errs[i] = r.fn(tx)
		c.settle(tx)
	}
	c.advance(tx, start)
	n, err := c.commit(tx)
	if err != nil {
		c.failed.Store(true)
	}
	if err == nil {
		if len(tx.dropEvents) > 0 {
			c.events.pruned(tx.dropEvents[len(tx.dropEvents)-1] + 1)
		}
		c.events.append(tx.events)
	}
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("writing the simulated cloud's state: %w", err)
	}
	c.metrics.observeBatch(len(batch), n, c.clock.Since(start))
	for i, r := range batch {
		r.done <- errs[i]
	}
	return nil
}

// advance plays the timed events due by until, in time order, each at its
// own time, settling the groups after each.
func (c *Cloud) advance(tx *txn, until time.Time) {
	for {
		w, ok := c.queue.pop(until)
		if !ok {
			return
		}
		tx.now = w.at
		switch w.kind {
		case wakeInstance:
			if inst := c.st.instances[w.key]; inst != nil {
				c.stepInstance(tx, inst)
				tx.touched[inst.ID] = true // its next deadline, which may have moved
			}
		case wakeGroup:
			if g := c.st.groups[w.key]; g != nil {
				tx.settle(g.Name)
			}
		case wakeScenario:
			if run := c.st.scenarios[w.key]; run != nil {
				c.stepScenario(tx, run)
			}
		case wakeHousekeeping:
			c.housekeeping(tx)
		}
		c.settle(tx)
	}
}

// do runs fn in the loop, in a batch, and returns its error once the batch
// is on disk. fn must check everything before it changes anything: a
// request that fails changes nothing.
func (c *Cloud) do(fn func(*txn) error) error {
	if c.isStopped() {
		return ErrStopped
	}
	r := &request{fn: fn, done: make(chan error, 1)}
	select {
	case c.reqs <- r:
	case <-c.stopped:
		return ErrStopped
	}
	select {
	case err := <-r.done:
		return err
	case <-c.stopped:
		// The loop may have answered it on its way out.
		select {
		case err := <-r.done:
			return err
		default:
			return ErrStopped
		}
	}
}

func (c *Cloud) isStopped() bool {
	select {
	case <-c.stopped:
		return true
	default:
		return c.failed.Load()
	}
}

// Sync returns once everything due by now has happened: tests that step a
// fake clock call it before they look.
func (c *Cloud) Sync() error { return c.do(func(*txn) error { return nil }) }

// Stopped is closed once the loop has stopped; Err then says why.
func (c *Cloud) Stopped() <-chan struct{} { return c.stopped }

// Err is why the loop stopped (nil when ctx ended it).
func (c *Cloud) Err() error {
	select {
	case <-c.stopped:
		return c.err
	default:
		return nil
	}
}

// txn is one batch of changes: what the loop changed since the last write,
// and the events it made, written together.
type txn struct {
	c   *Cloud
	now time.Time
	// puts are the records to write, by bucket and key (nil: delete).
	puts   map[bucketKey]any
	order  []bucketKey
	events []logged
	stored []storedEvent
	// dropEvents are the sequence numbers of events pruned.
	dropEvents []uint64
	dirty      map[string]bool // groups to settle
	touched    map[string]bool // instances whose next deadline to queue
}

type bucketKey struct{ bucket, key string }

func (c *Cloud) begin(now time.Time) *txn {
	return &txn{c: c, now: now, puts: map[bucketKey]any{}, dirty: map[string]bool{}, touched: map[string]bool{}}
}

// put records a record to write, del one to delete.
func (tx *txn) put(bucket, key string, v any) {
	k := bucketKey{bucket, key}
	if _, ok := tx.puts[k]; !ok {
		tx.order = append(tx.order, k)
	}
	tx.puts[k] = v
}

func (tx *txn) del(bucket, key string) { tx.put(bucket, key, nil) }

// putInstance records a change of an instance: it is written, its group
// settled, and its next deadline queued.
func (tx *txn) putInstance(inst *instance) {
	tx.put(bucketInstances, inst.ID, inst)
	tx.touched[inst.ID] = true
	if inst.Group != "" {
		tx.dirty[inst.Group] = true
	}
}

// putGroup records a change of a group that asks for it to be settled (a
// request changed it); saveGroup one the settling made, which needs no more.
func (tx *txn) putGroup(g *group) {
	tx.saveGroup(g)
	tx.dirty[g.Name] = true
}

func (tx *txn) saveGroup(g *group) { tx.put(bucketGroups, g.Name, g) }

// settle asks for a group to be brought to its desired capacity.
func (tx *txn) settle(name string) { tx.dirty[name] = true }

func (tx *txn) putMeta() { tx.put(bucketMeta, "meta", &tx.c.st.meta) }

// settle brings every group that changed to its desired capacity, and
// queues the next deadline of every instance that changed, until nothing
// more changes.
func (c *Cloud) settle(tx *txn) {
	for round := 0; len(tx.dirty) > 0; round++ {
		if round == maxSettleRounds { // cascades are a few steps deep: more is a bug
			c.log.Error(nil, "groups still unsettled after many rounds", "groups", sortedKeys(tx.dirty))
			c.overflows++
			clear(tx.dirty)
			break
		}
		names := sortedKeys(tx.dirty)
		clear(tx.dirty)
		for _, name := range names {
			if g := c.st.groups[name]; g != nil {
				c.settleGroup(tx, g)
			}
		}
	}
	for _, id := range sortedKeys(tx.touched) {
		if inst := c.st.instances[id]; inst != nil {
			if at, ok := inst.nextDue(); ok {
				c.queue.add(wakeInstance, id, at)
			}
		}
	}
	clear(tx.touched)
}

// maxSettleRounds bounds how many times settle goes round the groups.
const maxSettleRounds = 100

// commit writes the batch; it returns how many records it wrote.
func (c *Cloud) commit(tx *txn) (int, error) {
	var b store.Batch
	for _, k := range tx.order {
		v := tx.puts[k]
		if v == nil {
			b.Delete(k.bucket, []byte(k.key))
			continue
		}
		b.Put(k.bucket, []byte(k.key), mustJSON(v))
	}
	for _, e := range tx.stored {
		b.Append(bucketEvents, store.Uint64Key(e.Seq), mustJSON(e))
	}
	for _, seq := range tx.dropEvents {
		b.Delete(bucketEvents, store.Uint64Key(seq))
	}
	return b.Len(), c.store.Commit(&b)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encoding %T: %v", v, err)) // our own records: cannot fail
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
