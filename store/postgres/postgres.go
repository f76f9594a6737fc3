// Package postgres implements profile.Store, session.Store and
// session.FailureLog on PostgreSQL with pgx, so that any number of
// profiled processes (replicas) can share one database. Tables are created
// by the versioned migrations embedded in the binary (goose), applied at
// start under an advisory lock so that replicas starting together migrate
// once. Stored values use the shared codec (store/codec), byte for byte
// what the bbolt store holds.
//
// Concurrency: write transactions run at READ COMMITTED. A write holds the
// schema lock shared and a schema change holds it exclusively (advisory
// locks), so no write commits while indexes are rebuilt; a profile read in
// a write transaction locks its row (SELECT ... FOR UPDATE), so changes to
// one customer queue instead of overwriting each other; unique identification
// keys are unique indexes; uniqueness checks lock the values they check.
// Serialization failures and deadlocks are retried a bounded number of
// times, then answered as unavailable.
//
// Round trips: a transaction's statements are pipelined (tx.queue, flush):
// writes wait in a batch that goes to the server with the next read or
// with COMMIT, and BEGIN travels with the first statement, so a request
// costs one round trip per read that needs an earlier answer
// (TestRoundTrips holds the counts docs/scale-out.md gives).
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	// MaxConns bounds the connection pool (default 16).
	MaxConns int32
	// StatementTimeout bounds every statement on the server (default 5s),
	// so a stuck query answers unavailable instead of holding a request.
	StatementTimeout time.Duration
	// Tracer, when set, sees every statement and batch (tests count round
	// trips with it).
	Tracer pgx.QueryTracer
	// AsItIs opens the database without migrating it: a database this
	// release has not migrated (new, or older) is refused with
	// ErrNotMigrated. For checks, which change nothing.
	AsItIs bool
}

// ErrNotMigrated refuses an Options.AsItIs open of a database this
// release's migrations have not all been applied to.
var ErrNotMigrated = errors.New("the database is not migrated to this release's tables")

const (
	defaultMaxConns         = 16
	defaultStatementTimeout = 5 * time.Second
	// maxAttempts bounds how often a write that hit a serialization failure
	// or a deadlock runs again before it is answered unavailable.
	maxAttempts = 5
	// countShards spreads each tenant's profile count over rows.
	countShards = 128
	// schemaNotifyChannel carries "the schema changed" to every replica
	// (of the deployment in the schema public; see namespace).
	schemaNotifyChannel = "profiled_schema"
)

// Advisory lock keys. The two-key form (space, key) does not overlap
// the one-key form used for index values.
const (
	lockSpaceSchema  = 1 // (1, namespace key): writes shared, schema changes exclusive
	lockSpaceSession = 2 // (2, hash of namespace salt and user name): one login at a time per user
	lockSpaceMigrate = 3 // (3, namespace key), session-level: one replica migrates at a time
)

// namespace keeps deployments that share one database in schemas of their
// own (search_path in the store URL) apart where PostgreSQL is
// database-wide: advisory locks and notification channels. A deployment in
// the schema public uses the keys and channel of releases before schemas
// were told apart, so replicas of both kinds can run side by side during
// an upgrade.
type namespace struct {
	schema  string
	key     int32  // second key of the two-key locks: 0 in public
	salt    string // what hashed lock keys start with: "" in public
	channel string // where schema changes are announced
}

func namespaceOf(schema string) namespace {
	if schema == "public" {
		return namespace{schema: schema, channel: schemaNotifyChannel}
	}
	h := fnv.New32a()
	h.Write([]byte(schema))
	key := int32(h.Sum32())
	if key == 0 { // 0 is public's
		key = 1
	}
	// A collision between two schemas' keys only makes them queue for
	// each other, and follow each other's (no-op) notifications.
	return namespace{schema: schema, key: key, salt: schema + "\x00", channel: fmt.Sprintf("%s_%08x", schemaNotifyChannel, uint32(key))}
}

// DB is the PostgreSQL store. It is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
	ns   namespace

	commits, retries, profileReads, indexVisited, recordsWritten atomic.Uint64

	// commitFault makes writes lose their connection around COMMIT's
	// answer (tests of update's answers; commitFaultNone in use).
	commitFault commitFault

	// roundTrip bounds, on this side, each round trip of a request's
	// transaction: statement_timeout is the server's, and a server that
	// does not answer at all (a partition, a primary gone dark, a stalled
	// disk) cannot apply it. Past it the connection is closed and the
	// request answers 503 instead of waiting for TCP to give up.
	roundTrip time.Duration

	// writeSlots bounds the write transactions running at once below the
	// pool's size, so that reads (and /readyz) always find a connection:
	// writes that wait (for a schema change, which holds every write, or
	// for one customer's row) would otherwise take every connection, and
	// reads would queue behind them for statement_timeout after
	// statement_timeout.
	writeSlots chan struct{}
}

// release gives conn back to the pool. A connection that broke (a round
// trip past its bound closes it) leaves the pool at once: released, its
// slot would stay taken while pgx closes it, up to 15 s, and requests
// would wait for slots held by dead connections.
func release(conn *pgxpool.Conn) {
	if !conn.Conn().IsClosed() {
		conn.Release()
		return
	}
	c := conn.Hijack()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	}()
}

// roundTripContext is a statement's own context, outside a request's
// transaction (sessions, settings, counts), with the round-trip bound.
func (db *DB) roundTripContext() (context.Context, context.CancelFunc) {
	return bounded(context.Background(), db.roundTrip)
}

// bounded returns ctx with the round-trip bound (none when d is 0).
func bounded(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// commitFault is where a test has a write lose its connection.
type commitFault uint8

const (
	commitFaultNone  commitFault = iota
	lostBeforeAnswer             // the COMMIT ran, its answer never came
	lostAfterAnswer              // the answer came, the rest of the reply did not
)

// errConnectionLost is what commitFault makes a write see.
var errConnectionLost = errors.New("connection lost (injected)")

var _ profile.Store = (*DB)(nil)

// lowerScheme writes a postgres:// URL's scheme in lower case. URL schemes
// ignore case (RFC 3986), and config.IsPostgresURL takes POSTGRES://; pgx
// tells a URL from a key=value string by a lower-case scheme, and read the
// rest as key=value settings, password and all.
func lowerScheme(url string) string {
	if scheme, rest, ok := strings.Cut(url, "://"); ok {
		if s := strings.ToLower(scheme); s == "postgres" || s == "postgresql" {
			return s + "://" + rest
		}
	}
	return url
}

// Open connects to the database at url, applies the embedded migrations
// (once across replicas) and refuses a database migrated by a newer
// profiled.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(lowerScheme(url))
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL URL: %w", err)
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = defaultMaxConns
	}
	timeout := opts.StatementTimeout
	if timeout <= 0 {
		timeout = defaultStatementTimeout
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = milliseconds(timeout)
	cfg.ConnConfig.RuntimeParams["application_name"] = "profiled"
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// An idle connection is pinged before reuse; one to a server that went
	// dark must not hold the request for as long as TCP takes to notice.
	if cfg.PingTimeout == 0 {
		cfg.PingTimeout = time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL: %w", err)
	}
	// A server at max_connections refuses a new session (53300) until
	// another ends: a start (of a replica beside others starting, or of a
	// tool) waits for a slot, up to the connect timeout, instead of failing.
	ns, err := whenSlotFree(ctx, cfg.ConnConfig.ConnectTimeout, func() (namespace, error) { return migrate(ctx, pool, !opts.AsItIs) })
	if err != nil {
		pool.Close()
		return nil, err
	}
	reserved := max(1, cfg.MaxConns/4)
	return &DB{pool: pool, ns: ns, roundTrip: 2*timeout + time.Second,
		writeSlots: make(chan struct{}, max(1, cfg.MaxConns-reserved))}, nil
}

// milliseconds is d as PostgreSQL's statement_timeout takes it: whole
// milliseconds, rounded up, so that a positive bound under one does not
// become 0, which is "no timeout".
func milliseconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}

// whenSlotFree runs f again while the server refuses it a session for want
// of a connection slot (53300), for up to wait, then gives f's answer.
func whenSlotFree[T any](ctx context.Context, wait time.Duration, f func() (T, error)) (T, error) {
	v, err := f()
	for give := time.Now().Add(wait); tooManyConnections(err) && time.Now().Before(give); v, err = f() {
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(50 * time.Millisecond):
		}
	}
	return v, err
}

// slotWait bounds how long a request waits for a connection slot when the
// pool must open a connection and the server is at max_connections: the
// burst of another process's sessions ends soon, or the request is 503.
const slotWait = time.Second

// acquire is pool.Acquire waiting up to slotWait for a connection slot.
func (db *DB) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	return whenSlotFree(ctx, slotWait, func() (*pgxpool.Conn, error) { return db.pool.Acquire(ctx) })
}

// tooManyConnections reports the server's refusal of a session for want
// of a connection slot.
func tooManyConnections(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53300"
}

// migrate applies pending migrations while holding an advisory lock, so
// that of replicas starting together one migrates and the others wait for
// it, then find nothing to do. (goose's own session locker polls once a
// second at best; a blocking pg_advisory_lock wakes the waiters at once.)
// It returns the namespace of the schema the tables are in (the first of
// the search_path that exists).
//
// Most starts find every migration applied (a restart, a second replica):
// two reads on one of the pool's connections, which requests then reuse,
// tell so. Otherwise the migration runs on one connection of its own,
// whatever the pool's size: a PostgreSQL connection is a process, and its
// start costs the server tens of milliseconds of CPU.
func migrate(ctx context.Context, pool *pgxpool.Pool, apply bool) (namespace, error) {
	known, count, err := embeddedMigrations()
	if err != nil {
		return namespace{}, err
	}
	state, err := readMigrationStatus(ctx, pool)
	if err != nil {
		return namespace{}, err
	}
	ns := state.ns
	if state.latest > known {
		return namespace{}, newerDatabase(state.latest, known)
	}
	if state.latest == known && state.applied == count && !state.locked {
		return ns, nil
	}
	if !apply {
		return namespace{}, ErrNotMigrated
	}

	// The statement timeout that keeps requests short applies neither to a
	// migration (it may rebuild a large table) nor to the wait for another
	// replica's; ctx bounds the wait. The one connection is never recycled
	// (whatever the URL's pool_max_conn_lifetime), so the session that took
	// the lock is the one goose migrates on.
	cfg := pool.Config().Copy()
	cfg.MinConns, cfg.MaxConns = 0, 1
	cfg.MaxConnLifetime, cfg.MaxConnLifetimeJitter, cfg.MaxConnIdleTime = forever, 0, forever
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "0"
	migrating, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return namespace{}, fmt.Errorf("store: PostgreSQL: %w", err)
	}
	// Closing the pool ends its one session, which releases the lock.
	defer migrating.Close()
	if _, err := migrating.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", lockSpaceMigrate, ns.key); err != nil {
		return namespace{}, fmt.Errorf("store: waiting for the migration lock: %w", err)
	}
	// A migration once begun runs to its end: a start deadline that cut
	// it would roll it back, and the next start would begin it again.
	run := context.WithoutCancel(ctx)
	sqlDB := stdlib.OpenDBFromPool(migrating) // the same, locked, connection
	defer sqlDB.Close()
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return namespace{}, err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, dir, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return namespace{}, fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := provider.Up(run); err != nil {
		return namespace{}, fmt.Errorf("store: applying migrations to PostgreSQL: %w", err)
	}
	current, err := provider.GetDBVersion(run)
	if err != nil {
		return namespace{}, fmt.Errorf("store: reading the migration version: %w", err)
	}
	var held bool
	if err := migrating.QueryRow(run, "SELECT pg_advisory_unlock($1, $2)", lockSpaceMigrate, ns.key).Scan(&held); err != nil {
		return namespace{}, fmt.Errorf("store: releasing the migration lock: %w", err)
	}
	if !held { // the session that took it was replaced: another may have migrated at once
		return namespace{}, errors.New("store: the migration lock was not held to the end of the migration; start again")
	}
	if current > known {
		return namespace{}, newerDatabase(current, known)
	}
	return ns, nil
}

// forever is a connection lifetime that never ends (pgxpool takes 0 as
// "already expired").
const forever = 100 * 365 * 24 * time.Hour

// migrationStatus is what a start finds of the migrations of its schema.
type migrationStatus struct {
	ns              namespace
	applied, latest int64 // how many, up to which version (0, 0 before the first)
	locked          bool  // another replica holds the migration lock: it may be migrating
}

// readMigrationStatus reads the schema the tables are in and the
// migrations applied there.
func readMigrationStatus(ctx context.Context, pool *pgxpool.Pool) (state migrationStatus, err error) {
	var schema *string
	var tracked bool
	// The table in the schema the tables go to, as goose looks for it: with
	// search_path "a,public", public's must not count for a.
	err = pool.QueryRow(ctx, "SELECT current_schema(), EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'goose_db_version')").Scan(&schema, &tracked)
	if err != nil {
		return state, fmt.Errorf("store: PostgreSQL: %w", err)
	}
	path := pool.Config().ConnConfig.RuntimeParams["search_path"]
	if schema == nil {
		return state, fmt.Errorf("store: no schema of the search_path (%q) exists in the database: create it (CREATE SCHEMA), or name an existing one in the store URL", path)
	}
	if first, named := firstSchema(path); named && first != *schema {
		// Tables would go to a later schema of the path, which may be
		// another deployment's: a typo must not share its data.
		return state, fmt.Errorf("store: the schema %q, first of the store URL's search_path, does not exist in the database: create it (CREATE SCHEMA), or correct the URL", first)
	}
	state.ns = namespaceOf(*schema)
	if !tracked {
		return state, nil
	}
	// A migration in progress has not committed its version yet: with the
	// lock held, the start waits for it instead of starting on what is
	// about to change.
	err = pool.QueryRow(ctx, `SELECT count(DISTINCT version_id), COALESCE(max(version_id), 0),
		EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2)
		FROM `+pgx.Identifier{*schema, "goose_db_version"}.Sanitize()+` WHERE version_id > 0 AND is_applied`,
		lockSpaceMigrate, int64(uint32(state.ns.key))).Scan(&state.applied, &state.latest, &state.locked)
	if err != nil {
		return state, fmt.Errorf("store: reading the migration version: %w", err)
	}
	return state, nil
}

// firstSchema returns the first schema a search_path names, as PostgreSQL
// reads the name (folded to lower case unless quoted), and false when
// there is none or it is "$user".
func firstSchema(path string) (string, bool) {
	first, _, _ := strings.Cut(path, ",")
	first = strings.TrimSpace(first)
	if first == "" || first == "$user" {
		return "", false
	}
	if len(first) >= 2 && first[0] == '"' && first[len(first)-1] == '"' {
		return strings.ReplaceAll(first[1:len(first)-1], `""`, `"`), true
	}
	return strings.ToLower(first), true
}

// embeddedMigrations returns the version of the latest migration this
// binary holds, and how many it holds (files are named VERSION_name.sql).
func embeddedMigrations() (latest, count int64, err error) {
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("store: migration %s is not named VERSION_name.sql", e.Name())
		}
		latest = max(latest, v)
		count++
	}
	return latest, count, nil
}

func newerDatabase(current, known int64) error {
	return fmt.Errorf("store: the database is at migration version %d, newer than this profiled knows (%d): run a newer profiled, or restore a database of version %d or older", current, known, known)
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the database answers: the readiness check.
func (db *DB) Ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// A read of a table, not a bare ping: a database made anew and empty
	// answers pings while every request fails.
	var one int
	if err := db.pool.QueryRow(ctx, "SELECT 1 FROM schema_state").Scan(&one); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return unavailable(err)
	}
	return nil
}

// View runs fn in a read-only snapshot of tenant's data. BEGIN goes to
// the server with the first read, in one round trip.
func (db *DB) View(ctx context.Context, tenant string, fn func(profile.Tx) error) (err error) {
	conn, err := db.acquire(ctx)
	if err != nil {
		return mapError(err)
	}
	defer release(conn) // a connection left inside a transaction is closed, not reused
	// Once it has a connection, a request's statements are not cancelled
	// when its client goes away (statement_timeout still bounds them): pgx
	// can only cancel a running query by closing its connection, and
	// clients that give up under load would then cost a reconnect each.
	ctx = context.WithoutCancel(ctx)
	t := &tx{db: db, ctx: ctx, pg: conn, tenant: tenant, roundTrip: db.roundTrip}
	t.queue(nil, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
	t.readVersion()
	if err = fn(t); err != nil {
		if t.pending.Len() == 0 { // BEGIN was sent
			rctx, cancel := bounded(ctx, db.roundTrip)
			_, _ = conn.Exec(rctx, "ROLLBACK")
			cancel()
		}
		return err
	}
	if t.pending.Len() > 0 { // no read was made: no transaction was begun
		return nil
	}
	rctx, cancel := bounded(ctx, db.roundTrip)
	defer cancel()
	_, err = conn.Exec(rctx, "COMMIT")
	return mapError(err)
}

// Update runs fn in a write transaction over tenant's data, again after a
// serialization failure or deadlock (at most maxAttempts times).
func (db *DB) Update(ctx context.Context, tenant string, fn func(profile.Tx) error) error {
	return db.retry(ctx, func() error {
		return db.update(ctx, tenant, lockShared, fn)
	})
}

type schemaLockMode int

const (
	lockShared schemaLockMode = iota
	lockExclusive
)

func (db *DB) update(ctx context.Context, tenant string, mode schemaLockMode, fn func(profile.Tx) error) (err error) {
	if db.writeSlots != nil {
		select {
		case db.writeSlots <- struct{}{}:
			defer func() { <-db.writeSlots }()
		case <-ctx.Done():
			return mapError(ctx.Err())
		}
	}
	conn, err := db.acquire(ctx)
	if err != nil {
		return mapError(err)
	}
	defer release(conn) // a connection left inside a transaction is closed, not reused
	if mode != lockExclusive {
		ctx = context.WithoutCancel(ctx) // see View
	}
	// A schema change is cancelled by its ctx (the connection is then
	// closed, so the server rolls it back whole): callers that must not be
	// cut by a client going away pass a ctx without cancellation.
	t := &tx{db: db, ctx: ctx, pg: conn, tenant: tenant, write: true, existing: map[string]bool{}, roundTrip: db.roundTrip}
	// BEGIN, the schema lock and the version in one round trip. READ
	// COMMITTED whatever the server's default: the locking is designed for
	// it (each statement sees what committed before it), and the version,
	// read by its own statement after the lock is granted, is the version of
	// the last schema change.
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	lockFn := "pg_advisory_xact_lock_shared"
	if mode == lockExclusive {
		lockFn = "pg_advisory_xact_lock"
		// A schema change may rebuild indexes over every profile: its
		// statements are not bound by statement_timeout (writers waiting
		// for it are, and answer 503 meanwhile).
		b.Queue("SET LOCAL statement_timeout = 0")
		t.roundTrip = 0 // nor by the round-trip bound
	}
	b.Queue("SELECT "+lockFn+"($1, $2)", lockSpaceSchema, db.ns.key)
	b.Queue("SELECT version FROM schema_state").QueryRow(func(row pgx.Row) error {
		var v int64
		err := row.Scan(&v)
		t.version = uint64(v)
		return err
	})
	defer func() {
		if err != nil {
			rctx, cancel := bounded(ctx, db.roundTrip)
			_, _ = conn.Exec(rctx, "ROLLBACK")
			cancel()
		}
	}()
	bctx, cancel := bounded(ctx, t.roundTrip)
	err = conn.SendBatch(bctx, b).Close()
	cancel()
	if err != nil {
		return mapError(err)
	}
	if err := fn(t); err != nil {
		return err
	}
	// COMMIT goes with the last queued writes, in one round trip. The
	// server answers COMMIT of a failed transaction with ROLLBACK and no
	// error: that must not pass for a commit.
	committed, answered := false, false
	t.pending.Queue("COMMIT").Fn = func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if db.commitFault == lostBeforeAnswer {
			return errConnectionLost
		}
		if err != nil {
			return mapError(err)
		}
		answered = true
		if tag.String() != "COMMIT" {
			return fmt.Errorf("store: the transaction was rolled back (%s)", tag)
		}
		committed = true
		if db.commitFault == lostAfterAnswer {
			return errConnectionLost
		}
		return nil
	}
	err = t.flush()
	switch {
	case committed:
		// The database said COMMIT: the write is stored, whatever broke
		// while the rest of its reply was read. Answering "unavailable,
		// retry" would have a client write it twice.
		err = nil
	case err != nil && !answered && connectionLost(err):
		// The connection broke before COMMIT's answer came: the COMMIT may
		// have run. The transaction's id cannot settle it (after a crash,
		// even one that keeps the postmaster, the server may hand a lost
		// transaction's id to a new one), so the client is told.
		err = &errs.Error{Kind: errs.KindUnavailable, Code: profile.CodeStoreUnavailable,
			Message: "the profile store became unavailable while this write was committed, and whether it was stored is not known: read it before writing again",
			Err:     err}
	}
	if err != nil {
		return err
	}
	db.commits.Add(1)
	return nil
}

// connectionLost reports whether err broke the connection rather than
// failed a statement (which leaves the transaction failed, never committed).
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	return !errors.As(err, &pgErr) || pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC"
}

// retry runs attempt until it succeeds, fails for a reason other than a
// serialization failure or deadlock, or maxAttempts ran.
func (db *DB) retry(ctx context.Context, attempt func() error) error {
	for i := 1; ; i++ {
		err := attempt()
		if !retryable(err) {
			return err
		}
		if i == maxAttempts {
			return unavailable(err)
		}
		db.retries.Add(1)
		// A short random pause lets the transaction that won go first.
		select {
		case <-time.After(time.Duration(rand.IntN(i*5)+1) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// unavailable wraps an error of the database or the network: the APIs
// answer 503 STORE_UNAVAILABLE and show none of its text.
func unavailable(err error) error {
	return &errs.Error{Kind: errs.KindUnavailable, Code: profile.CodeStoreUnavailable,
		Message: "the profile store is unavailable; retry later", Err: err}
}

// mapError turns what pgx returns into the domain's errors: conflicts on
// the constraints that carry meaning, unavailable for everything that says
// the database or the connection cannot serve now. Retryable conflicts
// pass through for retry to see.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	// A request's statements run without its cancellation (see View), so
	// a deadline here is the connect timeout or a round trip's bound
	// (DB.roundTrip): the database did not answer.
	if errs.As(err) != nil || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return unavailable(err)
	}
	// A connection the server refused, whatever it said (55000: the
	// database does not allow connections; 3D000: it does not exist;
	// 28P01: the password changed), is the store being unavailable, not a
	// fault of the request.
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return unavailable(err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505" && pgErr.ConstraintName == "profiles_pkey":
			return &errs.Error{Kind: errs.KindConflict, Code: profile.CodeProfileExists, Message: "this customer_id is already used", Err: err}
		case retryable(err):
			return err
		case pgErr.Code == "25006": // read-only transaction: a failover left us on a standby
			return unavailable(err)
		case pgErr.Code == "42P01" || pgErr.Code == "3F000":
			// No such table, or no such schema: the database was dropped and
			// made anew (a restore's window between createdb and pg_restore),
			// or its tables were: no request can be served until they are back.
			return unavailable(err)
		case len(pgErr.Code) == 2+3 && (pgErr.Code[:2] == "08" || pgErr.Code[:2] == "53" || pgErr.Code[:2] == "57" || pgErr.Code[:2] == "58"):
			// connection exceptions, insufficient resources, operator
			// intervention (shutdown, statement timeout), system errors
			return unavailable(err)
		}
		return fmt.Errorf("store: %w", err)
	}
	// Everything else pgx returns is about the connection: refused, reset,
	// closed mid-query, timed out.
	return unavailable(err)
}

// SchemaState returns the stored schema overlay, index manifest and version.
func (db *DB) SchemaState(ctx context.Context) (profile.SchemaState, error) {
	var st profile.SchemaState
	var v int64
	ctx, cancel := bounded(ctx, db.roundTrip)
	defer cancel()
	var hash string
	err := db.pool.QueryRow(ctx, "SELECT version, overlay, manifest, hash FROM schema_state").Scan(&v, &st.Overlay, &st.Manifest, &hash)
	st.Version = uint64(v)
	st.Hash = profile.HashOf(st.Version, hash)
	return st, mapError(err)
}

// UpdateSchema stores overlay and manifest, moves the version from base to
// base+1 and runs fn for every tenant, holding the schema lock exclusively:
// every write of every replica waits. Replicas are notified on commit.
func (db *DB) UpdateSchema(ctx context.Context, base uint64, overlay, manifest []byte, hash string, fn func(tenant string, tx profile.Tx) error) error {
	return db.retry(ctx, func() error {
		return db.update(ctx, "", lockExclusive, func(ptx profile.Tx) error {
			t := ptx.(*tx)
			ctx := t.ctx // not cancelled by the client: a schema change completes or fails whole
			if t.version != base {
				return profile.ErrSchemaMoved
			}
			_, err := t.pg.Exec(ctx, "UPDATE schema_state SET version = $1, overlay = $2, manifest = $3, hash = $4",
				int64(base+1), nilIfEmpty(overlay), nilIfEmpty(manifest), profile.StoredHash(base+1, hash))
			if err != nil {
				return mapError(err)
			}
			if err := db.eachTenant(t, base+1, fn); err != nil {
				return err
			}
			_, err = t.pg.Exec(ctx, "SELECT pg_notify($1, $2)", db.ns.channel, strconv.FormatUint(base+1, 10))
			return mapError(err)
		})
	})
}

// eachTenant runs fn for every tenant in t's transaction, the default
// tenant first (it keeps a schema change's audit entry), each tenant's
// writes sent before the next.
func (db *DB) eachTenant(t *tx, version uint64, fn func(tenant string, tx profile.Tx) error) error {
	tenants, err := db.tenants(t.ctx, t.pg)
	if err != nil {
		return err
	}
	if !slices.Contains(tenants, "") {
		tenants = slices.Insert(tenants, 0, "")
	}
	for _, tenant := range tenants {
		tt := &tx{db: db, ctx: t.ctx, pg: t.pg, tenant: tenant, write: true, existing: map[string]bool{}, version: version, noValueLocks: true}
		if err := fn(tenant, tt); err != nil {
			return err
		}
		if err := tt.flush(); err != nil {
			return err
		}
	}
	return nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// Tenants lists the tenants that have data ("" is the default tenant).
func (db *DB) Tenants() ([]string, error) {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	return db.tenants(ctx, db.pool)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (db *DB) tenants(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT DISTINCT tenant FROM profile_counts ORDER BY tenant")
	if err != nil {
		return nil, mapError(err)
	}
	tenants, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return tenants, mapError(err)
}

// RecordsWritten counts the extension records write transactions stored
// since Open, attempts that rolled back included (a write stores only the
// records it changes).
func (db *DB) RecordsWritten() uint64 { return db.recordsWritten.Load() }

// ProfileCount counts the profiles of all tenants from the counter rows
// every create and delete keeps.
func (db *DB) ProfileCount() (int, error) {
	ctx, cancel := db.roundTripContext()
	defer cancel()
	var n int64
	err := db.pool.QueryRow(ctx, "SELECT coalesce(sum(n), 0) FROM profile_counts").Scan(&n)
	return int(n), mapError(err)
}

// Stats are cumulative counters since Open and the pool's figures, for
// metrics and tests.
type Stats struct {
	Commits             uint64 // write transactions committed
	Retries             uint64 // writes run again after a serialization failure or deadlock
	ProfileReads        uint64
	IndexEntriesVisited uint64
	RecordsWritten      uint64 // extension records stored (a write stores only those it changes)
	Pool                *pgxpool.Stat
}

// Schema returns the schema profiled's tables are in (the first of the
// store URL's search_path, or public), for the start log.
func (db *DB) Schema() string { return db.ns.schema }

// Stats returns the current counters.
func (db *DB) Stats() Stats {
	return Stats{
		Commits:             db.commits.Load(),
		Retries:             db.retries.Load(),
		ProfileReads:        db.profileReads.Load(),
		IndexEntriesVisited: db.indexVisited.Load(),
		RecordsWritten:      db.recordsWritten.Load(),
		Pool:                db.pool.Stat(),
	}
}

// WatchSchema calls changed whenever another process may have changed the
// stored schema: on every notification, and every poll interval as well,
// so that a notification lost while the connection was down still heals.
// It returns when ctx ends.
func (db *DB) WatchSchema(ctx context.Context, poll time.Duration, changed func()) {
	for ctx.Err() == nil {
		db.listen(ctx, poll, changed)
		select { // the connection failed: wait a little, then listen again
		case <-ctx.Done():
		case <-time.After(poll):
			changed()
		}
	}
}

// listen holds a connection of its own (not one of the pool's, which are
// all for requests) listening on the schema channel until it fails or ctx
// ends.
func (db *DB) listen(ctx context.Context, poll time.Duration, changed func()) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig)
	if err != nil {
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.ns.channel}.Sanitize()); err != nil {
		return
	}
	changed() // whatever happened while not listening
	for {
		wait, cancel := context.WithTimeout(ctx, poll)
		_, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil, errors.Is(err, context.DeadlineExceeded):
			changed()
		default:
			return
		}
	}
}

// ReadOverlay reads the stored schema overlay for offline checks
// (check-config) without migrating or changing anything: a database that
// profiled has not initialised yet has no overlay.
func ReadOverlay(ctx context.Context, url string) (schema.Document, error) {
	var doc schema.Document
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, lowerScheme(url))
	if err != nil {
		return doc, fmt.Errorf("store: reading the schema overlay: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var data []byte
	err = conn.QueryRow(ctx, "SELECT overlay FROM schema_state").Scan(&data)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == "42P01": // no table yet
		return doc, nil
	case err != nil:
		return doc, fmt.Errorf("store: reading the schema overlay: %w", err)
	}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &doc); err != nil {
			return doc, fmt.Errorf("store: decoding the stored schema overlay: %w", err)
		}
	}
	return doc, nil
}

// Setting returns the server setting name ("" when unset); replicas share
// it (server mode).
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	// Every data request reads the server mode once a second (or finds it
	// cached): bounded as a request's round trips are.
	ctx, cancel := bounded(ctx, db.roundTrip)
	defer cancel()
	var v string
	err := db.pool.QueryRow(ctx, "SELECT value FROM server_settings WHERE name = $1", name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, mapError(err)
}

// SetSetting stores a server setting.
func (db *DB) SetSetting(ctx context.Context, name, value string) error {
	ctx, cancel := bounded(ctx, db.roundTrip)
	defer cancel()
	_, err := db.pool.Exec(ctx, "INSERT INTO server_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value", name, value)
	return mapError(err)
}
