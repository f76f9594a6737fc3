package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
	"github.com/contactcenter/profiled/store/transfer"
)

var (
	_ transfer.Source = (*DB)(nil)
	_ transfer.Target = (*DB)(nil)
)

// NextNumber is the next numeric id the sequence would hand out.
func (db *DB) NextNumber(ctx context.Context) (uint64, error) {
	var last int64
	var called bool
	if err := db.pool.QueryRow(ctx, "SELECT last_value, is_called FROM profile_num").Scan(&last, &called); err != nil {
		return 0, mapError(err)
	}
	if called {
		last++
	}
	return uint64(last), nil
}

// Export streams every row from one snapshot.
func (db *DB) Export(ctx context.Context, fn func(transfer.Item) error) error {
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapError(err)
	}
	defer ptx.Rollback(context.WithoutCancel(ctx))
	// Streaming a whole store takes as long as it takes: no statement timeout.
	if _, err := ptx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return mapError(err)
	}
	queries := []struct {
		sql  string
		item func(pgx.Rows) (transfer.Item, error)
	}{
		{"SELECT tenant, id, doc FROM profiles ORDER BY tenant, id", func(r pgx.Rows) (transfer.Item, error) {
			it := transfer.Item{Kind: transfer.KindProfile}
			return it, r.Scan(&it.Tenant, &it.ID, &it.Value)
		}},
		// A customer's records of an extension travel as one set, the
		// form copies carry (and profiled check reads).
		{`SELECT tenant, ext, id, array_agg(doc ORDER BY seq), min(seq) FROM records
			GROUP BY tenant, ext, id ORDER BY tenant, ext, id`, func(r pgx.Rows) (transfer.Item, error) {
			it := transfer.Item{Kind: transfer.KindRecords}
			var docs [][]byte
			var first int64
			if err := r.Scan(&it.Tenant, &it.Name, &it.ID, &docs, &first); err != nil {
				return it, err
			}
			if first == legacySet {
				it.Value = docs[0]
				return it, nil
			}
			set := make([]schema.Record, 0, len(docs))
			for _, doc := range docs {
				rec, err := codec.DecodeRecord(doc)
				if err != nil {
					it.Value = doc // as stored, so that check names it damaged
					return it, nil
				}
				set = append(set, rec)
			}
			v, err := codec.EncodeRecords(set)
			it.Value = v
			return it, err
		}},
		{"SELECT tenant, key, id, entry, uniq FROM index_entries ORDER BY tenant, key, entry", func(r pgx.Rows) (transfer.Item, error) {
			it := transfer.Item{Kind: transfer.KindIndex}
			return it, r.Scan(&it.Tenant, &it.Name, &it.ID, &it.Value, &it.Unique)
		}},
		{"SELECT id, user_name, created_ns, last_seen_ns FROM sessions ORDER BY id", func(r pgx.Rows) (transfer.Item, error) {
			it := transfer.Item{Kind: transfer.KindSession}
			var created, seen int64
			err := r.Scan(&it.ID, &it.User, &created, &seen)
			it.Created, it.LastSeen = time.Unix(0, created), time.Unix(0, seen)
			return it, err
		}},
		{"SELECT tenant, at_us, seq, entry FROM audit ORDER BY tenant, at_us, seq", func(r pgx.Rows) (transfer.Item, error) {
			it := transfer.Item{Kind: transfer.KindAudit}
			var at, seq int64
			err := r.Scan(&it.Tenant, &at, &seq, &it.Value)
			it.Created, it.Seq = time.UnixMicro(at).UTC(), uint64(seq)
			return it, err
		}},
		{"SELECT name, value FROM server_settings ORDER BY name", func(r pgx.Rows) (transfer.Item, error) {
			it := transfer.Item{Kind: transfer.KindSetting}
			var value string
			err := r.Scan(&it.Name, &value)
			it.Value = []byte(value)
			return it, err
		}},
	}
	for _, q := range queries {
		rows, err := ptx.Query(ctx, q.sql)
		if err != nil {
			return mapError(err)
		}
		for rows.Next() {
			it, err := q.item(rows)
			if err == nil {
				err = fn(it)
			}
			if err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return mapError(err)
		}
	}
	return mapError(ptx.Commit(ctx))
}

// Empty reports whether the database holds no profile, session, audit entry or schema.
func (db *DB) Empty(ctx context.Context) (bool, error) {
	var any bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM profiles) OR EXISTS (SELECT 1 FROM sessions) OR EXISTS (SELECT 1 FROM audit)
		OR EXISTS (SELECT 1 FROM schema_state WHERE version > 0 OR overlay IS NOT NULL)`).Scan(&any)
	return !any, mapError(err)
}

// Import stores a batch with COPY, in one transaction.
func (db *DB) Import(ctx context.Context, items []transfer.Item) error {
	var profiles, records, entries, sessions, settings, audit [][]any
	counts := map[string]int{}
	for _, it := range items {
		switch it.Kind {
		case transfer.KindSession, transfer.KindSetting: // not a tenant's
		default:
			// Tenants are the tenants of profile_counts rows (DB.Tenants):
			// one whose data holds no profile (an audit trail left by
			// customers all deleted) is a tenant too, or the audit sweep
			// never visits it.
			counts[it.Tenant] += 0
		}
		switch it.Kind {
		case transfer.KindProfile:
			p, err := codec.DecodeProfile(it.Value)
			if err != nil {
				return err
			}
			profiles = append(profiles, []any{it.Tenant, it.ID, int64(p.Num), codec.UnixNanos(p.Created), it.Value})
			counts[it.Tenant]++
		case transfer.KindRecords:
			set, err := codec.DecodeRecords(it.Value)
			if err != nil { // damaged: kept as it came (a whole-set row), so check names it on the copy too
				records = append(records, []any{it.Tenant, it.Name, it.ID, int64(legacySet), it.Value})
				continue
			}
			for i, rec := range set {
				records = append(records, []any{it.Tenant, it.Name, it.ID, int64(i + 1), codec.EncodeRecord(rec)})
			}
		case transfer.KindIndex:
			entries = append(entries, []any{it.Tenant, it.Name, it.Value, codec.EntryValues(it.Value), it.ID, it.Unique})
		case transfer.KindSession:
			sessions = append(sessions, []any{it.ID, it.User, it.Created.UnixNano(), it.LastSeen.UnixNano()})
		case transfer.KindSetting:
			settings = append(settings, []any{it.Name, string(it.Value)})
		case transfer.KindAudit:
			e, err := codec.DecodeAuditEntry(it.Value)
			if err != nil {
				return err
			}
			ids := e.Customers
			if ids == nil {
				ids = []string{}
			}
			audit = append(audit, []any{it.Tenant, it.Created.UnixMicro(), int64(it.Seq), ids, it.Value})
		}
	}
	return mapError(pgx.BeginFunc(ctx, db.pool, func(ptx pgx.Tx) error {
		for _, c := range []struct {
			table   string
			columns []string
			rows    [][]any
		}{
			{"profiles", []string{"tenant", "id", "num", "created_ns", "doc"}, profiles},
			{"records", []string{"tenant", "ext", "id", "seq", "doc"}, records},
			{"index_entries", []string{"tenant", "key", "entry", "vals", "id", "uniq"}, entries},
			{"sessions", []string{"id", "user_name", "created_ns", "last_seen_ns"}, sessions},
			{"server_settings", []string{"name", "value"}, settings},
			{"audit", []string{"tenant", "at_us", "seq", "customer_ids", "entry"}, audit}, // COPY writes seq as given (OVERRIDING SYSTEM VALUE)
		} {
			if len(c.rows) == 0 {
				continue
			}
			if _, err := ptx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromRows(c.rows)); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for tenant, n := range counts {
			queueCount(b, tenant, n)
		}
		return ptx.SendBatch(ctx, b).Close()
	}))
}

// ImportHeader stores the schema state and moves the id sequence past
// every imported numeric id, and the audit sequence past every imported
// entry's number.
func (db *DB) ImportHeader(ctx context.Context, h transfer.Header) error {
	return mapError(pgx.BeginFunc(ctx, db.pool, func(ptx pgx.Tx) error {
		if _, err := ptx.Exec(ctx, "UPDATE schema_state SET version = $1, overlay = $2, manifest = $3, hash = $4",
			int64(h.Schema.Version), nilIfEmpty(h.Schema.Overlay), nilIfEmpty(h.Schema.Manifest), profile.StoredHash(h.Schema.Version, h.Schema.Hash)); err != nil {
			return err
		}
		if _, err := ptx.Exec(ctx, `SELECT setval('profile_num', greatest($1::bigint - 1, (SELECT coalesce(max(num), 0) FROM profiles), 1),
			$1::bigint > 1 OR EXISTS (SELECT 1 FROM profiles))`, int64(h.NextNum)); err != nil {
			return err
		}
		// The target held no entry before the copy: the copied ones are all.
		_, err := ptx.Exec(ctx, "SELECT setval(pg_get_serial_sequence('audit', 'seq'), max(seq)) FROM audit HAVING count(*) > 0")
		return err
	}))
}
