package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/profile"
)

var t0 = time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)

func openTest(tb testing.TB) (*DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "data", "profiles.db")
	db, err := Open(path, Options{OpenTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

// holdCommitter occupies the committer with a call that blocks until the
// returned release is called, so the test can queue calls that then form
// one batch.
func holdCommitter(t *testing.T, db *DB) (release func()) {
	t.Helper()
	running, gate := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- db.Update(context.Background(), "", func(profile.Tx) error {
			once.Do(func() { close(running) })
			<-gate
			return nil
		})
	}()
	<-running
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// waitQueued waits until n calls wait in the committer's queue.
func waitQueued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(db.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", len(db.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func schemaOverlay(db *DB) ([]byte, error) {
	st, err := db.SchemaState(context.Background())
	return st.Overlay, err
}

// fillBucket writes n values of 3000 bytes into a bucket of the file's
// root, outside the profile layout: bulk for tests about pages.
func fillBucket(t *testing.T, db *DB, name string, n int) {
	t.Helper()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(name))
		if err != nil {
			return err
		}
		value := make([]byte, 3000)
		for i := range n {
			value[0], value[1] = byte(i), byte(i>>8)
			if err := b.Put([]byte{byte(i >> 16), byte(i >> 8), byte(i)}, value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
