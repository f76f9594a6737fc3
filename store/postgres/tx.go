package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/codec"
)

// conn is what a tx runs statements on: a pooled connection inside a
// transaction begun by hand (writes) or a pgx.Tx (reads).
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// tx is a profile.Tx over one tenant's rows. Writes are not sent one by
// one: they queue and go to the server in one round trip (a pipeline)
// before the next read and before the commit, so a create costs a handful
// of round trips instead of one per row. A queued write's error (a taken
// customer_id or unique value) surfaces at that flush, still inside the
// transaction, which then fails whole.
type tx struct {
	db      *DB
	ctx     context.Context
	pg      conn
	pending pgx.Batch
	onError []func(error) error // how each pending statement's error reads
	tenant  string
	write   bool
	version uint64 // the schema version read under the schema lock (writes), or with BEGIN (reads)
	// existing holds the ids whose rows this write transaction read (and
	// locked): PutProfile updates those and inserts the others, so a
	// create never overwrites a profile another replica created meanwhile.
	existing map[string]bool
	// sets holds the record sets this write transaction read, as stored,
	// so that PutRecords writes only the records that changed (records.go).
	sets map[setKey][]codec.StoredRecord
	// noValueLocks: a schema change, which holds the schema lock
	// exclusively: no other write runs. An index build takes no lock per value then: one per
	// value of a large store ran the server out of lock memory (53200),
	// failing every replica's writes.
	noValueLocks bool
	// roundTrip bounds each round trip on this side (DB.roundTrip; 0 in a
	// schema change, whose statements are unbounded).
	roundTrip time.Duration
}

// queue adds a write to the pipeline; mapErr reads its error (nil: mapError).
func (t *tx) queue(mapErr func(error) error, sql string, args ...any) {
	if mapErr == nil {
		mapErr = mapError
	}
	t.pending.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return deferredError{mapErr(err)}
		}
		return nil
	}
}

// deferredError is a queued write's refusal, reported by whichever later
// call sent it: profile.ErrDeferredWrite is in its chain, and it reads as
// the refusal itself.
type deferredError struct{ error }

func (e deferredError) Unwrap() error      { return e.error }
func (deferredError) Is(target error) bool { return target == profile.ErrDeferredWrite }

// flush sends what is queued in one round trip. After a failed statement
// the server skips the rest, and the transaction can only roll back.
func (t *tx) flush() error {
	if t.pending.Len() == 0 {
		return nil
	}
	batch := t.pending // the results read it as they come
	t.pending = pgx.Batch{}
	ctx, cancel := bounded(t.ctx, t.roundTrip)
	defer cancel()
	return mapError(t.pg.SendBatch(ctx, &batch).Close())
}

// query runs a read, in the same round trip as whatever is queued before
// it, and calls each for every row.
func (t *tx) query(each func(pgx.Rows) error, sql string, args ...any) error {
	t.pending.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return mapError(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows); err != nil {
				return err
			}
		}
		return mapError(rows.Err())
	}
	return t.flush()
}

// queryValue reads one row's columns into dest; found is false without a row.
func (t *tx) queryValue(dest []any, sql string, args ...any) (found bool, err error) {
	err = t.query(func(r pgx.Rows) error { found = true; return r.Scan(dest...) }, sql, args...)
	return found, err
}

// scanPage is how many index entries or ids one round trip fetches; scans
// stop early far more often than they run long.
const scanPage = 256

func lower(name string) string { return strings.ToLower(name) }

// SchemaVersion is, in a read transaction, the version read with BEGIN
// (readVersion): of the snapshot every read of it sees, at no round trip
// of its own once a read has been made.
func (t *tx) SchemaVersion() (uint64, error) {
	if !t.write {
		if err := t.flush(); err != nil {
			return 0, err
		}
	}
	return t.version, nil
}

// readVersion queues the read of the stored schema version at the start
// of a read transaction, so that it goes with BEGIN and the first read:
// identify checks every answer against it (an index another replica
// rebuilt for another key of the same name answers other customers), and
// a round trip of its own would cost every identify one.
func (t *tx) readVersion() {
	t.pending.Queue("SELECT version FROM schema_state").Fn = func(br pgx.BatchResults) error {
		var v int64
		if err := br.QueryRow().Scan(&v); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return mapError(err)
		}
		t.version = uint64(v)
		return nil
	}
}

// storable reports whether PostgreSQL text can hold id: not with a NUL
// byte nor with invalid UTF-8. Such an id names no stored profile (ids are
// checked before profiles are created), so a lookup answers "absent"
// without asking the server, which would refuse the parameter.
func storable(id string) bool { return strings.IndexByte(id, 0) < 0 && utf8.ValidString(id) }

func (t *tx) Profile(id string) (*profile.Profile, error) {
	doc, err := t.profileDoc(id, t.write)
	if err != nil || doc == nil {
		return nil, err
	}
	if t.write {
		t.existing[id] = true
	}
	p, err := codec.DecodeProfile(doc)
	if err != nil {
		return nil, codec.Corrupt(id, err)
	}
	return p, nil
}

func (t *tx) Document(id string) (*profile.Document, error) {
	doc, err := t.profileDoc(id, false)
	if err != nil || doc == nil {
		return nil, err
	}
	d, err := codec.DecodeDocument(doc)
	if err != nil {
		return nil, codec.Corrupt(id, err)
	}
	return d, nil
}

// profileDoc reads profile id's stored value, nil if absent; lock keeps
// other writers off the profile until the transaction ends.
func (t *tx) profileDoc(id string, lock bool) ([]byte, error) {
	if !storable(id) {
		return nil, nil
	}
	q := "SELECT doc FROM profiles WHERE tenant = $1 AND id = $2"
	if lock {
		q += " FOR UPDATE"
	}
	var doc []byte
	found, err := t.queryValue([]any{&doc}, q, t.tenant, id)
	if err != nil || !found {
		return nil, err
	}
	t.db.profileReads.Add(1)
	return doc, nil
}

func (t *tx) IDByNum(num uint64) (string, error) {
	var id string
	_, err := t.queryValue([]any{&id}, "SELECT id FROM profiles WHERE tenant = $1 AND num = $2", t.tenant, int64(num))
	return id, err
}

func (t *tx) NextNum() (uint64, error) {
	var n int64
	_, err := t.queryValue([]any{&n}, "SELECT nextval('profile_num')")
	return uint64(n), err
}

func (t *tx) PutProfile(p *profile.Profile) error {
	doc, err := codec.EncodeProfile(p)
	if err != nil {
		return err
	}
	created := codec.UnixNanos(p.Created)
	if t.existing[p.ID] {
		t.queue(nil, "UPDATE profiles SET num = $3, created_ns = $4, doc = $5 WHERE tenant = $1 AND id = $2",
			t.tenant, p.ID, int64(p.Num), created, doc)
		return nil
	}
	// A create: an id taken meanwhile fails on the primary key
	// (PROFILE_EXISTS), never overwrites.
	t.queue(nil, "INSERT INTO profiles (tenant, id, num, created_ns, doc) VALUES ($1, $2, $3, $4, $5)",
		t.tenant, p.ID, int64(p.Num), created, doc)
	queueCount(&t.pending, t.tenant, 1)
	t.onError = append(t.onError, mapError)
	t.existing[p.ID] = true
	return nil
}

// queueCount adds delta to one of the tenant's count rows, chosen at random
// so that concurrent creates rarely wait for each other.
func queueCount(b *pgx.Batch, tenant string, delta int) {
	b.Queue(`INSERT INTO profile_counts (tenant, shard, n) VALUES ($1, $2, $3)
		ON CONFLICT (tenant, shard) DO UPDATE SET n = profile_counts.n + EXCLUDED.n`,
		tenant, int16(rand.IntN(countShards)), int64(delta))
}

func (t *tx) DeleteProfile(p *profile.Profile) error {
	t.queue(nil, "DELETE FROM records WHERE tenant = $1 AND id = $2", t.tenant, p.ID)
	// The count moves only if a profile was there to delete.
	t.queue(nil, `WITH gone AS (DELETE FROM profiles WHERE tenant = $1 AND id = $2 RETURNING 1)
		INSERT INTO profile_counts (tenant, shard, n) SELECT $1, $3, -1 FROM gone
		ON CONFLICT (tenant, shard) DO UPDATE SET n = profile_counts.n + EXCLUDED.n`,
		t.tenant, p.ID, int16(rand.IntN(countShards)))
	delete(t.existing, p.ID)
	for k := range t.sets {
		if k.id == p.ID {
			delete(t.sets, k)
		}
	}
	return nil
}

// PurgeProfile removes what DeleteProfile removes and the customer's index
// entries, reading none of its values. index_entries has no index by
// customer id (every write would pay for one), so this scans the table: a
// damaged customer is rare, and the scan locks only the rows it deletes.
func (t *tx) PurgeProfile(id string) error {
	// The scan may outlast the statement timeout that keeps requests short
	// on a large store, and the round-trip bound made from it: the rest of
	// the transaction has neither, as a schema change (an admin's request,
	// for a damaged customer).
	t.queue(nil, "SET LOCAL statement_timeout = 0")
	t.roundTrip = 0
	t.queue(nil, "DELETE FROM index_entries WHERE tenant = $1 AND id = $2", t.tenant, id)
	return t.DeleteProfile(&profile.Profile{ID: id})
}

func (t *tx) AddIndexEntry(key string, values []string, id string, unique bool) error {
	t.queue(func(err error) error {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "index_entries_unique" {
			return &errs.Error{Kind: errs.KindConflict, Code: profile.CodeUniqueKeyViolation,
				Message: "identification key \"" + key + "\" is unique and another customer already has these values",
				Err:     fmt.Errorf("%w: %w", &profile.TakenValues{Key: key, Values: values}, err)}
		}
		return mapError(err)
	}, `INSERT INTO index_entries (tenant, key, entry, vals, id, uniq) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant, key, entry) DO NOTHING`,
		t.tenant, lower(key), codec.IndexEntry(values, id), codec.IndexPrefix(values), id, unique)
	return nil
}

func (t *tx) RemoveIndexEntry(key string, values []string, id string) error {
	t.queue(nil, "DELETE FROM index_entries WHERE tenant = $1 AND key = $2 AND entry = $3",
		t.tenant, lower(key), codec.IndexEntry(values, id))
	return nil
}

// LockIndexValues takes a transaction-scoped advisory lock on a hash of
// tenant, key and values (a collision only makes two checks queue).
// READ COMMITTED reads after it see what the previous holder committed.
func (t *tx) LockIndexValues(key string, values []string) error {
	if t.noValueLocks {
		return nil
	}
	h := fnv.New64a()
	h.Write([]byte(t.db.ns.salt))
	h.Write([]byte(t.tenant))
	h.Write([]byte{0})
	h.Write([]byte(lower(key)))
	h.Write([]byte{0})
	h.Write(codec.IndexPrefix(values))
	t.queue(nil, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64()))
	return nil
}

func (t *tx) ScanIndex(key string, prefix []string, fn func(id string) bool) error {
	p := codec.IndexPrefix(prefix)
	return t.scanIndex(key, p, successor(p), fn)
}

func (t *tx) ScanIndexRange(key string, prefix []string, from, to string, fn func(id string) bool) error {
	p := codec.IndexPrefix(prefix)
	start := codec.AppendEscaped(slices.Clone(p), from)
	end := successor(p)
	if to != "" {
		end = successor(codec.IndexPrefix(append(slices.Clone(prefix), to)))
	}
	return t.scanIndex(key, start, end, fn)
}

// successor is the least byte string above every string starting with p
// (nil, no bound, for an empty p). Encoded prefixes end in the terminator
// byte 01, so raising the last byte is enough.
func successor(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	s := slices.Clone(p)
	s[len(s)-1]++
	return s
}

// scanIndex visits entries in [from, end) (end nil: open) in byte order,
// a page per round trip.
func (t *tx) scanIndex(key string, from, end []byte, fn func(id string) bool) error {
	if from == nil {
		from = []byte{} // nil would be sent as NULL, which no entry is >=
	}
	after, inclusive := from, true
	for {
		op := ">"
		if inclusive {
			op = ">="
		}
		q := "SELECT entry FROM index_entries WHERE tenant = $1 AND key = $2 AND entry " + op + " $3"
		args := []any{t.tenant, lower(key), after}
		if end != nil {
			q += " AND entry < $4"
			args = append(args, end)
		}
		q += " ORDER BY entry LIMIT " + strconv.Itoa(scanPage)
		var entries [][]byte
		err := t.query(func(r pgx.Rows) error {
			var e []byte
			err := r.Scan(&e)
			entries = append(entries, e)
			return err
		}, q, args...)
		if err != nil {
			return err
		}
		for _, e := range entries {
			t.db.indexVisited.Add(1)
			if !fn(codec.EntryID(e)) {
				return nil
			}
		}
		if len(entries) < scanPage {
			return nil
		}
		after, inclusive = entries[len(entries)-1], false
	}
}

func (t *tx) ScanCreated(from, to time.Time, fn func(id string) bool) error {
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !from.IsZero() {
		lo = codec.UnixNanos(from)
	}
	if !to.IsZero() {
		hi = codec.UnixNanos(to)
	}
	afterNs, afterID := lo, ""
	for {
		type row struct {
			ns int64
			id string
		}
		var page []row
		err := t.query(func(r pgx.Rows) error {
			var x row
			err := r.Scan(&x.ns, &x.id)
			page = append(page, x)
			return err
		}, `SELECT created_ns, id FROM profiles
			WHERE tenant = $1 AND (created_ns, id) > ($2, $3) AND created_ns <= $4
			ORDER BY created_ns, id LIMIT `+strconv.Itoa(scanPage), t.tenant, afterNs, afterID, hi)
		if err != nil {
			return err
		}
		for _, r := range page {
			if !fn(r.id) {
				return nil
			}
		}
		if len(page) < scanPage {
			return nil
		}
		afterNs, afterID = page[len(page)-1].ns, page[len(page)-1].id
	}
}

func (t *tx) ProfilesAfter(after string, limit int) ([]*profile.Profile, error) {
	var out []*profile.Profile
	err := t.query(func(r pgx.Rows) error {
		var id string
		var doc []byte
		if err := r.Scan(&id, &doc); err != nil {
			return err
		}
		p, err := codec.DecodeProfile(doc)
		if err != nil {
			return codec.Corrupt(id, err)
		}
		t.db.profileReads.Add(1)
		out = append(out, p)
		return nil
	}, "SELECT id, doc FROM profiles WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3", t.tenant, after, limit)
	return out, err
}

// ForEachProfile pages through the profiles, so fn may write meanwhile.
func (t *tx) ForEachProfile(fn func(p *profile.Profile) error) error {
	after := ""
	for {
		page, err := t.ProfilesAfter(after, scanPage)
		if err != nil {
			return err
		}
		for _, p := range page {
			if t.write {
				t.existing[p.ID] = true
			}
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

func (t *tx) DropExtension(ext string) error {
	t.queue(nil, "DELETE FROM records WHERE tenant = $1 AND ext = $2", t.tenant, lower(ext))
	for k := range t.sets {
		if k.ext == lower(ext) {
			delete(t.sets, k)
		}
	}
	return nil
}

func (t *tx) DropIndex(key string) error {
	t.queue(nil, "DELETE FROM index_entries WHERE tenant = $1 AND key = $2", t.tenant, lower(key))
	return nil
}

func (t *tx) PutSetting(name, value string) error {
	if !storable(name) || !storable(value) {
		return errs.Invalid("INVALID_SETTING", "", "a setting name or value PostgreSQL text cannot hold")
	}
	t.queue(nil, "INSERT INTO server_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value)
	return nil
}

func (t *tx) Setting(name string) (string, error) {
	if !storable(name) { // a name with an id no text column can hold: never set
		return "", nil
	}
	var v string
	found, err := t.queryValue([]any{&v}, "SELECT value FROM server_settings WHERE name = $1", name)
	if err != nil || !found {
		return "", err
	}
	return v, nil
}

func (t *tx) Tenant() string { return t.tenant }
