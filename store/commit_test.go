package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/session"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/storetest"
)

func TestGroupCommit(t *testing.T) {
	db, _ := openTest(t)
	const calls = 64
	release := holdCommitter(t, db)
	var wg sync.WaitGroup
	results := make([]error, calls)
	for i := range calls {
		wg.Go(func() {
			results[i] = db.Update(t.Context(), "", func(tx profile.Tx) error {
				return tx.PutProfile(storetest.NewProfile(fmt.Sprintf("c%02d", i), 0, t0))
			})
		})
	}
	waitQueued(t, db, calls)
	release()
	wg.Wait()
	for i, err := range results {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if n, _ := db.ProfileCount(); n != calls {
		t.Errorf("%d profiles committed, want %d", n, calls)
	}
	// The held call, then all 64 in one commit.
	if s := db.Stats(); s.Commits != 2 || s.BatchedCalls != calls+1 {
		t.Errorf("Commits = %d, BatchedCalls = %d", s.Commits, s.BatchedCalls)
	}
}

// TestFailingCallInBatch: the failing call's writes, including the numeric
// id it allocated, vanish; the others commit together, as if it never ran.
func TestFailingCallInBatch(t *testing.T) {
	db, _ := openTest(t)
	const calls = 9
	release := holdCommitter(t, db)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	results := make([]error, calls)
	for i := range calls {
		wg.Go(func() {
			results[i] = db.Update(t.Context(), "", func(tx profile.Tx) error {
				num, err := tx.NextNum()
				if err != nil {
					return err
				}
				if err := tx.PutProfile(storetest.NewProfile(fmt.Sprintf("c%d", i), num, t0)); err != nil {
					return err
				}
				if i == 4 {
					return boom
				}
				return nil
			})
		})
		if i == 0 {
			waitQueued(t, db, 1) // so the failing call is not first
		}
	}
	waitQueued(t, db, calls)
	release()
	wg.Wait()

	for i, err := range results {
		if i == 4 && !errors.Is(err, boom) || i != 4 && err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	var nums []uint64
	storetest.MustView(t, db, "", func(tx profile.Tx) error {
		if p, _ := tx.Profile("c4"); p != nil {
			t.Error("the failed call's profile was committed")
		}
		return tx.ForEachProfile(func(p *profile.Profile) error {
			nums = append(nums, p.Num)
			return nil
		})
	})
	slices.Sort(nums)
	if !slices.Equal(nums, []uint64{1, 2, 3, 4, 5, 6, 7, 8}) {
		t.Errorf("nums = %v, want 1..8", nums)
	}
	if s := db.Stats(); s.Commits != 2 || s.BatchedCalls != calls {
		t.Errorf("Commits = %d, BatchedCalls = %d", s.Commits, s.BatchedCalls)
	}
}

func TestPanicInUpdate(t *testing.T) {
	db, _ := openTest(t)
	release := holdCommitter(t, db)
	panicked, good := make(chan error, 1), make(chan error, 1)
	go func() {
		panicked <- db.Update(t.Context(), "", func(tx profile.Tx) error {
			_ = tx.PutProfile(storetest.NewProfile("bad", 0, t0))
			panic("oops")
		})
	}()
	waitQueued(t, db, 1)
	go func() {
		good <- db.Update(t.Context(), "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("good", 0, t0)) })
	}()
	waitQueued(t, db, 2)
	release()

	err := <-panicked
	if err == nil || errs.KindOf(err) != errs.KindInternal || !strings.Contains(err.Error(), "oops") {
		t.Errorf("panicking update = %v", err)
	}
	if err := <-good; err != nil {
		t.Errorf("update batched with a panic = %v", err)
	}
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("after", 0, t0)) })
	storetest.MustView(t, db, "", func(tx profile.Tx) error {
		for id, want := range map[string]bool{"bad": false, "good": true, "after": true} {
			if p, _ := tx.Profile(id); (p != nil) != want {
				t.Errorf("profile %s present = %v", id, p != nil)
			}
		}
		return nil
	})
}

func TestContextDoneBeforeRun(t *testing.T) {
	db, _ := openTest(t)
	var ran atomic.Bool
	fn := func(profile.Tx) error { ran.Store(true); return nil }

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.Update(ctx, "", fn); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a done ctx = %v", err)
	}

	// Cancelled while queued.
	ctx, cancel = context.WithCancel(t.Context())
	release := holdCommitter(t, db)
	done := make(chan error, 1)
	go func() { done <- db.Update(ctx, "", fn) }()
	waitQueued(t, db, 1)
	cancel()
	release()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Update cancelled in the queue = %v", err)
	}
	if ran.Load() {
		t.Error("fn of a cancelled call ran")
	}
}

func TestCommitFault(t *testing.T) {
	db, _ := openTest(t)
	db.failCommit = func() error { return errors.New("input/output error") }
	err := db.Update(t.Context(), "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("lost", 0, t0)) })
	if e := errs.As(err); e == nil || e.Kind != errs.KindUnavailable || e.Code != CodeUnavailable {
		t.Fatalf("Update during a fault = %v", err)
	}
	if _, err := db.OpenSession(session.Record{ID: "s", User: "ann", Created: t0, LastSeen: t0}, session.Limit{Max: 1}); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("OpenSession during a fault = %v", err)
	}

	db.failCommit = nil
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("kept", 0, t0)) })
	storetest.MustView(t, db, "", func(tx profile.Tx) error {
		if p, _ := tx.Profile("lost"); p != nil {
			t.Error("a failed commit's profile is readable")
		}
		if p, _ := tx.Profile("kept"); p == nil {
			t.Error("write after the fault cleared is missing")
		}
		return nil
	})
}

// TestCloseDrains: Close commits what was queued and refuses the rest; an
// acknowledged write survives reopening.
func TestCloseDrains(t *testing.T) {
	db, path := openTest(t)
	const calls = 100
	var wg sync.WaitGroup
	results := make([]error, calls)
	for i := range calls {
		wg.Go(func() {
			results[i] = db.Update(context.Background(), "", func(tx profile.Tx) error {
				return tx.PutProfile(storetest.NewProfile(fmt.Sprintf("c%d", i), 0, t0))
			})
		})
	}
	time.Sleep(time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := db.Update(t.Context(), "", func(profile.Tx) error { return nil }); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("Update after Close = %v", err)
	}
	if err := db.View(t.Context(), "", func(profile.Tx) error { return nil }); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("View after Close = %v", err)
	}
	if err := db.Ping(); err == nil {
		t.Error("Ping after Close succeeded")
	}

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.MustView(t, db, "", func(tx profile.Tx) error {
		for i, err := range results {
			p, _ := tx.Profile(fmt.Sprintf("c%d", i))
			switch {
			case err == nil && p == nil:
				t.Errorf("acknowledged write %d lost", i)
			case err != nil && errs.KindOf(err) != errs.KindUnavailable:
				t.Errorf("call %d: %v", i, err)
			}
		}
		return nil
	})
}
