package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/session"
)

// sameSession compares records by instant: a store need not keep the
// location.
func sameSession(a, b session.Record) bool {
	return a.ID == b.ID && a.User == b.User && a.Created.Equal(b.Created) && a.LastSeen.Equal(b.LastSeen)
}

func testSessions(t *testing.T, s Store) {
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	open := func(id, user string, created int, limit session.Limit) ([]string, error) {
		t.Helper()
		return s.OpenSession(session.Record{ID: id, User: user, Created: at(created), LastSeen: at(created)}, limit)
	}
	live := session.Limit{Max: 2, ExpiredBefore: at(0)}

	// Up to Max per user; other users do not count.
	for i, id := range []string{"a1", "a2"} {
		if ended, err := open(id, "ann", 10+i, live); err != nil || len(ended) != 0 {
			t.Fatalf("open %s = %q, %v", id, ended, err)
		}
	}
	if _, err := open("b1", "bob", 10, live); err != nil {
		t.Fatal(err)
	}
	// At Max without force: ErrLimit, and nothing is stored.
	if ended, err := open("a3", "ann", 20, live); !errors.Is(err, session.ErrLimit) || ended != nil {
		t.Fatalf("third session without force = %q, %v; want ErrLimit", ended, err)
	}
	if _, ok, _ := s.GetSession("a3"); ok {
		t.Error("a refused session was stored")
	}
	// With force the oldest by creation ends. (Each session below is read
	// before it ends, so a store that caches what it read is held to
	// forgetting it.)
	if _, ok, _ := s.GetSession("a1"); !ok {
		t.Fatal("a1 is not stored")
	}
	force := live
	force.Force = true
	if ended, err := open("a3", "ann", 20, force); err != nil || !slices.Equal(ended, []string{"a1"}) {
		t.Fatalf("forced third session = %q, %v; want a1 ended", ended, err)
	}
	if _, ok, _ := s.GetSession("a1"); ok {
		t.Error("a1 survived a forced login")
	}
	// An id in use is refused.
	if _, err := open("b1", "bob", 21, live); err == nil || errors.Is(err, session.ErrLimit) {
		t.Errorf("reused id = %v", err)
	}

	// Get, Touch (forward only; absent is no error and creates nothing).
	if got, ok, err := s.GetSession("a2"); !ok || err != nil || !sameSession(got, session.Record{ID: "a2", User: "ann", Created: at(11), LastSeen: at(11)}) {
		t.Errorf("GetSession(a2) = %+v, %t, %v", got, ok, err)
	}
	if err := s.TouchSession("a2", at(30)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchSession("a2", at(25)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.GetSession("a2"); !got.LastSeen.Equal(at(30)) || !got.Created.Equal(at(11)) {
		t.Errorf("after touches a2 = %+v; want last seen 30 s, created 11 s", got)
	}
	if err := s.TouchSession("absent", at(30)); err != nil {
		t.Errorf("TouchSession(absent) = %v", err)
	}
	if _, ok, err := s.GetSession("absent"); ok || err != nil {
		t.Errorf("GetSession(absent) = %t, %v", ok, err)
	}

	// Expired sessions are deleted by the user's next login and not counted:
	// a3 (last seen 20 s) is expired at 25 s, a2 (30 s) is not.
	if _, ok, _ := s.GetSession("a3"); !ok {
		t.Fatal("a3 is not stored")
	}
	expiring := session.Limit{Max: 2, ExpiredBefore: at(25)}
	if ended, err := open("a4", "ann", 40, expiring); err != nil || !slices.Equal(ended, []string{"a3"}) {
		t.Fatalf("open with a3 expired = %q, %v; want a3 deleted", ended, err)
	}
	if _, ok, _ := s.GetSession("a3"); ok {
		t.Error("expired a3 is still stored")
	}
	if ended, err := open("a5", "ann", 41, expiring); !errors.Is(err, session.ErrLimit) {
		t.Errorf("a5 with a2 and a4 live = %q, %v; want ErrLimit", ended, err)
	}

	// Count and DeleteBefore: a2 at 30 s, a4 at 40 s, b1 at 10 s.
	for _, tc := range []struct {
		since int
		want  int
	}{{0, 3}, {10, 3}, {11, 2}, {40, 1}, {41, 0}} {
		if n, err := s.CountSessions(at(tc.since)); n != tc.want || err != nil {
			t.Errorf("CountSessions(%d s) = %d, %v; want %d", tc.since, n, err, tc.want)
		}
	}
	if _, ok, _ := s.GetSession("b1"); !ok {
		t.Fatal("b1 is not stored")
	}
	if n, err := s.DeleteSessionsBefore(at(30)); n != 1 || err != nil {
		t.Errorf("DeleteSessionsBefore(30 s) = %d, %v; want b1 only", n, err)
	}
	if _, ok, _ := s.GetSession("b1"); ok {
		t.Error("b1 survived DeleteSessionsBefore")
	}
	if err := s.DeleteSession("a2"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.GetSession("a2"); ok {
		t.Error("a2 survived DeleteSession")
	}
	if err := s.DeleteSession("absent"); err != nil {
		t.Errorf("DeleteSession(absent) = %v", err)
	}
	if n, _ := s.CountSessions(time.Time{}); n != 1 {
		t.Errorf("%d sessions left, want a4 only", n)
	}
}

// testOpenSessionConcurrent: logins racing for one user never pass the
// limit together, whether or not the store batches them.
func testOpenSessionConcurrent(t *testing.T, s Store) {
	const max, tries = 3, 40
	var wg sync.WaitGroup
	var opened, refused atomic.Int32
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.OpenSession(session.Record{ID: fmt.Sprintf("s%02d", i), User: "ann", Created: t0, LastSeen: t0}, session.Limit{Max: max})
			switch {
			case err == nil:
				opened.Add(1)
			case errors.Is(err, session.ErrLimit):
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if opened.Load() != max || refused.Load() != tries-max {
		t.Errorf("opened %d, refused %d; want %d and %d", opened.Load(), refused.Load(), max, tries-max)
	}
	if n, _ := s.CountSessions(time.Time{}); n != max {
		t.Errorf("%d sessions stored, want %d", n, max)
	}
}
