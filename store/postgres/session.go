package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/internal/session"
)

var (
	_ session.Store      = (*DB)(nil)
	_ session.FailureLog = (*DB)(nil)
)

// OpenSession applies the per-user limit and stores rec in one transaction
// that holds the user's advisory lock, so concurrent logins of one user on
// any replicas are counted one after the other.
func (db *DB) OpenSession(rec session.Record, limit session.Limit) ([]string, error) {
	ctx, cancel := bounded(context.Background(), 2*db.roundTrip)
	defer cancel()
	var ended []string
	err := db.retry(ctx, func() error {
		ended = nil
		return pgx.BeginFunc(ctx, db.pool, func(ptx pgx.Tx) error {
			h := fnv.New32a()
			h.Write([]byte(db.ns.salt))
			h.Write([]byte(rec.User))
			if _, err := ptx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockSpaceSession, int32(h.Sum32())); err != nil {
				return err
			}
			rows, err := ptx.Query(ctx, `DELETE FROM sessions WHERE user_name = $1 AND last_seen_ns < $2 RETURNING id`,
				rec.User, limit.ExpiredBefore.UnixNano())
			if err != nil {
				return err
			}
			expired, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			ended = append(ended, expired...)
			rows, err = ptx.Query(ctx, "SELECT id FROM sessions WHERE user_name = $1 ORDER BY created_ns, id", rec.User)
			if err != nil {
				return err
			}
			live, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			if len(live) >= limit.Max {
				if !limit.Force {
					return session.ErrLimit
				}
				oldest := live[:len(live)-limit.Max+1]
				if _, err := ptx.Exec(ctx, "DELETE FROM sessions WHERE id = ANY($1)", oldest); err != nil {
					return err
				}
				ended = append(ended, oldest...)
			}
			_, err = ptx.Exec(ctx, "INSERT INTO sessions (id, user_name, created_ns, last_seen_ns) VALUES ($1, $2, $3, $4)",
				rec.ID, rec.User, rec.Created.UnixNano(), rec.LastSeen.UnixNano())
			return err
		})
	})
	if errors.Is(err, session.ErrLimit) {
		return nil, err
	}
	return ended, mapError(err)
}

func (db *DB) GetSession(id string) (session.Record, bool, error) {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	rec := session.Record{ID: id}
	var created, seen int64
	err := db.pool.QueryRow(ctx, "SELECT user_name, created_ns, last_seen_ns FROM sessions WHERE id = $1", id).
		Scan(&rec.User, &created, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return session.Record{}, false, nil
	}
	if err != nil {
		return session.Record{}, false, mapError(err)
	}
	rec.Created, rec.LastSeen = time.Unix(0, created), time.Unix(0, seen)
	return rec, true, nil
}

func (db *DB) TouchSession(id string, lastSeen time.Time) error {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	_, err := db.pool.Exec(ctx, "UPDATE sessions SET last_seen_ns = greatest(last_seen_ns, $2) WHERE id = $1", id, lastSeen.UnixNano())
	return mapError(err)
}

func (db *DB) DeleteSession(id string) error {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	_, err := db.pool.Exec(ctx, "DELETE FROM sessions WHERE id = $1", id)
	return mapError(err)
}

func (db *DB) CountSessions(since time.Time) (int, error) {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	var n int
	err := db.pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE last_seen_ns >= $1", since.UnixNano()).Scan(&n)
	return n, mapError(err)
}

func (db *DB) DeleteSessionsBefore(t time.Time) (int, error) {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	tag, err := db.pool.Exec(ctx, "DELETE FROM sessions WHERE last_seen_ns < $1", t.UnixNano())
	return int(tag.RowsAffected()), mapError(err)
}

// AddFailure records a failed login under every key and forgets every
// failure older than forgetBefore, so the table stays as small as the window.
func (db *DB) AddFailure(keys []string, at, forgetBefore time.Time) error {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	b := &pgx.Batch{}
	for _, k := range keys {
		b.Queue("INSERT INTO login_failures (key, at_ns) VALUES ($1, $2)", []byte(k), at.UnixNano())
	}
	b.Queue("DELETE FROM login_failures WHERE at_ns < $1", forgetBefore.UnixNano())
	return mapError(db.pool.SendBatch(ctx, b).Close())
}

func (db *DB) RecentFailures(key string, since time.Time, limit int) ([]time.Time, error) {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	rows, err := db.pool.Query(ctx,
		"SELECT at_ns FROM login_failures WHERE key = $1 AND at_ns >= $2 ORDER BY at_ns DESC LIMIT $3", []byte(key), since.UnixNano(), limit)
	if err != nil {
		return nil, mapError(err)
	}
	ns, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]time.Time, len(ns))
	for i, n := range ns {
		out[i] = time.Unix(0, n)
	}
	return out, nil
}

func (db *DB) ClearFailures(key string) error {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	_, err := db.pool.Exec(ctx, "DELETE FROM login_failures WHERE key = $1", []byte(key))
	return mapError(err)
}
