package session

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// keys is the number of keys tracked.
func (m *MemoryFailures) keys() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byKey)
}

func TestMemoryFailures(t *testing.T) {
	m := NewMemoryFailures()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for s := range 5 {
		if err := m.AddFailure([]string{"user:ann", "addr:1"}, at(s), at(s-60)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.RecentFailures("user:ann", at(1), 3)
	if err != nil || !slices.Equal(got, []time.Time{at(4), at(3), at(2)}) {
		t.Errorf("RecentFailures(limit 3) = %v, %v; want newest first", got, err)
	}
	if got, _ := m.RecentFailures("user:ann", at(3), 10); !slices.Equal(got, []time.Time{at(4), at(3)}) {
		t.Errorf("RecentFailures(since 3) = %v; want those at or after since", got)
	}
	if got, _ := m.RecentFailures("nobody", at(0), 10); len(got) != 0 {
		t.Errorf("unknown key = %v", got)
	}

	// A failure out of order (a caller with an earlier clock) still sorts.
	m.AddFailure([]string{"addr:1"}, at(2).Add(time.Millisecond), at(-60))
	if got, _ := m.RecentFailures("addr:1", at(0), 10); !slices.IsSortedFunc(got, func(a, b time.Time) int { return b.Compare(a) }) || len(got) != 6 {
		t.Errorf("after an out-of-order failure = %v", got)
	}

	// forgetBefore drops the key's old failures.
	m.AddFailure([]string{"user:ann"}, at(100), at(3))
	if got, _ := m.RecentFailures("user:ann", time.Time{}, 10); !slices.Equal(got, []time.Time{at(100), at(4), at(3)}) {
		t.Errorf("after forgetting before 3 = %v", got)
	}

	if err := m.ClearFailures("user:ann"); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.RecentFailures("user:ann", time.Time{}, 10); len(got) != 0 {
		t.Errorf("after ClearFailures = %v", got)
	}
	if got, _ := m.RecentFailures("addr:1", time.Time{}, 10); len(got) != 6 {
		t.Errorf("ClearFailures touched another key: %v", got)
	}
}

func TestMemoryFailuresSweep(t *testing.T) {
	m := NewMemoryFailures()
	t0 := time.Now()
	for i := range memorySweepAt + 1 {
		m.AddFailure([]string{fmt.Sprintf("user:u%d", i)}, t0, t0.Add(-time.Minute))
	}
	if n := m.keys(); n != memorySweepAt+1 {
		t.Fatalf("keys = %d before the window passed", n)
	}
	later := t0.Add(2 * time.Minute)
	m.AddFailure([]string{"user:late"}, later, later.Add(-time.Minute))
	if n := m.keys(); n != 1 {
		t.Errorf("keys = %d after the sweep, want only the fresh one", n)
	}
}

func TestMemoryFailuresConcurrent(t *testing.T) {
	m := NewMemoryFailures()
	t0 := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				m.AddFailure([]string{"addr:shared"}, t0.Add(time.Duration(g*100+i)), t0.Add(-time.Hour))
				m.RecentFailures("addr:shared", t0, 5)
			}
		}()
	}
	wg.Wait()
	if got, _ := m.RecentFailures("addr:shared", t0, 1000); len(got) != 800 {
		t.Errorf("%d failures recorded, want 800", len(got))
	}
}
