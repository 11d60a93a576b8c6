// Package store keeps the simulated cloud's state on disk: one bbolt file
// of buckets of records, written a batch at a time. A batch is one bbolt
// transaction, synced to disk before Commit returns, so what a batch wrote
// is durable once the cloud acknowledges it, and a crash loses only batches
// that were never acknowledged.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Store is an open state file.
type Store struct {
	db *bolt.DB
}

// Open opens (or creates) the state file at path. It fails at once if
// another process holds it.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: 100 * time.Millisecond,
		// The free list is rebuilt at open rather than written with every
		// commit: commits are the hot path, opens are rare.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s is in use by another process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the file's path.
func (s *Store) Path() string { return s.db.Path() }

// Size is the file's size in bytes.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

// Each calls fn with every record of a bucket, in key order.
func (s *Store) Each(bucket string, fn func(key, value []byte) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		return b.ForEach(fn)
	})
}

// Range calls fn with the records of a bucket whose keys are from from on,
// in key order, until fn returns false.
func (s *Store) Range(bucket string, from []byte, fn func(key, value []byte) bool) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(from); k != nil; k, v = c.Next() {
			if !fn(k, v) {
				return nil
			}
		}
		return nil
	})
}

// Batch is what one Commit writes: records put and deleted, by bucket.
type Batch struct {
	ops []op
}

type op struct {
	bucket string
	key    []byte
	value  []byte // nil deletes
	append bool   // keys only grow in this bucket: pack its pages full
}

// Put writes a record.
func (b *Batch) Put(bucket string, key, value []byte) {
	b.ops = append(b.ops, op{bucket: bucket, key: key, value: value})
}

// Append writes a record to a bucket whose keys only grow (a log), so its
// pages can be packed full.
func (b *Batch) Append(bucket string, key, value []byte) {
	b.ops = append(b.ops, op{bucket: bucket, key: key, value: value, append: true})
}

// Delete removes a record; a missing one is not an error.
func (b *Batch) Delete(bucket string, key []byte) {
	b.ops = append(b.ops, op{bucket: bucket, key: key})
}

// Len is how many writes the batch holds.
func (b *Batch) Len() int { return len(b.ops) }

// Commit writes the batch in one transaction and syncs it to disk.
func (s *Store) Commit(b *Batch) error {
	if b.Len() == 0 {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		buckets := map[string]*bolt.Bucket{}
		for _, o := range b.ops {
			bk := buckets[o.bucket]
			if bk == nil {
				var err error
				if bk, err = tx.CreateBucketIfNotExists([]byte(o.bucket)); err != nil {
					return err
				}
				buckets[o.bucket] = bk
			}
			if o.append {
				bk.FillPercent = 1
			}
			var err error
			if o.value == nil {
				err = bk.Delete(o.key)
			} else {
				err = bk.Put(o.key, o.value)
			}
			if err != nil {
				return fmt.Errorf("%s/%s: %w", o.bucket, o.key, err)
			}
		}
		return nil
	})
}

// Uint64Key is the key of a sequence number: big-endian, so keys sort as
// numbers.
func Uint64Key(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}

// KeyUint64 reads a key written by Uint64Key.
func KeyUint64(k []byte) uint64 { return binary.BigEndian.Uint64(k) }
