package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/internal/session"
)

// The sessions bucket maps a session id to its JSON record (storedSession).
// Sessions are not per tenant, and there is no index by user: a user's
// sessions are found by walking the bucket, which holds at most
// users × max_sessions_per_user live sessions (expired ones are deleted at
// start and on each login of their user).
//
// The bbolt file is held by one process, so "atomic across processes" is
// simply one update transaction per call.

var _ session.Store = (*DB)(nil)

// sessionCache keeps the sessions GetSession read, so that an eGain
// request (which validates its session every time) costs no read
// transaction: the file has one process, so nothing changes behind the
// cache's back. Every session write drops what it touched after its commit;
// gen keeps a read that raced with a write from caching what it read.
type sessionCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]session.Record
}

func (c *sessionCache) get(id string) (session.Record, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.m[id]
	return rec, ok, c.gen
}

// put caches rec unless a write came in since gen was read.
func (c *sessionCache) put(rec session.Record, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil {
		c.m = map[string]session.Record{}
	}
	c.m[rec.ID] = rec
}

// drop forgets ids (all sessions when none are named) after a write.
func (c *sessionCache) drop(ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(ids) == 0 {
		clear(c.m)
	}
	for _, id := range ids {
		delete(c.m, id)
	}
}

// storedSession is a session's value: exactly what earlier versions wrote
// ({"user","created","last_seen"}), so existing files keep their sessions.
type storedSession struct {
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

// decodeSession decodes a stored value. A value that does not decode or
// names no user was not written by this package; it counts as absent, and
// DeleteSessionsBefore removes it.
func decodeSession(id, v []byte) (session.Record, bool) {
	var s storedSession
	if v == nil || json.Unmarshal(v, &s) != nil || s.User == "" {
		return session.Record{}, false
	}
	return session.Record{ID: string(id), User: s.User, Created: s.Created, LastSeen: s.LastSeen}, true
}

func encodeSession(rec session.Record) ([]byte, error) {
	return json.Marshal(storedSession{User: rec.User, Created: rec.Created, LastSeen: rec.LastSeen})
}

// OpenSession stores rec under the user's limit in one update transaction
// (see session.Store): the user's expired sessions are deleted, then at
// limit.Max it fails with session.ErrLimit or, with Force, deletes the
// user's oldest sessions by creation. It returns every id it deleted.
func (db *DB) OpenSession(rec session.Record, limit session.Limit) ([]string, error) {
	if rec.ID == "" || rec.User == "" {
		return nil, errors.New("store: a session needs an id and a user")
	}
	value, err := encodeSession(rec)
	if err != nil {
		return nil, err
	}
	var ended []string
	err = db.update(context.Background(), func(btx *bolt.Tx) error {
		ended = nil // the committer may run this again in a fresh transaction
		b := btx.Bucket(bucketSessions)
		if b.Get([]byte(rec.ID)) != nil {
			return fmt.Errorf("store: session id %s is already in use", rec.ID)
		}
		var mine []session.Record
		err := b.ForEach(func(k, v []byte) error {
			s, ok := decodeSession(k, v)
			switch {
			case !ok || s.User != rec.User:
			case s.LastSeen.Before(limit.ExpiredBefore):
				ended = append(ended, s.ID)
			default:
				mine = append(mine, s)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(mine) >= limit.Max {
			if !limit.Force {
				return session.ErrLimit
			}
			slices.SortFunc(mine, func(a, b session.Record) int {
				if c := a.Created.Compare(b.Created); c != 0 {
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			for _, s := range mine[:min(len(mine), len(mine)-limit.Max+1)] {
				ended = append(ended, s.ID)
			}
		}
		for _, id := range ended { // not inside ForEach: bbolt forbids that
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return b.Put([]byte(rec.ID), value)
	})
	if err != nil {
		return nil, err
	}
	db.sessions.drop(append(ended, rec.ID)...)
	return ended, nil
}

// GetSession returns the session, ok false when absent.
func (db *DB) GetSession(id string) (session.Record, bool, error) {
	rec, ok, gen := db.sessions.get(id)
	if ok {
		return rec, true, nil
	}
	err := db.view(func(btx *bolt.Tx) error {
		rec, ok = decodeSession([]byte(id), btx.Bucket(bucketSessions).Get([]byte(id)))
		return nil
	})
	if err != nil {
		return session.Record{}, false, err
	}
	if ok {
		db.sessions.put(rec, gen)
	}
	return rec, ok, nil
}

// TouchSession moves a session's LastSeen forward to lastSeen (never
// back); an absent session is no error and is not created.
func (db *DB) TouchSession(id string, lastSeen time.Time) error {
	defer db.sessions.drop(id)
	return db.update(context.Background(), func(btx *bolt.Tx) error {
		b := btx.Bucket(bucketSessions)
		rec, ok := decodeSession([]byte(id), b.Get([]byte(id)))
		if !ok || !lastSeen.After(rec.LastSeen) {
			return nil
		}
		rec.LastSeen = lastSeen
		value, err := encodeSession(rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), value)
	})
}

// DeleteSession removes a session; an absent one is no error.
func (db *DB) DeleteSession(id string) error {
	defer db.sessions.drop(id)
	return db.update(context.Background(), func(btx *bolt.Tx) error {
		return btx.Bucket(bucketSessions).Delete([]byte(id))
	})
}

// CountSessions counts the sessions last seen at or after since.
func (db *DB) CountSessions(since time.Time) (int, error) {
	n := 0
	err := db.view(func(btx *bolt.Tx) error {
		return btx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			if s, ok := decodeSession(k, v); ok && !s.LastSeen.Before(since) {
				n++
			}
			return nil
		})
	})
	return n, err
}

// DeleteSessionsBefore removes every session last seen before t, and any
// value that is not a session record. It returns how many it removed.
func (db *DB) DeleteSessionsBefore(t time.Time) (int, error) {
	defer db.sessions.drop()
	var n int
	err := db.update(context.Background(), func(btx *bolt.Tx) error {
		b := btx.Bucket(bucketSessions)
		var gone [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if v == nil { // a nested bucket, not a value
				return nil
			}
			if s, ok := decodeSession(k, v); !ok || s.LastSeen.Before(t) {
				gone = append(gone, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(gone)
		return nil
	})
	return n, err
}
