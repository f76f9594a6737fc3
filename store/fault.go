package store

import (
	"context"
	"errors"

	bolt "go.etcd.io/bbolt"
)

// errHookInstalled makes the call that installs a commit fault leave the
// batch it ran in: the committer rolls it back and re-runs the others.
var errHookInstalled = errors.New("store: commit fault hook installed")

// InjectCommitFault makes every commit from now on call f first and fail
// with its error when it returns one (the store answers those writes as
// unavailable, 503); nil clears the fault. It is the fault-injection hook
// for tests of disk faults and is safe while writes are in flight: the
// hook is installed by the committer goroutine itself, the only reader of
// it, so there is no data race and no write is half affected. Writes
// committed after InjectCommitFault returns see the new hook. It fails only
// when the store is closed.
func (db *DB) InjectCommitFault(f func() error) error {
	err := db.update(context.Background(), func(*bolt.Tx) error {
		db.failCommit = f
		return errHookInstalled
	})
	if errors.Is(err, errHookInstalled) {
		return nil
	}
	return err
}
