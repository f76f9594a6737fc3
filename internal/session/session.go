// Package session declares what a store keeps of eGain login sessions and
// failed logins. The eGain facade decides the rules (idle timeout, sessions
// per user, throttling); a store applies them atomically, so that every
// process sharing the store (replicas over PostgreSQL) sees one set of
// sessions and one count of failures.
package session

import (
	"errors"
	"time"
)

// Record is one login session.
type Record struct {
	ID       string
	User     string
	Created  time.Time
	LastSeen time.Time
}

// ErrLimit is Store.Open's answer when the user already holds the maximum
// number of sessions and force was not asked.
var ErrLimit = errors.New("session: the user holds the maximum number of sessions")

// Limit is the per-user rule Store.Open applies.
type Limit struct {
	Max           int       // sessions one user may hold
	Force         bool      // at Max, end the user's oldest sessions instead of failing
	ExpiredBefore time.Time // sessions last seen before this are expired: deleted, not counted
}

// Store keeps sessions. Every method is atomic across the processes that
// share the store.
type Store interface {
	// OpenSession stores rec under the user's limit: the user's expired
	// sessions are deleted; if Max or more remain, it fails with ErrLimit,
	// or with Force deletes the oldest (by Created) until Max-1 remain.
	// Two concurrent OpenSession calls for one user never both pass the
	// limit. It returns the ids it deleted.
	OpenSession(rec Record, limit Limit) (ended []string, err error)
	// GetSession returns the session, ok false when absent.
	GetSession(id string) (rec Record, ok bool, err error)
	// TouchSession sets a session's LastSeen; an absent session is no error.
	TouchSession(id string, lastSeen time.Time) error
	// DeleteSession removes a session; an absent one is no error.
	DeleteSession(id string) error
	// CountSessions counts the sessions last seen at or after since.
	CountSessions(since time.Time) (int, error)
	// DeleteSessionsBefore removes every session last seen before t.
	DeleteSessionsBefore(t time.Time) (int, error)
}

// FailureLog counts failed logins per key (a user name or a client
// address) for the login throttle.
type FailureLog interface {
	// AddFailure records a failure at `at` under every key, and may forget
	// failures older than forgetBefore.
	AddFailure(keys []string, at, forgetBefore time.Time) error
	// RecentFailures returns up to limit of key's failures at or after
	// since, newest first.
	RecentFailures(key string, since time.Time, limit int) ([]time.Time, error)
	// ClearFailures forgets key's failures (after a successful login).
	ClearFailures(key string) error
}
