package store

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCommitIsKeptAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud", "state.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Errorf("a second open: %v", err)
	}
	var b Batch
	b.Put("things", []byte("a"), []byte("1"))
	b.Put("things", []byte("b"), []byte("2"))
	for n := uint64(1); n <= 3; n++ {
		b.Append("log", Uint64Key(n), []byte{byte(n)})
	}
	if err := s.Commit(&b); err != nil {
		t.Fatal(err)
	}
	var del Batch
	del.Delete("things", []byte("a"))
	del.Delete("things", []byte("missing"))
	if err := s.Commit(&del); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var things []string
	if err := s.Each("things", func(k, v []byte) error { things = append(things, string(k)+"="+string(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(things, ",") != "b=2" {
		t.Errorf("things %v", things)
	}
	var log []uint64
	if err := s.Range("log", Uint64Key(2), func(k, _ []byte) bool { log = append(log, KeyUint64(k)); return true }); err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0] != 2 || log[1] != 3 {
		t.Errorf("log from 2: %v", log)
	}
	if err := s.Each("nothing", func(_, _ []byte) error { t.Error("a missing bucket has records"); return nil }); err != nil {
		t.Fatal(err)
	}
}
