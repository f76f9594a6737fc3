package egain

import (
	"sync"
	"time"
)

// throttleSweepAt is the number of tracked keys above which a failure also
// drops keys whose failures have all left the window, bounding memory when
// an attacker cycles user names or addresses.
const throttleSweepAt = 4096

// throttle counts failed logins per key (a user name or a client address)
// in a sliding window. A key with max failures in the window is blocked
// until the oldest of them leaves it, so it recovers by itself.
type throttle struct {
	max    int // 0 disables throttling
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

func newThrottle(maxFailures int, window time.Duration) *throttle {
	return &throttle{max: maxFailures, window: window, now: time.Now, fails: map[string][]time.Time{}}
}

// recent returns key's failures inside the window; callers hold mu.
func (t *throttle) recent(key string, now time.Time) []time.Time {
	ts := t.fails[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= t.window {
		i++
	}
	return ts[i:]
}

// retryAfter returns how long the first blocked key stays blocked, 0 when
// none is.
func (t *throttle) retryAfter(keys ...string) time.Duration {
	if t.max <= 0 {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		if ts := t.recent(k, now); len(ts) >= t.max {
			wait = max(wait, t.window-now.Sub(ts[len(ts)-t.max]))
		}
	}
	return wait
}

// fail records a failed attempt under every key.
func (t *throttle) fail(keys ...string) {
	if t.max <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.fails) > throttleSweepAt {
		for k := range t.fails {
			if len(t.recent(k, now)) == 0 {
				delete(t.fails, k)
			}
		}
	}
	for _, k := range keys {
		ts := t.recent(k, now)
		if len(ts) >= t.max { // keep only what decides blocking
			ts = ts[len(ts)-t.max+1:]
		}
		t.fails[k] = append(append([]time.Time(nil), ts...), now)
	}
}

// reset forgets key's failures (after a successful login).
func (t *throttle) reset(key string) {
	t.mu.Lock()
	delete(t.fails, key)
	t.mu.Unlock()
}
