package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
)

// migrated hands out migrated schemas, reused between tests (as
// postgrestest does for other packages; it imports this one).
var migrated = &pgtest.Template{Prepare: func(ctx context.Context, url string) error {
	db, err := Open(ctx, url, Options{MaxConns: 1})
	if err != nil {
		return err
	}
	db.Close()
	return nil
}}

// openTest opens a store on a migrated schema of its own (tests about the
// database itself, its locks or migrations, use pgtest.URL or
// pgtest.SchemaURL).
func openTest(tb testing.TB) (*DB, string) {
	tb.Helper()
	url := migrated.URL(tb)
	db, err := Open(context.Background(), url, Options{MaxConns: 8})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, url
}

func TestOpen_ReplicasStartingTogetherMigrateOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errsCh := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			db, err := Open(t.Context(), url, Options{})
			if err == nil {
				err = db.Ping()
				db.Close()
			}
			errsCh <- err
		})
	}
	wg.Wait()
	close(errsCh)
	for err := range errsCh {
		if err != nil {
			t.Fatal(err)
		}
	}
	conn := connect(t, url)
	var applied int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if want := len(mustSources(t)); applied != want {
		t.Errorf("%d migration rows after 4 concurrent starts, want %d", applied, want)
	}
}

// migrationLock is the public schema's migration lock, held by a session
// of the test as a migrating replica would hold it.
type migrationLock struct {
	t    *testing.T
	conn *pgx.Conn
}

func holdMigrationLock(t *testing.T, url string) *migrationLock {
	t.Helper()
	conn := connect(t, url)
	if _, err := conn.Exec(t.Context(), "SELECT pg_advisory_lock($1, 0)", lockSpaceMigrate); err != nil {
		t.Fatal(err)
	}
	return &migrationLock{t: t, conn: conn}
}

// waitForWaiters returns once n sessions wait for a lock of the database,
// failing the test if one of the Opens started returns first.
func (l *migrationLock) waitForWaiters(n int, started ...<-chan error) {
	l.t.Helper()
	for waiting := 0; waiting < n; {
		for _, opened := range started {
			notYet(l.t, opened, "without waiting for the migration lock")
		}
		if err := l.conn.QueryRow(l.t.Context(), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&waiting); err != nil {
			l.t.Fatal(err)
		}
	}
}

func (l *migrationLock) release() {
	l.t.Helper()
	if _, err := l.conn.Exec(l.t.Context(), "SELECT pg_advisory_unlock($1, 0)", lockSpaceMigrate); err != nil {
		l.t.Fatal(err)
	}
}

// openAsync starts Open(url, opts) and returns where its error arrives.
func openAsync(url string, opts Options) <-chan error {
	opened := make(chan error, 1)
	go func() {
		db, err := Open(context.Background(), url, opts)
		if err == nil {
			db.Close()
		}
		opened <- err
	}()
	return opened
}

func notYet(t *testing.T, opened <-chan error, what string) {
	t.Helper()
	select {
	case err := <-opened:
		t.Fatalf("Open returned (%v) %s", err, what)
	default:
	}
}

// A replica waits for another's migration however long it takes: the
// statement timeout that bounds requests does not end the wait (CI once
// failed when a loaded machine made four replicas' first migration outlast
// it).
func TestOpen_WaitsForALongMigrationBeyondTheStatementTimeout(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	lock := holdMigrationLock(t, url)
	// Long enough for the start's reads before the wait on a loaded
	// machine (200 ms was not: the migration status read timed out).
	const timeout = time.Second
	opened := openAsync(url, Options{StatementTimeout: timeout})
	// Hold the lock for longer than the timeout once the replica waits:
	// the duration is what is tested here.
	lock.waitForWaiters(1, opened)
	time.Sleep(timeout * 3 / 2)
	notYet(t, opened, "while another replica held the migration lock")
	lock.release()
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
}

// The session that waited for the migration lock is the one that
// migrates, however short a connection lifetime the URL asks of the pool:
// a connection replaced after the wait would have lost the lock, and
// replicas would migrate at once (and fail on each other's tables).
func TestOpen_MigratesOnTheSessionThatHoldsTheLock(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	lock := holdMigrationLock(t, url)
	short := url + "&pool_max_conn_lifetime=50ms"
	var starts []<-chan error
	for range 4 {
		starts = append(starts, openAsync(short, Options{}))
	}
	lock.waitForWaiters(4, starts...)
	time.Sleep(200 * time.Millisecond) // the waiting connections outlive their lifetime
	lock.release()
	for _, opened := range starts {
		if err := <-opened; err != nil {
			t.Error(err)
		}
	}
}

// A replica that starts while another holds the migration lock waits for
// it even when the versions it reads are all it knows: the other may be
// applying a newer one it has not committed yet.
func TestOpen_WaitsForAMigrationInProgressOnAMigratedDatabase(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t) // public, whose migration lock holdMigrationLock takes
	db, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	lock := holdMigrationLock(t, url)
	opened := openAsync(url, Options{})
	lock.waitForWaiters(1, opened)
	lock.release()
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
}

// connect opens a connection of the test's own to url, closed when the
// test ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustSources(t *testing.T) []string {
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestOpen_RefusesNewerDatabase(t *testing.T) {
	t.Parallel()
	db, url := openTest(t)
	db.Close()
	conn := connect(t, url)
	if _, err := conn.Exec(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, true)"); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), url, Options{})
	known := fmt.Sprint(len(mustSources(t)))
	if err == nil || !strings.Contains(err.Error(), "99") || !strings.Contains(err.Error(), "("+known+")") {
		t.Fatalf("Open on a newer database = %v, want a refusal naming versions 99 and %s", err, known)
	}
}

// race runs n concurrent updates and sorts their outcomes by error code.
func race(t *testing.T, db *DB, n int, fn func(i int, tx profile.Tx) error) map[string]int {
	t.Helper()
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := db.Update(context.Background(), "", func(tx profile.Tx) error { return fn(i, tx) })
			code := "ok"
			if err != nil {
				code = "other: " + err.Error()
				if e := errs.As(err); e != nil {
					code = e.Code
				}
			}
			mu.Lock()
			outcomes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return outcomes
}

func TestUniqueKeyRace_OneWinner(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	got := race(t, db, 20, func(i int, tx profile.Tx) error {
		return tx.AddIndexEntry("Email", []string{"ann@x"}, fmt.Sprintf("c%d", i), true)
	})
	if got["ok"] != 1 || got[profile.CodeUniqueKeyViolation] != 19 {
		t.Errorf("outcomes = %v, want 1 ok and 19 %s", got, profile.CodeUniqueKeyViolation)
	}
	// Entries of a key that is not unique may share values.
	got = race(t, db, 5, func(i int, tx profile.Tx) error {
		return tx.AddIndexEntry("name", []string{"Ann"}, fmt.Sprintf("c%d", i), false)
	})
	if got["ok"] != 5 {
		t.Errorf("non-unique outcomes = %v", got)
	}
}

func TestCreateRace_SameIDNeverOverwrites(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	now := time.Now()
	got := race(t, db, 10, func(i int, tx profile.Tx) error {
		if p, err := tx.Profile("c1"); err != nil || p != nil { // committed by a faster one: what the service answers
			return errs.Conflict(profile.CodeProfileExists, "exists (%v)", err)
		}
		return tx.PutProfile(&profile.Profile{ID: "c1", Num: uint64(i + 1), Created: now, Updated: now, Rev: 1, Attributes: map[string]any{"n": fmt.Sprint(i)}})
	})
	if got["ok"] != 1 || got[profile.CodeProfileExists] != 9 {
		t.Errorf("outcomes = %v, want 1 ok and 9 %s", got, profile.CodeProfileExists)
	}
	if n, _ := db.ProfileCount(); n != 1 {
		t.Errorf("count = %d", n)
	}
}

// A uniqueness check that locks the values first sees what the previous
// holder committed: of concurrent check-then-add writers exactly one adds.
func TestLockIndexValues_SerialisesChecks(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	taken := errors.New("taken")
	got := race(t, db, 10, func(i int, tx profile.Tx) error {
		if err := tx.LockIndexValues("email", []string{"bob@x"}); err != nil {
			return err
		}
		found := false
		if err := tx.ScanIndex("email", []string{"bob@x"}, func(string) bool { found = true; return false }); err != nil {
			return err
		}
		if found {
			return errs.Conflict("TAKEN", "%v", taken)
		}
		return tx.AddIndexEntry("email", []string{"bob@x"}, fmt.Sprintf("c%d", i), false)
	})
	if got["ok"] != 1 || got["TAKEN"] != 9 {
		t.Errorf("outcomes = %v, want 1 ok and 9 TAKEN", got)
	}
}

// Writers of one profile queue on its row: no increment is lost.
func TestProfileRowLock_NoLostUpdate(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	now := time.Now()
	err := db.Update(t.Context(), "", func(tx profile.Tx) error {
		return tx.PutProfile(&profile.Profile{ID: "c1", Num: 1, Created: now, Updated: now, Rev: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := race(t, db, 20, func(_ int, tx profile.Tx) error {
		p, err := tx.Profile("c1")
		if err != nil {
			return err
		}
		p.Rev++
		return tx.PutProfile(p)
	})
	if got["ok"] != 20 {
		t.Fatalf("outcomes = %v", got)
	}
	_ = db.View(t.Context(), "", func(tx profile.Tx) error {
		p, err := tx.Profile("c1")
		if err != nil || p.Rev != 21 {
			t.Errorf("rev after 20 increments = %v, %v; want 21", p, err)
		}
		return nil
	})
}

func TestSchemaVersion_WritesSeeTheLatestChange(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	if err := db.UpdateSchema(t.Context(), 0, []byte(`{}`), nil, "", func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateSchema(t.Context(), 0, nil, nil, "", func(string, profile.Tx) error { return nil }); !errors.Is(err, profile.ErrSchemaMoved) {
		t.Errorf("UpdateSchema from an old base = %v", err)
	}
	err := db.Update(t.Context(), "", func(tx profile.Tx) error {
		v, err := tx.SchemaVersion()
		if v != 1 {
			t.Errorf("write sees schema version %d, want 1", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWatchSchema_NotifiesOtherProcesses(t *testing.T) {
	t.Parallel()
	a, url := openTest(t)
	b, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := make(chan struct{}, 16)
	go b.WatchSchema(ctx, time.Hour, func() { calls <- struct{}{} })
	<-calls // the first call, made once listening
	if err := a.UpdateSchema(t.Context(), 0, []byte(`{}`), nil, "", func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-calls:
	case <-time.After(time.Second):
		t.Fatal("no notification within 1 s of a schema change on another connection")
	}
}

// A write whose fn swallowed a failed statement and returned nil must not
// be reported committed: the server rolled the transaction back.
func TestUpdate_RolledBackIsNotCommitted(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	now := time.Now()
	err := db.Update(t.Context(), "", func(ptx profile.Tx) error {
		if err := ptx.PutProfile(&profile.Profile{ID: "p1", Num: 1, Created: now, Updated: now, Rev: 1}); err != nil {
			return err
		}
		_ = ptx.AddIndexEntry("k", []string{"v"}, "p1", false)
		_ = ptx.(*tx).query(func(pgx.Rows) error { return nil }, "SELECT 1/0") // fails; the error is ignored
		return nil
	})
	if err == nil {
		t.Fatal("Update = nil after a failed statement, want an error")
	}
	if n, _ := db.ProfileCount(); n != 0 {
		t.Errorf("%d profiles stored by a rolled-back transaction", n)
	}
}

// TestMapError: what says "the database cannot serve now" is 503 with no
// database text; meaningful constraints are conflicts; retryable codes
// pass through for the retry loop; a client's cancellation stays itself.
func TestMapError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  error
		kind errs.Kind
		code string
	}{
		{"connect timeout", &pgconn.ConnectError{}, errs.KindUnavailable, profile.CodeStoreUnavailable},
		{"deadline", fmt.Errorf("failed to connect: %w", context.DeadlineExceeded), errs.KindUnavailable, profile.CodeStoreUnavailable},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, errs.KindUnavailable, profile.CodeStoreUnavailable},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, errs.KindUnavailable, profile.CodeStoreUnavailable},
		{"read-only standby", &pgconn.PgError{Code: "25006"}, errs.KindUnavailable, profile.CodeStoreUnavailable},
		{"connection lost", errors.New("unexpected EOF"), errs.KindUnavailable, profile.CodeStoreUnavailable},
		{"id taken", &pgconn.PgError{Code: "23505", ConstraintName: "profiles_pkey"}, errs.KindConflict, profile.CodeProfileExists},
		{"bad statement", &pgconn.PgError{Code: "42601"}, errs.KindInternal, ""},
	} {
		got := mapError(c.err)
		if e := errs.As(got); errs.KindOf(got) != c.kind || (c.code != "" && (e == nil || e.Code != c.code)) {
			t.Errorf("%s: mapError = %v (kind %v), want %v %s", c.name, got, errs.KindOf(got), c.kind, c.code)
		}
		if e := errs.As(got); e != nil && (strings.Contains(e.Message, "57") || strings.Contains(e.Message, "EOF")) {
			t.Errorf("%s: the message shows database text: %q", c.name, e.Message)
		}
	}
	if err := mapError(&pgconn.PgError{Code: "40001"}); !retryable(err) {
		t.Errorf("a serialization failure is %v, want it left retryable", err)
	}
	if err := mapError(context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancellation is %v", err)
	}
}

// TestUnavailable_WhenTheServerRefusesConnections: a connection the server
// refuses (here SQLSTATE 55000: the database does not allow connections)
// is the store being unavailable, 503, not a 500: pgx wraps the server's
// error in a ConnectError, and its SQLSTATE is no connection class.
func TestUnavailable_WhenTheServerRefusesConnections(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t) // a database of its own: the test closes it to connections
	db, err := Open(t.Context(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	admin := connect(t, pgtest.AdminURL())
	name := pgx.Identifier{cfg.Database}.Sanitize()
	if _, err := admin.Exec(t.Context(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true"); err != nil {
			t.Error(err)
		}
	})
	db.pool.Reset() // the next read connects anew
	wantUnavailableRead(t, db, "while the database refuses connections")
}

// wantUnavailableRead fails t unless a read of db answers 503
// STORE_UNAVAILABLE.
func wantUnavailableRead(t *testing.T, db *DB, when string) {
	t.Helper()
	err := db.View(t.Context(), "", func(tx profile.Tx) error {
		_, err := tx.Profile("anyone")
		return err
	})
	if e := errs.As(err); e == nil || e.Kind != errs.KindUnavailable || e.Code != profile.CodeStoreUnavailable {
		t.Errorf("a read %s = %v, want 503 %s", when, err, profile.CodeStoreUnavailable)
	}
}

// TestOpen_SchemeIgnoresCase: POSTGRES://... opens the database, as the
// config takes it for one (pgx alone read it as key=value settings and
// showed the password in its error).
func TestOpen_SchemeIgnoresCase(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	scheme, rest, _ := strings.Cut(url, "://")
	upper := strings.ToUpper(scheme) + "://" + rest
	db, err := Open(t.Context(), upper, Options{MaxConns: 2})
	if err != nil {
		t.Fatalf("Open with an upper-case scheme: %v", err)
	}
	db.Close()
	if _, err := ReadOverlay(t.Context(), upper); err != nil { // check-config's read
		t.Errorf("ReadOverlay with an upper-case scheme: %v", err)
	}
}

// statements records the statements a store sends and on how many
// connections.
type statements struct {
	mu    sync.Mutex
	sql   []string
	conns map[*pgx.Conn]bool
}

func (s *statements) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sql = append(s.sql, data.SQL)
	if s.conns == nil {
		s.conns = map[*pgx.Conn]bool{}
	}
	s.conns[conn] = true
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statements) sent(fragment string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.sql, func(q string) bool { return strings.Contains(q, fragment) })
}

// A start that finds every migration applied (a restart, a second
// replica) reads that on a connection of the pool, takes no migration
// lock and opens no connection of its own: a PostgreSQL connection is a
// process the server starts.
func TestOpen_MigratedDatabaseNeedsNoConnectionOfItsOwn(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	first := &statements{}
	db, err := Open(t.Context(), url, Options{Tracer: first})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !first.sent("pg_advisory_lock") {
		t.Fatal("the first start did not migrate under the lock")
	}
	again := &statements{}
	db, err = Open(t.Context(), url, Options{Tracer: again})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if again.sent("pg_advisory_lock") || len(again.conns) != 1 {
		t.Errorf("a start on a migrated database used %d connections and sent %q; want one connection and no migration lock", len(again.conns), again.sql)
	}
	if db.pool.Stat().TotalConns() != 1 {
		t.Errorf("the pool holds %d connections after the start, want the one that read the migration state", db.pool.Stat().TotalConns())
	}
}

// cancelAfterLock cancels a context once the migration lock is granted.
type cancelAfterLock struct {
	cancel  context.CancelFunc
	locking atomic.Bool
}

func (c *cancelAfterLock) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.locking.Store(strings.Contains(data.SQL, "pg_advisory_lock("))
	return ctx
}

func (c *cancelAfterLock) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {
	if c.locking.Load() {
		c.cancel()
	}
}

// A migration once begun runs to its end although the start's context
// ends (the start deadline): cut, it would roll back, and the next start
// would begin it again.
func TestOpen_BegunMigrationOutlivesTheStartContext(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	db, err := Open(ctx, url, Options{Tracer: &cancelAfterLock{cancel: cancel}})
	if err != nil {
		t.Fatalf("Open whose context ended once it held the migration lock: %v", err)
	}
	db.Close()
	if ctx.Err() == nil {
		t.Fatal("the context was not cancelled: the test proves nothing")
	}
	var applied int
	if err := connect(t, url).QueryRow(t.Context(), "SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if want := len(mustSources(t)); applied != want {
		t.Errorf("%d migrations applied, want all %d", applied, want)
	}
}

// TestOpen_AsItIsMigratesNothing: a check opens the database as it is: one
// without this release's tables is refused and left without them.
func TestOpen_AsItIsMigratesNothing(t *testing.T) {
	t.Parallel()
	url := pgtest.SchemaURL(t)
	if _, err := Open(t.Context(), url, Options{AsItIs: true}); !errors.Is(err, ErrNotMigrated) {
		t.Fatalf("Open AsItIs on an empty schema = %v, want ErrNotMigrated", err)
	}
	var tables int
	if err := connect(t, url).QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables after an AsItIs open, want none", tables)
	}
	if db, err := Open(t.Context(), migrated.URL(t), Options{AsItIs: true}); err != nil {
		t.Errorf("Open AsItIs on a migrated schema: %v", err)
	} else {
		db.Close()
	}
}

// TestUnavailable_WhenTheTablesAreGone: a database whose tables are gone
// (dropped and made anew empty, as between createdb and pg_restore in a
// restore) is the store being unavailable: Ping fails, so /readyz says not
// ready, and a request is 503, not a 500.
func TestUnavailable_WhenTheTablesAreGone(t *testing.T) {
	t.Parallel()
	url := pgtest.SchemaURL(t)
	db, err := Open(t.Context(), url, Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatalf("Ping of a migrated store: %v", err)
	}
	conn := connect(t, url)
	schema := pgx.Identifier{db.ns.schema}.Sanitize()
	if _, err := conn.Exec(t.Context(), "DROP SCHEMA "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	if e := errs.As(db.Ping()); e == nil || e.Kind != errs.KindUnavailable {
		t.Errorf("Ping without tables = %v, want unavailable", db.Ping())
	}
	wantUnavailableRead(t, db, "without tables")
}

// TestUpdate_CommitAnswerLost: a write whose connection breaks after the
// database answered its COMMIT is answered as stored (a 503 "retry" had
// clients write it twice: 412, 409, or a later write overwritten); one
// whose answer never came is 503 saying whether it was stored is not known.
func TestUpdate_CommitAnswerLost(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	write := func(id string, fault commitFault) error {
		db.commitFault = fault
		defer func() { db.commitFault = commitFaultNone }()
		return db.Update(t.Context(), "", func(tx profile.Tx) error {
			return tx.PutProfile(&profile.Profile{ID: id, Created: time.Now(), Rev: 1})
		})
	}
	if err := write("answered", lostAfterAnswer); err != nil {
		t.Errorf("a write the database answered COMMIT to = %v, want success", err)
	}
	err := write("unanswered", lostBeforeAnswer)
	if e := errs.As(err); e == nil || e.Code != profile.CodeStoreUnavailable || !strings.Contains(e.Message, "not known") {
		t.Errorf("a write whose COMMIT answer was lost = %v, want 503 saying the outcome is not known", err)
	}
	err = db.View(t.Context(), "", func(tx profile.Tx) error {
		p, err := tx.Profile("answered")
		if err == nil && p == nil {
			t.Error("the answered write is not stored")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMilliseconds: statement_timeout is sent in whole milliseconds,
// rounded up: a bound under one millisecond was sent as 0, which
// PostgreSQL reads as no timeout at all.
func TestMilliseconds(t *testing.T) {
	for d, want := range map[time.Duration]string{500 * time.Microsecond: "1", time.Nanosecond: "1", time.Millisecond: "1", 1500 * time.Microsecond: "2", 5 * time.Second: "5000"} {
		if got := milliseconds(d); got != want {
			t.Errorf("milliseconds(%v) = %s, want %s", d, got, want)
		}
	}
}

// TestWhenSlotFree: a refusal for want of a connection slot (53300: the
// server at max_connections while other processes' sessions come and go)
// is tried again until it passes or the wait is over; any other error is
// given at once. A request met it as a 503 when make test ran packages
// together.
func TestWhenSlotFree(t *testing.T) {
	full := &pgconn.PgError{Code: "53300", Message: "sorry, too many clients already"}
	calls := 0
	v, err := whenSlotFree(context.Background(), time.Second, func() (int, error) {
		if calls++; calls < 3 {
			return 0, fmt.Errorf("connect: %w", full)
		}
		return 7, nil
	})
	if v != 7 || err != nil || calls != 3 {
		t.Errorf("slots freed after two tries: %d, %v after %d calls", v, err, calls)
	}
	calls = 0
	_, err = whenSlotFree(context.Background(), 120*time.Millisecond, func() (int, error) { calls++; return 0, full })
	if !tooManyConnections(err) || calls < 2 {
		t.Errorf("slots never freed: %v after %d calls, want the refusal after tries", err, calls)
	}
	calls = 0
	other := errors.New("connection refused")
	if _, err = whenSlotFree(context.Background(), time.Second, func() (int, error) { calls++; return 0, other }); err != other || calls != 1 {
		t.Errorf("another error: %v after %d calls, want it at once", err, calls)
	}
}
