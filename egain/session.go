package egain

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/contactcenter/profiled/errs"
)

// SessionStore persists sessions so they survive a restart and can be
// shared by replicas; *store.DB implements it.
type SessionStore interface {
	PutSession(id string, data []byte) error
	GetSession(id string) ([]byte, error) // nil, nil when absent
	DeleteSession(id string) error
	ForEachSession(fn func(id string, data []byte) error) error
}

// maxPersistInterval bounds how stale the stored last_seen of a live
// session may get; see sessions.persistEvery.
const maxPersistInterval = time.Minute

// session is one login. Its JSON form is what the store holds.
type session struct {
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`

	persisted time.Time // LastSeen as last written to the store
}

// sessions keeps live sessions in memory over a SessionStore. Reads never
// write: last_seen reaches the store at most every persistEvery, so a
// session may look up to that much older after a restart.
type sessions struct {
	store        SessionStore
	idle         time.Duration
	maxPerUser   int
	persistEvery time.Duration
	now          func() time.Time

	mu   sync.Mutex
	byID map[string]*session
}

func newSessions(store SessionStore, idle time.Duration, maxPerUser int) (*sessions, error) {
	s := &sessions{
		store: store, idle: idle, maxPerUser: maxPerUser,
		persistEvery: min(maxPersistInterval, idle/4),
		now:          time.Now,
		byID:         map[string]*session{},
	}
	var expired []string
	err := store.ForEachSession(func(id string, data []byte) error {
		sess, ok := decodeSession(data)
		if ok && !s.expired(sess) {
			s.byID[id] = sess
		} else {
			expired = append(expired, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range expired {
		if err := store.DeleteSession(id); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func decodeSession(data []byte) (*session, bool) {
	var sess session
	if json.Unmarshal(data, &sess) != nil || sess.User == "" {
		return nil, false
	}
	sess.persisted = sess.LastSeen
	return &sess, true
}

func (s *sessions) expired(sess *session) bool {
	return s.now().Sub(sess.LastSeen) > s.idle
}

func (s *sessions) put(id string, sess *session) error {
	data, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	return s.store.PutSession(id, data)
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
// force, which ends the user's oldest session first.
func (s *sessions) open(user string, force bool) (string, error) {
	id, err := newSessionID()
	if err != nil {
		return "", err
	}
	now := s.now()
	sess := &session{User: user, Created: now, LastSeen: now, persisted: now}
	s.mu.Lock()
	evicted := s.sweepLocked()
	mine := s.userSessionsLocked(user)
	if len(mine) >= s.maxPerUser && !force {
		s.mu.Unlock()
		return "", errs.E(errs.KindUnauthorized, CodeTooManySessions, "user %q already has %d open sessions; log out or log in with forceLogin=yes", user, s.maxPerUser)
	}
	for len(mine) >= s.maxPerUser {
		delete(s.byID, mine[0])
		evicted = append(evicted, mine[0])
		mine = mine[1:]
	}
	s.byID[id] = sess
	s.mu.Unlock()
	for _, old := range evicted {
		if err := s.store.DeleteSession(old); err != nil {
			return "", err
		}
	}
	if err := s.put(id, sess); err != nil {
		s.drop(id)
		return "", err
	}
	return id, nil
}

// userSessionsLocked returns user's session ids, oldest first.
func (s *sessions) userSessionsLocked(user string) []string {
	var ids []string
	for id, sess := range s.byID {
		if sess.User == user {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return s.byID[a].Created.Compare(s.byID[b].Created) })
	return ids
}

// sweepLocked forgets expired sessions and returns their ids for deletion
// from the store.
func (s *sessions) sweepLocked() []string {
	var gone []string
	for id, sess := range s.byID {
		if s.expired(sess) {
			delete(s.byID, id)
			gone = append(gone, id)
		}
	}
	return gone
}

func (s *sessions) drop(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

// touch validates session id and marks it used; it returns the user. A
// session this process does not know is looked up in the store (after a
// restart, or opened by another replica).
func (s *sessions) touch(id string) (string, error) {
	if !wellFormedID(id) {
		return "", invalidSession()
	}
	sess, err := s.lookup(id)
	if err != nil {
		return "", err
	}
	now := s.now()
	s.mu.Lock()
	if s.expired(sess) || s.byID[id] != sess {
		delete(s.byID, id)
		s.mu.Unlock()
		return "", s.forget(id)
	}
	sess.LastSeen = now
	persist := now.Sub(sess.persisted) >= s.persistEvery
	if persist {
		sess.persisted = now
	}
	snapshot := *sess
	s.mu.Unlock()
	// Persisting last_seen is best effort: the session is valid in memory,
	// so a read must not fail because the store cannot write right now; the
	// next use tries again.
	if persist && s.put(id, &snapshot) != nil {
		s.mu.Lock()
		sess.persisted = time.Time{}
		s.mu.Unlock()
	}
	return sess.User, nil
}

// forget deletes an expired session from the store and reports it invalid.
func (s *sessions) forget(id string) error {
	if err := s.store.DeleteSession(id); err != nil {
		return err
	}
	return invalidSession()
}

func (s *sessions) lookup(id string) (*session, error) {
	s.mu.Lock()
	sess, ok := s.byID[id]
	s.mu.Unlock()
	if ok {
		return sess, nil
	}
	data, err := s.store.GetSession(id)
	if err != nil {
		return nil, err
	}
	sess, ok = decodeSession(data)
	if !ok {
		return nil, invalidSession()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, raced := s.byID[id]; raced {
		return cur, nil
	}
	s.byID[id] = sess
	return sess, nil
}

// close ends session id (logout).
func (s *sessions) close(id string) error {
	if _, err := s.touch(id); err != nil {
		return err
	}
	s.drop(id)
	return s.store.DeleteSession(id)
}

// count returns the number of live sessions this process knows.
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.byID {
		if !s.expired(sess) {
			n++
		}
	}
	return n
}
