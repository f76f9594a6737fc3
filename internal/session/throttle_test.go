package session

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLogins: a user name is blocked after perUser failures, an address
// after perAddress (failures of many names), each until its oldest failure
// leaves the window; a success clears the user's count, not the address's;
// perUser 0 throttles nothing.
func TestLogins(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	l := NewLogins("", 2, 5, time.Minute, nil)
	l.SetClock(func() time.Time { return now })
	wait := func(user, addr string) time.Duration {
		t.Helper()
		d, err := l.RetryAfter(user, addr)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	fail := func(user, addr string) {
		t.Helper()
		if err := l.Fail(user, addr); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		fail("ann", "10.0.0.1")
	}
	if wait("ann", "10.0.0.2") != time.Minute {
		t.Error("ann is not blocked after 2 failures")
	}
	if d := wait("bob", "10.0.0.1"); d != 0 {
		t.Errorf("bob from the address of 2 failures waits %v", d)
	}
	now = now.Add(10 * time.Second)
	for _, user := range []string{"bob", "cy", "dee"} {
		fail(user, "10.0.0.1")
	}
	if d := wait("eve", "10.0.0.1"); d != time.Minute-10*time.Second {
		t.Errorf("eve from the address of 5 failures waits %v, want until its oldest failure leaves the window", d)
	}
	if err := l.Succeeded("ann"); err != nil {
		t.Fatal(err)
	}
	if d := wait("ann", "10.0.0.2"); d != 0 {
		t.Errorf("ann after a success waits %v", d)
	}
	if d := wait("ann", "10.0.0.1"); d == 0 {
		t.Error("a success cleared the address's failures")
	}

	off := NewLogins("", 0, 5, time.Minute, nil)
	for range 10 {
		if err := off.Fail("ann", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := off.RetryAfter("ann", "10.0.0.1"); d != 0 || err != nil {
		t.Errorf("throttling off: %v, %v", d, err)
	}
}

// TestLogins_BurstAndLongNames: wrong passwords sent at once are checked
// one at a time (Serialize), each after the failures of those before it,
// so no more than the limit reach the check; right ones sent at once are
// never counted; a user name of any length makes a short key.
func TestLogins_BurstAndLongNames(t *testing.T) {
	l := NewLogins("", 5, 50, time.Minute, nil)
	login := func(user string, right bool) bool {
		unlock := l.Serialize(user)
		defer unlock()
		if d, _ := l.RetryAfter(user, "10.0.0.1"); d > 0 {
			return false
		}
		time.Sleep(2 * time.Millisecond) // the password check
		if right {
			_ = l.Succeeded(user)
		} else {
			_ = l.Fail(user, "10.0.0.1")
		}
		return true
	}
	burst := func(user string, right bool) int32 {
		var checked atomic.Int32
		var wg sync.WaitGroup
		for range 45 {
			wg.Go(func() {
				if login(user, right) {
					checked.Add(1)
				}
			})
		}
		wg.Wait()
		return checked.Load()
	}
	if n := burst("ann", false); n != 5 {
		t.Errorf("%d of 45 wrong passwords sent at once reached the check, want 5", n)
	}
	if n := burst("bob", true); n != 45 {
		t.Errorf("%d of 45 right passwords sent at once were let in, want all", n)
	}
	long := strings.Repeat("é", 450_000)
	if key := l.userKey(long); len(key) > 100 || key == l.userKey(long+"x") {
		t.Errorf("the key of a 900 KB user name is %d bytes, or not its own", len(key))
	}
}
