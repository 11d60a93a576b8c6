// Package clusters keeps the clusters kdp creates through the EKS API
// (CreateCluster): each a control plane of its own, run as a child
// process (`kdp up --control-plane-only`) with its own data directory
// under kdp's (DATA_DIR/clusters/NAME), its own ports on loopback and its
// own PKI.
//
// A cluster's record (DATA_DIR/clusters/NAME/cluster.json) is the store of
// what EKS keeps about it: the CreateCluster request as EKS answered it,
// its access entries and its updates. The Registry writes records
// atomically, and supervises each cluster's process: it starts it, tells
// when its API server is ready, restarts it when it dies (counting the
// restarts, which DescribeCluster shows in the cluster's health), and
// stops it. A child dies with kdp (PR_SET_PDEATHSIG): kdp never leaves a
// control plane running without its parent, and starts every cluster
// again when it starts.
package clusters

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kdp-project/kdp/internal/cluster"
	"github.com/kdp-project/kdp/internal/eks/types"
)

// Record is what kdp keeps about one cluster.
type Record struct {
	// Cluster is the cluster as DescribeCluster answers it, less what the
	// Registry knows of its process (status, endpoint, certificate
	// authority, health).
	Cluster types.Cluster `json:"cluster"`
	// Deleting is set by DeleteCluster: a kdp that starts with it set
	// finishes the deletion.
	Deleting bool `json:"deleting,omitempty"`
	// RequestDigest is a digest of the CreateCluster request, for its
	// clientRequestToken's idempotency.
	RequestDigest string `json:"requestDigest,omitempty"`
	// CreatedBy is the ARN of who created the cluster.
	CreatedBy string `json:"createdBy,omitempty"`
	// WasActive is set once kdp's controllers have served the cluster:
	// it may have node groups since.
	WasActive bool `json:"wasActive,omitempty"`
	// Ports are the child's ports, chosen at the first start and kept, so
	// that the cluster's endpoint stays as DescribeCluster said.
	Ports Ports `json:"ports"`
	// AccessEntries are the cluster's access entries, by principal ARN.
	AccessEntries []AccessEntry `json:"accessEntries,omitempty"`
	// Updates are the cluster's updates (UpdateClusterConfig), oldest
	// first.
	Updates []types.Update `json:"updates,omitempty"`
}

// Ports are a child control plane's ports on loopback.
type Ports struct {
	APIServer int `json:"apiServer"`
	Etcd      int `json:"etcd"`
	EtcdPeer  int `json:"etcdPeer"`
}

// AccessEntry is an access entry and the access policies associated with
// it.
type AccessEntry struct {
	Entry    types.AccessEntry              `json:"entry"`
	Policies []types.AssociatedAccessPolicy `json:"policies,omitempty"`
}

// Entry is the access entry of principalARN, if there is one.
func (r *Record) Entry(principalARN string) (*AccessEntry, bool) {
	for i := range r.AccessEntries {
		if r.AccessEntries[i].Entry.PrincipalArn == principalARN {
			return &r.AccessEntries[i], true
		}
	}
	return nil, false
}

// Layout is where a cluster's files are.
type Layout struct {
	// Dir is the cluster's directory, DATA_DIR/clusters/NAME.
	Dir string
}

// Record is the cluster's record.
func (l Layout) Record() string { return filepath.Join(l.Dir, "cluster.json") }

// Data is the child's data directory (its etcd, PKI, kubeconfigs, log).
func (l Layout) Data() string { return filepath.Join(l.Dir, "data") }

// Cluster is the child's data directory as kdp up lays it out.
func (l Layout) Cluster() cluster.Layout { return cluster.Layout{Root: l.Data()} }

// TokenWebhookConfig is the kubeconfig of the child API server's token
// authentication webhook (kdp's TokenReview endpoint).
func (l Layout) TokenWebhookConfig() string { return filepath.Join(l.Dir, "token-webhook.kubeconfig") }

// ProcessLog is where the child's standard output and error go.
func (l Layout) ProcessLog() string { return filepath.Join(l.Dir, "process.log") }

// readRecord reads a cluster's record; an absent one wraps fs.ErrNotExist.
func readRecord(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &Record{}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Cluster.Name == "" {
		return nil, fmt.Errorf("%s: a record without a cluster name", path)
	}
	return r, nil
}

// writeRecord writes r to path atomically (a temporary file, synced,
// renamed over the old one), so that a kdp killed mid-write leaves the old
// record or the new one.
func writeRecord(path string, r *Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	// The cluster's directory is Create's to make: a write after a
	// deletion removed it fails rather than bring it back.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".cluster-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// isNotExist reports whether err says a file is absent.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// now is time.Now in the records' precision (EKS's timestamps have
// milliseconds).
func now(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

// clone is a deep copy of r, through its JSON (records are small, and
// written as JSON anyway).
func clone(r *Record) *Record {
	data, err := json.Marshal(r)
	if err != nil {
		panic(err) // a Record always marshals
	}
	out := &Record{}
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}
