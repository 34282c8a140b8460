package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// FuzzOpen writes arbitrary bytes as a spool file: Open must return an
// error or a working spool, never panic, and never change the file when
// it refuses it.
func FuzzOpen(f *testing.F) {
	// Seed: a real spool with two records, and mutilations of it.
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Append([]byte("one"), []byte("two")); err != nil {
		f.Fatal(err)
	}
	s.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:4096])  // first meta page only
	f.Add(good[:8192])  // both meta pages, no data
	f.Add(good[:12288]) // no root page
	flipped := append([]byte{}, good...)
	flipped[3*4096+20] ^= 0xff // damage a data page
	f.Add(flipped)
	f.Add([]byte{})
	f.Add([]byte("not a spool"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, Options{NoSync: true})
		if err != nil {
			if len(b) > 0 {
				after, _ := os.ReadFile(path)
				if string(after) != string(b) {
					t.Fatalf("Open changed a file it refused: %v", err)
				}
			}
			return
		}
		defer s.Close()
		// A file that opens must work, or fail with errors, not panics.
		if _, err := s.Next(0, 10); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Logf("Next on accepted file: %v", err)
		}
		_, _ = s.Append([]byte("x"))
		_ = s.Delete(1, 2, 3)
	})
}

// FuzzMeta feeds arbitrary meta values: getState must accept exactly the
// 8-byte values and decode them big-endian.
func FuzzMeta(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 42}) // 8 bytes: counter 42
	f.Add([]byte{1, 2, 3})                 // too short
	f.Add(make([]byte, 9))                 // too long
	f.Fuzz(func(t *testing.T, v []byte) {
		db, err := bolt.Open(filepath.Join(t.TempDir(), "m.db"), 0o600, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		err = db.Update(func(tx *bolt.Tx) error {
			mb, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := putState(mb, &state{lastSeq: 1, records: 2}); err != nil {
				return err
			}
			if err := mb.Put(keyBytes, v); err != nil {
				return err
			}
			st, err := getState(mb)
			if len(v) != 8 {
				if err == nil {
					t.Fatalf("meta value of %d bytes accepted", len(v))
				}
				return nil
			}
			if err != nil || st.bytes != binary.BigEndian.Uint64(v) || st.lastSeq != 1 || st.records != 2 {
				t.Fatalf("getState = %+v, %v for %x", st, err, v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzJournal feeds arbitrary journal slots: a slot that decodes
// re-encodes to itself.
func FuzzJournal(f *testing.F) {
	j := journal{id: []byte("abcdefgh"), gen: 3, hw: 10, held: loss{count: 2, firstSeq: 5, lastSeq: 6}}
	f.Add(j.marshal())
	f.Add(make([]byte, journalBody+4))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := unmarshalJournal(b)
		if err != nil {
			return
		}
		if again := got.marshal(); !bytes.Equal(again, b[:journalBody+4]) {
			t.Fatalf("slot %x decodes but re-encodes as %x", b, again)
		}
	})
}
