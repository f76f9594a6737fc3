package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bbolt never changes a page in place: a write copies each page it
// changes and frees the old copy, which keeps its bytes until the page is
// used again. So a deleted value (an erased customer's e-mail) lives on in
// free pages, and a hot backup copies them. ScrubFreePages overwrites
// every free page with zeros.
//
// A freed page is safe to overwrite only when no read transaction can
// still reach it: bbolt keeps pages freed by recent commits "pending"
// while older readers run, and its API does not tell free from pending.
// readerGenerations gives the answer from outside: when every open reader
// began after the last commit, each sees the newest tree, which reaches
// no free or pending page. The scrub runs in the committer, between
// commits, and only then; otherwise it is tried again shortly.

// readerGenerations counts open read transactions by the number of
// commits made before each began.
type readerGenerations struct {
	mu   sync.Mutex
	gen  uint64         // commits so far
	open map[uint64]int // open readers by the gen they began in
}

// begin is called before a read transaction begins; end with its result
// after it ends. A reader counted before a commit that it then follows is
// only counted as older than it is, which delays a scrub, never harms one.
func (r *readerGenerations) begin() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open == nil {
		r.open = map[uint64]int{}
	}
	r.open[r.gen]++
	return r.gen
}

func (r *readerGenerations) end(gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.open[gen]--; r.open[gen] == 0 {
		delete(r.open, gen)
	}
}

// committed is called by the committer after each commit.
func (r *readerGenerations) committed() {
	r.mu.Lock()
	r.gen++
	r.mu.Unlock()
}

// allCurrent reports whether every open reader began after the last commit.
func (r *readerGenerations) allCurrent() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for gen := range r.open {
		if gen != r.gen {
			return false
		}
	}
	return true
}

// errReadersBehind: a reader that began before the last commit is open.
var errReadersBehind = errors.New("a read transaction older than the last commit is open")

// scrubRetry is how long ScrubFreePages waits before trying again while
// older readers are open; scrubHold is how long the committer itself
// waits for them, holding back commits so that no reader becomes older
// meanwhile (read transactions last milliseconds; a hot backup as long
// as the copy, which outlasts the hold and is waited for by retrying).
const (
	scrubRetry = 20 * time.Millisecond
	scrubHold  = 100 * time.Millisecond
)

// ScrubFreePages overwrites every free page of the data file with zeros
// and syncs it, so that no deleted value survives in the file's bytes. It
// waits while older read transactions are open, until ctx ends. It returns
// how many pages it overwrote.
//
// The pages to look at are found first, a slice of the file at a time
// between commits (freePages); the committer then checks each is still
// free and overwrites it. A page freed after that look was live after the
// caller's delete, so it holds none of what was deleted.
func (db *DB) ScrubFreePages(ctx context.Context) (int, error) {
	candidates, err := db.freePages(ctx)
	if err != nil {
		return 0, err
	}
	// Pages a scrub zeroed before and nothing wrote since need no second
	// write: a start scrubs every free page (an erase's own scrub may have
	// been cut off), and rewriting and syncing them all, in the committer,
	// held writes up for half a second per 50 MiB of free pages at every
	// start. Reading them costs no commit.
	if candidates, err = db.notZeroed(candidates); err != nil || len(candidates) == 0 {
		return 0, err
	}
	for {
		var pages int
		err := db.updateAlone(ctx, func() (bool, error) {
			var err error
			pages, err = db.scrub(candidates)
			return err == nil, err
		})
		if !errors.Is(err, errReadersBehind) {
			return pages, err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("store: free pages not scrubbed: %w (%w)", errReadersBehind, ctx.Err())
		case <-time.After(scrubRetry):
		}
	}
}

// notZeroed keeps the pages of ids whose bytes are not all zero. A page
// zeroed and then reused and freed again between this read and the scrub
// holds data written after the caller's delete, none of what it deleted.
func (db *DB) notZeroed(ids []int) ([]int, error) {
	f, err := os.Open(db.bolt.Path())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	page := make([]byte, db.bolt.Info().PageSize)
	kept := ids[:0]
	for _, id := range ids {
		if _, err := f.ReadAt(page, int64(id)*int64(len(page))); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(page, func(b byte) bool { return b != 0 }) {
			kept = append(kept, id)
		}
	}
	return kept, nil
}

// scanSlice is how many pages one turn of freePages looks at: a page costs
// up to a microsecond (a TLB miss on a large file), so a turn holds
// commits back for a few milliseconds at most.
var scanSlice = 8192 // a variable for tests

// freePages lists the pages bbolt reports free (or pending). Whether a
// page is free is read from bbolt's freelist, which only the writer may
// read while commits run (Tx.Page in a read transaction beside the
// committer crashed the process: concurrent map read and map write). So
// the look runs in the committer, between commits, a slice of the file per
// turn, so that writes are not held up for a scan of the whole file.
func (db *DB) freePages(ctx context.Context) ([]int, error) {
	var ids []int
	for next := 2; next > 0; { // pages 0 and 1 are the meta pages; 0: the end
		err := db.updateAlone(ctx, func() (bool, error) {
			return false, db.bolt.View(func(btx *bolt.Tx) error {
				var err error
				ids, next, err = scanPages(btx, ids, next, scanSlice)
				return err
			})
		})
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// scanPages appends to ids the free pages among the n pages from id on,
// and returns where to go on (0 at the high-water mark). Each page is
// asked for alone, overflow pages too: commits between two turns may have
// begun a value's run of pages where the last turn ended, so a page
// header read there could be a value's bytes, and skipping by it could
// pass over free pages. Whether a page is free comes from the freelist,
// never from its header.
func scanPages(btx *bolt.Tx, ids []int, id, n int) ([]int, int, error) {
	for end := id + n; id < end; id++ {
		info, err := btx.Page(id)
		if err != nil || info == nil { // nil: the high-water mark
			return ids, 0, err
		}
		if info.Type == "free" {
			ids = append(ids, id)
		}
	}
	return ids, id, nil
}

// scrub runs in the committer, in a write transaction of its own: the
// pages bbolt reports free at its start were freed by earlier commits, and
// nothing in this transaction frees more before the zeros are on disk.
func (db *DB) scrub(candidates []int) (pages int, err error) {
	for wait := time.Now(); !db.readers.allCurrent(); time.Sleep(time.Millisecond) {
		if time.Since(wait) > scrubHold {
			return 0, errReadersBehind
		}
	}
	err = db.bolt.Update(func(btx *bolt.Tx) error {
		if !db.readers.allCurrent() { // no commit happened since, but be sure
			return errReadersBehind
		}
		f, err := os.OpenFile(db.bolt.Path(), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		pageSize := int64(db.bolt.Info().PageSize)
		var zeros []byte
		run, runStart := 0, 0 // free pages in a row, written at once
		flush := func() error {
			if run == 0 {
				return nil
			}
			if need := int64(run) * pageSize; int64(len(zeros)) < need {
				zeros = make([]byte, need)
			}
			_, err := f.WriteAt(zeros[:int64(run)*pageSize], int64(runStart)*pageSize)
			if err == nil {
				pages += run
			}
			run = 0
			return err
		}
		for _, id := range candidates {
			info, err := btx.Page(id)
			if err != nil {
				return err
			}
			if info == nil || info.Type != "free" { // reused since the look
				if err := flush(); err != nil {
					return err
				}
				continue
			}
			if run > 0 && id != runStart+run {
				if err := flush(); err != nil {
					return err
				}
			}
			if run == 0 {
				runStart = id
			}
			run++
		}
		if err := flush(); err != nil {
			return err
		}
		return f.Sync()
	})
	return pages, err
}
