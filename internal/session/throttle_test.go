package session

import (
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
	for range 2 {
		if err := l.Fail("ann", "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	if wait("ann", "10.0.0.2") != time.Minute {
		t.Error("ann is not blocked after 2 failures")
	}
	if d := wait("bob", "10.0.0.1"); d != 0 {
		t.Errorf("bob from the address of 2 failures waits %v", d)
	}
	now = now.Add(10 * time.Second)
	for _, user := range []string{"bob", "cy", "dee"} {
		if err := l.Fail(user, "10.0.0.1"); err != nil {
			t.Fatal(err)
		}
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
