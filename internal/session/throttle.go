package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"net/netip"
	"sync"
	"time"
)

// Throttle counts failed logins per key (a user name or a client address)
// in a sliding window. A key with max failures in the window is blocked
// until the oldest of them leaves it, so it recovers by itself.
//
// The failures live in a FailureLog: in this process's memory for
// the bbolt store, which one process holds, or in the shared store, so
// that replicas count one set of failures and a guesser cannot spread
// attempts over them.
//
// When the log cannot be read (a shared store that is down), a key counts
// as not blocked. Failing closed would lock every user out for as long as
// the store is down, on top of the outage; failing open costs nothing then,
// because a login whose password is right still needs the store to open its
// session and fails there. So that the answers do not become an oracle
// while the store is down (401 for a wrong password, 503 for a right one),
// the login handler answers a wrong password with the log's error rather
// than 401 when its failure cannot be recorded. What stays open is
// a store whose failure log cannot be read while it can still open
// sessions: logins are then not throttled, and the errors are logged.
type Throttle struct {
	max    int // 0 disables throttling
	window time.Duration
	Now    func() time.Time // the clock; tests may replace it
	log    FailureLog
}

// NewThrottle blocks a key after maxFailures failures within window (0
// disables it); log nil counts in this process's memory.
func NewThrottle(maxFailures int, window time.Duration, log FailureLog) *Throttle {
	if log == nil {
		log = NewMemoryFailures()
	}
	return &Throttle{max: maxFailures, window: window, Now: time.Now, log: log}
}

// since is the start of the window at now: a failure counts while it is
// less than window old.
func (t *Throttle) since(now time.Time) time.Time { return now.Add(-t.window + time.Nanosecond) }

// RetryAfter returns how long the first blocked key stays blocked, 0 when
// none is. A key whose failures cannot be read counts as not blocked (see
// Throttle); the error is returned for the caller to log.
func (t *Throttle) RetryAfter(keys ...string) (time.Duration, error) {
	if t.max <= 0 {
		return 0, nil
	}
	now := t.Now()
	var wait time.Duration
	var errs []error
	for _, k := range keys {
		ts, err := t.log.RecentFailures(k, t.since(now), t.max)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(ts) >= t.max { // newest first: the last is the oldest that blocks
			wait = max(wait, t.window-now.Sub(ts[t.max-1]))
		}
	}
	return wait, errors.Join(errs...)
}

// Fail records a failed attempt under every key; failures that left the
// window may be forgotten.
func (t *Throttle) Fail(keys ...string) error {
	if t.max <= 0 {
		return nil
	}
	now := t.Now()
	return t.log.AddFailure(keys, now, t.since(now))
}

// Logins throttles password checks per user name and, with a higher bound,
// per client address (one address is often a whole contact center behind
// NAT), over one FailureLog: the answer for a user and address is the
// longer wait of the two.
type Logins struct {
	prefix     string
	user, addr *Throttle
	stripes    [64]sync.Mutex // see Serialize
}

// NewLogins counts failures under keys starting with prefix (the API's),
// blocking a user name after perUser and an address after perAddress
// failures within window (perUser 0 disables both).
func NewLogins(prefix string, perUser, perAddress int, window time.Duration, log FailureLog) *Logins {
	if log == nil {
		log = NewMemoryFailures()
	}
	if perUser <= 0 {
		perAddress = 0
	}
	return &Logins{prefix: prefix, user: NewThrottle(perUser, window, log), addr: NewThrottle(perAddress, window, log)}
}

// userKey is the failure log's key of a user name. A name longer than any
// a deployment gives its users goes in as its hash: unauthenticated
// clients choose it, up to a whole body, and a key that size filled the
// log (PostgreSQL refused its index entry, answering 500).
func (l *Logins) userKey(user string) string {
	if len(user) > maxKeyName {
		sum := sha256.Sum256([]byte(user))
		user = "sha256:" + hex.EncodeToString(sum[:])
	}
	return l.prefix + "user:" + user
}

// addrKey is the failure log's key of a client address. An IPv6 client
// holds a whole /64 (a home line gets one, a host picks its addresses in
// it at will), so one counts as its /64, not as 2^64 addresses of a
// failure each.
func (l *Logins) addrKey(addr string) string {
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() && !a.Is4In6() {
		if p, err := a.WithZone("").Prefix(64); err == nil {
			addr = p.String()
		}
	}
	return l.prefix + "addr:" + addr
}

// maxKeyName bounds a user name kept as it is in a failure log key.
const maxKeyName = 128

// RetryAfter is how long a login of user from addr stays blocked, 0 when
// it is not (nor when the failures cannot be read: see Throttle).
func (l *Logins) RetryAfter(user, addr string) (time.Duration, error) {
	byUser, uerr := l.user.RetryAfter(l.userKey(user))
	byAddr, aerr := l.addr.RetryAfter(l.addrKey(addr))
	if uerr != nil && aerr != nil && uerr.Error() == aerr.Error() {
		aerr = nil // one outage, said once
	}
	return max(byUser, byAddr), errors.Join(uerr, aerr)
}

// Fail records a failed login of user from addr.
func (l *Logins) Fail(user, addr string) error {
	return errors.Join(l.user.Fail(l.userKey(user)), l.addr.Fail(l.addrKey(addr)))
}

// Serialize makes this process check one password of user at a time: the
// caller holds the returned unlock while it asks RetryAfter again and
// checks the password. Guesses sent at once then meet the failures of those
// before them (45 at once all reached the check past a limit of 5), while
// right passwords sent at once are checked one after another, not counted
// as failures. Names share a fixed set of locks (a hash picks one), so
// any number of names costs no memory.
func (l *Logins) Serialize(user string) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(user))
	m := &l.stripes[h.Sum32()%uint32(len(l.stripes))]
	m.Lock()
	return m.Unlock
}

// Succeeded forgets user's failures; the address's stay, so a guesser
// cannot clear them with an account of its own.
func (l *Logins) Succeeded(user string) error { return l.user.Reset(l.userKey(user)) }

// SetClock replaces the clock of both counts (tests).
func (l *Logins) SetClock(now func() time.Time) { l.user.Now, l.addr.Now = now, now }

// Reset forgets key's failures (after a successful login).
func (t *Throttle) Reset(key string) error {
	if t.max <= 0 {
		return nil
	}
	return t.log.ClearFailures(key)
}
