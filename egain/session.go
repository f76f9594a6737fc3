package egain

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/session"
)

// maxPersistInterval bounds how stale the stored last_seen of a live
// session may get; see sessions.persistEvery.
const maxPersistInterval = time.Minute

// sessions applies the session rules (idle timeout, sessions per user) over
// a session.Store, which is the only place sessions live: this process
// keeps none in memory, so every process sharing the store (replicas over
// one PostgreSQL database) sees a login, a logout or a forced login at
// once, and a restart loses nothing. Each use of a session reads the store;
// last_seen is written only when the stored one is persistEvery old, so a
// session may expire up to persistEvery earlier than its last use suggests.
type sessions struct {
	store        session.Store
	idle         time.Duration
	maxPerUser   int
	persistEvery time.Duration
	now          func() time.Time
}

// newSessions deletes the sessions that expired while no process was
// running (or that no process touched); the rest stay valid.
func newSessions(store session.Store, idle time.Duration, maxPerUser int) (*sessions, error) {
	s := &sessions{
		store: store, idle: idle, maxPerUser: maxPerUser,
		persistEvery: min(maxPersistInterval, idle/4),
		now:          time.Now,
	}
	if _, err := store.DeleteSessionsBefore(s.now().Add(-idle)); err != nil {
		return nil, err
	}
	return s, nil
}

// expired reports whether a session last seen at lastSeen has been idle
// too long at now. Stores apply the same rule through
// session.Limit.ExpiredBefore and CountSessions' since (now - idle).
func (s *sessions) expired(lastSeen, now time.Time) bool {
	return now.Sub(lastSeen) > s.idle
}

func invalidSession() *errs.Error {
	return errs.E(errs.KindUnauthorized, CodeInvalidSession, "Invalid or expired 'X-egain-session' header provided. New login is required.")
}

// newSessionID draws 128 random bits, formatted like a GUID.
func newSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// wellFormedID checks the shape newSessionID produces, so garbage never
// costs a store read.
func wellFormedID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

// open starts a session for user. At the per-user limit it fails unless
// force, which ends the user's oldest sessions (by creation) first. The
// store applies the limit atomically, so concurrent logins on any replicas
// never pass it together.
func (s *sessions) open(user string, force bool) (string, error) {
	id, err := newSessionID()
	if err != nil {
		return "", err
	}
	now := s.now()
	_, err = s.store.OpenSession(
		session.Record{ID: id, User: user, Created: now, LastSeen: now},
		session.Limit{Max: s.maxPerUser, Force: force, ExpiredBefore: now.Add(-s.idle)},
	)
	if errors.Is(err, session.ErrLimit) {
		return "", errs.E(errs.KindUnauthorized, CodeTooManySessions, "user %q already has %d open sessions; log out or log in with forceLogin=yes", user, s.maxPerUser)
	}
	if err != nil {
		return "", err
	}
	return id, nil
}

// lookup returns the live session id names: a malformed id costs no store
// read; an absent or expired one is invalidSession (an expired one is
// deleted on the way, best effort: it is invalid whether or not that
// delete succeeds, and the next start deletes it otherwise).
func (s *sessions) lookup(id string) (session.Record, time.Time, error) {
	if !wellFormedID(id) {
		return session.Record{}, time.Time{}, invalidSession()
	}
	rec, ok, err := s.store.GetSession(id)
	if err != nil {
		return session.Record{}, time.Time{}, err
	}
	if !ok {
		return session.Record{}, time.Time{}, invalidSession()
	}
	now := s.now()
	if s.expired(rec.LastSeen, now) {
		_ = s.store.DeleteSession(id)
		return session.Record{}, time.Time{}, invalidSession()
	}
	return rec, now, nil
}

// touch validates session id and marks it used; it returns the user.
func (s *sessions) touch(id string) (string, error) {
	rec, now, err := s.lookup(id)
	if err != nil {
		return "", err
	}
	// Persisting last_seen is best effort: the session is valid, so a read
	// must not fail because the store cannot write right now; the next use
	// tries again, as the stored last_seen is still old.
	if now.Sub(rec.LastSeen) >= s.persistEvery {
		_ = s.store.TouchSession(id, now)
	}
	return rec.User, nil
}

// close ends session id (logout); an invalid one is invalidSession.
func (s *sessions) close(id string) error {
	if _, _, err := s.lookup(id); err != nil {
		return err
	}
	return s.store.DeleteSession(id)
}

// count returns the number of live sessions in the store (every
// process's): it feeds a gauge, which is left out when the store cannot say.
func (s *sessions) count() (int, error) {
	return s.store.CountSessions(s.now().Add(-s.idle))
}
