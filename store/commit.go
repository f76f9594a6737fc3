package store

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/errs"
)

// maxBatch bounds the calls one commit carries, so a rolled-back batch
// re-runs a bounded amount of work; it is also the queue's capacity.
const maxBatch = 256

// call is one queued write.
type call struct {
	ctx  context.Context
	fn   func(*bolt.Tx) error
	done chan error // buffered, so the committer never blocks on a caller
	// alone, instead of fn, runs outside any batch, after the calls
	// queued before it have committed (ScrubFreePages); it reports
	// whether it committed.
	alone func() (committed bool, err error)
}

// update queues fn for the committer and waits for its outcome. Once
// queued the call is always answered, so a caller never has to guess
// whether its write was committed.
func (db *DB) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	return db.enqueue(ctx, &call{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// updateAlone runs fn in the committer between batches, so that no commit
// happens while it runs.
func (db *DB) updateAlone(ctx context.Context, fn func() (committed bool, err error)) error {
	return db.enqueue(ctx, &call{ctx: ctx, alone: fn, done: make(chan error, 1)})
}

func (db *DB) enqueue(ctx context.Context, c *call) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return errClosed
	}
	select {
	case db.queue <- c:
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	db.mu.RUnlock()
	return <-c.done
}

// commitLoop is the single writer. It takes the first waiting call and
// every call queued behind it, so an idle store commits at once and a busy
// one shares each fsync among many writes, without any timer.
func (db *DB) commitLoop() {
	defer close(db.stopped)
	batch := make([]*call, 0, maxBatch)
	for first := range db.queue {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case c, ok := <-db.queue:
				if !ok {
					break drain
				}
				batch = append(batch, c)
			default:
				break drain
			}
		}
		// Calls that run alone go after the batch they were queued in.
		var alone []*call
		batch = slices.DeleteFunc(batch, func(c *call) bool {
			if c.alone != nil {
				alone = append(alone, c)
				return true
			}
			return false
		})
		db.runBatch(batch)
		for _, c := range alone {
			c.done <- db.runAlone(c)
		}
		clear(batch[:cap(batch)]) // drop references to finished calls
	}
}

// runBatch runs calls in one transaction and commits once. A call that
// fails is answered with its error and the rest re-run without it on a
// fresh transaction, in the same order, so they see the state they saw
// before and none of the failed call's writes.
func (db *DB) runBatch(calls []*call) {
	for {
		calls = slices.DeleteFunc(calls, func(c *call) bool {
			if err := c.ctx.Err(); err != nil {
				c.done <- err
				return true
			}
			return false
		})
		if len(calls) == 0 {
			return
		}
		if db.lostPages != nil {
			answer(calls, db.lostPages)
			return
		}
		btx, err := db.bolt.Begin(true)
		if err != nil {
			answer(calls, unavailable("the profile store cannot write right now", err))
			return
		}
		failed := -1
		for i, c := range calls {
			if err := run(c, btx); err != nil {
				failed = i
				c.done <- err
				break
			}
		}
		if failed >= 0 {
			_ = btx.Rollback()
			calls = slices.Delete(calls, failed, failed+1)
			continue
		}
		if err := db.commit(btx); err != nil {
			if errs.Is(err, errs.KindCorrupt) {
				// A damaged page that the commit reached (merging a
				// page into its sibling): of several calls, each
				// commits alone, so that only those reaching it fail.
				if len(calls) == 1 {
					answer(calls, err)
					return
				}
				for _, c := range calls {
					db.runBatch([]*call{c})
				}
				return
			}
			// The service recovers by itself once the fault clears: the
			// committer carries on with the next batch.
			answer(calls, unavailable("the profile store cannot write right now", err))
			return
		}
		db.readers.committed()
		db.commits.Add(1)
		db.batchedCalls.Add(uint64(len(calls)))
		answer(calls, nil)
		return
	}
}

// commit commits btx, or rolls it back when it fails: a page bbolt cannot
// read ends it with the corrupt error, and the committer carries on. A
// panic after the commit allocated pages (writing nodes out, the freelist)
// leaves bbolt's freelist in memory without them: its public Rollback
// drops them rather than reload the freelist from the file, as its own
// failed commits do. The next commit would write that freelist, and the
// file would keep pages neither used nor free for good; so no later write
// commits (lostPages) until a restart reads the freelist from the file,
// which is the last commit's and sound.
func (db *DB) commit(btx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if err = damageOf(r); err == nil {
				panic(r)
			}
			stats := btx.Stats()
			allocated := stats.GetPageCount() > 0
			_ = btx.Rollback() // nothing is written before the meta page, the commit's last write
			if allocated {
				db.lostPages = err
			}
		}
	}()
	if db.failCommit != nil {
		if err := db.failCommit(); err != nil {
			_ = btx.Rollback()
			return err
		}
	}
	return btx.Commit()
}

// runAlone runs an alone call, with its panic turned into its error.
func (db *DB) runAlone(c *call) (err error) {
	if db.lostPages != nil { // a scrub commits the freelist in memory too
		return db.lostPages
	}
	defer func() {
		if r := recover(); r != nil {
			err = panicked(r)
		}
	}()
	committed, err := c.alone()
	if committed {
		db.readers.committed()
	}
	return err
}

// run calls c.fn, turning a panic into an error for its caller alone: the
// committer and the other calls of the batch carry on.
func run(c *call, btx *bolt.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicked(r)
		}
	}()
	return c.fn(btx)
}

// panicked is the error of a panic an update recovered: corrupt when bbolt
// raised it reading a page, otherwise internal, with the stack. Call it
// from the deferred function that recovered r.
func panicked(r any) error {
	if err := damageOf(r); err != nil {
		return err
	}
	return fmt.Errorf("store: update panicked: %v\n%s", r, debug.Stack())
}

func answer(calls []*call, err error) {
	for _, c := range calls {
		c.done <- err
	}
}
