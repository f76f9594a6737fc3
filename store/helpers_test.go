package store

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

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

func mustUpdate(tb testing.TB, db *DB, tenant string, fn func(profile.Tx) error) {
	tb.Helper()
	if err := db.Update(context.Background(), tenant, fn); err != nil {
		tb.Fatal(err)
	}
}

func mustView(tb testing.TB, db *DB, tenant string, fn func(profile.Tx) error) {
	tb.Helper()
	if err := db.View(context.Background(), tenant, fn); err != nil {
		tb.Fatal(err)
	}
}

func newProfile(id string, num uint64, created time.Time) *profile.Profile {
	return &profile.Profile{ID: id, Num: num, Created: created, Updated: created, Rev: 1,
		Attributes: map[string]any{"name": id}}
}

// scan collects the ids a scan reports.
func scan(tb testing.TB, run func(fn func(id string) bool) error) []string {
	tb.Helper()
	ids := []string{}
	if err := run(func(id string) bool { ids = append(ids, id); return true }); err != nil {
		tb.Fatal(err)
	}
	return ids
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
