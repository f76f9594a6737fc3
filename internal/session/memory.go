package session

import (
	"slices"
	"sync"
	"time"
)

// memorySweepAt is the number of tracked keys above which AddFailure also
// drops every key whose failures are all older than forgetBefore, bounding
// memory when an attacker cycles user names or addresses.
const memorySweepAt = 4096

// MemoryFailures is a FailureLog in this process's memory: right for a
// store only one process uses (the bbolt file), and lost on restart. It is
// safe for concurrent use.
//
// Each key keeps only its failures at or after the last forgetBefore it was
// given, so a key holds no more than the failures of one window; the login
// throttle records no failure for a blocked key, which keeps that near the
// throttle's maximum.
type MemoryFailures struct {
	mu    sync.Mutex
	byKey map[string][]time.Time // oldest first
}

var _ FailureLog = (*MemoryFailures)(nil)

// NewMemoryFailures returns an empty in-memory failure log.
func NewMemoryFailures() *MemoryFailures {
	return &MemoryFailures{byKey: map[string][]time.Time{}}
}

// AddFailure records a failure at `at` under every key and forgets the
// keys' failures older than forgetBefore (every key's, above
// memorySweepAt keys). It never fails.
func (m *MemoryFailures) AddFailure(keys []string, at, forgetBefore time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.byKey) > memorySweepAt {
		for k, ts := range m.byKey {
			if len(ts) == 0 || ts[len(ts)-1].Before(forgetBefore) {
				delete(m.byKey, k)
			}
		}
	}
	for _, k := range keys {
		ts := m.byKey[k]
		i := 0
		for i < len(ts) && ts[i].Before(forgetBefore) {
			i++
		}
		// Clip so append copies: the forgotten head is not kept alive.
		ts = append(slices.Clip(ts[i:]), at)
		if n := len(ts); n > 1 && at.Before(ts[n-2]) { // a caller with an earlier clock
			slices.SortFunc(ts, time.Time.Compare)
		}
		m.byKey[k] = ts
	}
	return nil
}

// RecentFailures returns up to limit of key's failures at or after since,
// newest first. It never fails.
func (m *MemoryFailures) RecentFailures(key string, since time.Time, limit int) ([]time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.byKey[key]
	var out []time.Time
	for i := len(ts) - 1; i >= 0 && len(out) < limit && !ts[i].Before(since); i-- {
		out = append(out, ts[i])
	}
	return out, nil
}

// ClearFailures forgets key's failures. It never fails.
func (m *MemoryFailures) ClearFailures(key string) error {
	m.mu.Lock()
	delete(m.byKey, key)
	m.mu.Unlock()
	return nil
}
