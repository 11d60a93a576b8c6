package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Ids come from the cloud's seed and a counter, both kept in its store: the
// same seed and the same requests give the same ids, and no id is given
// twice, across restarts too.

// id returns the next id: prefix and n hex digits (EC2's ids: i- and 17).
func (tx *txn) id(prefix string, n int) string {
	return prefix + hex.EncodeToString(tx.nextHash())[:n]
}

// uuid returns the next id in the form of a UUID (activities, lifecycle
// action tokens).
func (tx *txn) uuid() string { return formatUUID(tx.nextHash()) }

func (tx *txn) nextHash() []byte {
	m := &tx.c.st.meta
	m.IDs++
	tx.putMeta()
	return seeded(m.Seed, "id", m.IDs)
}

func seeded(seed uint64, kind string, n uint64) []byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], n)
	h := sha256.Sum256(append(b[:], kind...))
	return h[:]
}

func formatUUID(h []byte) string {
	s := hex.EncodeToString(h[:16])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
