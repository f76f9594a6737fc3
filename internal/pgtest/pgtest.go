// Package pgtest gives tests a real PostgreSQL to talk to.
//
// URL hands each test a brand-new, empty database on a shared server and
// drops it when the test ends, so tests that use it can run in parallel,
// across packages and test binaries, without seeing each other's tables.
// SchemaURL does the same with a schema of a database the test binary
// shares, for a fraction of the cost, and a Template hands out schemas
// readied once (migrated) and reset between tests, for less again.
// The server is the one named by PROFILED_TEST_POSTGRES (default
// DefaultAdminURL); .ci/run starts it in CI.
//
// StartCluster runs a private, throwaway server for tests that stop, kill or
// restart the database, which must never happen to the shared one.
//
// When PostgreSQL is missing, tests that need it are skipped on a developer's
// machine and fail when CI=true, so a broken CI setup cannot pass by
// skipping every database test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// EnvAdminURL names the variable that points at the shared test server.
	EnvAdminURL = "PROFILED_TEST_POSTGRES"
	// DefaultAdminURL is used when EnvAdminURL is unset: Debian's main
	// cluster as .ci/run sets it up (trust auth on 127.0.0.1, database test).
	DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

	// dbPrefix starts every database name URL makes; nothing else may use it,
	// because stale ones are dropped (see reapStaleDatabases).
	dbPrefix = "profiled_t_"
	// staleAfter is when a test database left behind by a killed test
	// binary (its cleanup never ran) is old enough to be dropped by the next
	// run: far longer than any test binary lives.
	staleAfter = 6 * time.Hour
	// probeTimeout bounds the first connection attempt, so an absent server
	// costs a test run 2 s once, not a timeout per test.
	probeTimeout = 2 * time.Second
	// connectTimeout bounds each later attempt, once the server is known to
	// answer: a busy CI machine has taken over 2 s to start a backend.
	connectTimeout = 20 * time.Second
)

var (
	probeOnce sync.Once
	probedURL string // AdminURL() when first probed
	probeErr  error
	reaped    int // stale databases the probe dropped
	reapLog   sync.Once
	dbCounter atomic.Uint64
)

// AdminURL returns the URL of the shared server's admin database: the value
// of PROFILED_TEST_POSTGRES, or DefaultAdminURL.
func AdminURL() string {
	if u := os.Getenv(EnvAdminURL); u != "" {
		return u
	}
	return DefaultAdminURL
}

// Available reports whether the shared server can be reached, returning its
// admin URL either way. Both are worked out once per process, so 100 tests
// wait for an absent server's connect timeout once.
func Available() (string, error) {
	probeOnce.Do(func() {
		probedURL = AdminURL()
		ctx, cancel := context.WithTimeout(context.Background(), 3*probeTimeout)
		defer cancel()
		conn, err := adminConnect(ctx, probedURL, probeTimeout)
		if err != nil {
			probeErr = err
			return
		}
		reaped = reapStaleDatabases(ctx, conn)
		idleAdmin <- conn
	})
	return probedURL, probeErr
}

// URL returns the URL of a new, empty database on the shared server, made
// for this test alone and dropped (its connections terminated first) when
// the test and its Cleanup functions registered later have finished. The
// URL carries the same user and parameters as the admin URL.
//
// If the server cannot be reached, URL skips the test, or fails it when the
// environment has CI=true.
func URL(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb)
}

// shared is the database SchemaURL makes schemas in, one per process.
var shared struct {
	once sync.Once
	name string
	pool *pgxpool.Pool // for CREATE and DROP SCHEMA
	err  error
}

// SchemaURL returns the URL of a new, empty schema made for this test alone
// in a database the process shares (search_path in the URL names the
// schema), dropped with everything in it when the test ends. A schema costs
// a fraction of a database (measured here: ~60 ms to make it and apply the
// store's migrations, ~15 ms to drop it, against ~125 ms and ~270 ms for a
// database, whose copy and removal also cost the server four times the
// CPU). profiled keeps deployments in different schemas of one database
// apart (its locks and notifications are per schema), so tests on schemas
// run in parallel as on databases of their own. Use URL for a test about
// the database itself. Call DropShared from TestMain.
func SchemaURL(tb testing.TB) string {
	tb.Helper()
	useSharedDatabase(tb)
	schema, err := createSchema()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := dropSchema(schema); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return sharedSchemaURL(schema)
}

// useSharedDatabase makes the database SchemaURL and Template make schemas
// in, once per process.
func useSharedDatabase(tb testing.TB) {
	tb.Helper()
	admin := available(tb)
	shared.once.Do(func() {
		name := databaseName()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if shared.err = adminExec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); shared.err != nil {
			return
		}
		shared.name = name
		cfg, err := pgxpool.ParseConfig(databaseURL(admin, name))
		if err != nil {
			shared.err = err
			return
		}
		cfg.MaxConns = 4
		cfg.ConnConfig.ConnectTimeout = connectTimeout
		shared.pool, shared.err = pgxpool.NewWithConfig(ctx, cfg)
	})
	if shared.err != nil {
		tb.Fatalf("pgtest: creating the shared database on %s: %v", config.RedactURL(admin), shared.err)
	}
}

// createSchema makes a new, empty schema in the shared database.
func createSchema() (string, error) {
	schema := fmt.Sprintf("t_%d", dbCounter.Add(1)) // the database is this process's
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := shared.pool.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return "", fmt.Errorf("create schema %s: %w", schema, err)
	}
	return schema, nil
}

func dropSchema(schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := shared.pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

// sharedSchemaURL is the URL of schema in the shared database.
func sharedSchemaURL(schema string) string {
	return WithSearchPath(databaseURL(probedURL, shared.name), schema)
}

// WithSearchPath returns the database URL u with search_path (the schemas
// profiled's tables go to, first existing one first) set to path.
func WithSearchPath(u, path string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return u // URLs here come from AdminURL, which Available checked
	}
	q := parsed.Query()
	q.Set("search_path", path)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// DropShared drops the database SchemaURL made in this process (one a
// killed run leaves behind is dropped like a stale test database).
func DropShared() {
	if shared.pool != nil {
		shared.pool.Close()
	}
	if shared.name != "" {
		_ = dropDatabase(probedURL, shared.name)
	}
}

// databaseName makes a name no other test, binary or run uses. The
// creation time is in it so a later run can tell a database leaked by a
// killed test binary from one still in use; pid, counter and random bytes
// keep names apart across parallel tests and binaries.
func databaseName() string {
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("%s%s_%d_%d_%s", dbPrefix,
		strconv.FormatInt(time.Now().Unix(), 36), os.Getpid(), dbCounter.Add(1), hex.EncodeToString(rnd[:]))
}

// databaseURL is admin with its database replaced by name. Its
// connections wait as long as the admin connections do (connectTimeout),
// unless admin says otherwise: the store's own default (5 s) is for a
// deployment, and a loaded CI machine has taken over 2 s to start a backend.
func databaseURL(admin, name string) string {
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	u.RawPath = ""
	if q := u.Query(); !q.Has("connect_timeout") {
		q.Set("connect_timeout", strconv.Itoa(int(connectTimeout.Seconds())))
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// newDatabase creates an empty database for this test and drops it at
// cleanup.
func newDatabase(tb testing.TB) string {
	tb.Helper()
	admin := available(tb)
	name := databaseName()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// template0 is never connected to, so CREATE DATABASE cannot fail with
	// "source database is being accessed by other users", and it holds no
	// objects anyone added to template1; it is as fast (~70-130 ms here).
	// The default WAL_LOG strategy is kept: FILE_COPY was twice as slow,
	// and its checkpoints would slow every other test's writes.
	if err := adminExec(ctx, admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0"); err != nil {
		tb.Fatalf("pgtest: create database %s on %s: %v", name, config.RedactURL(admin), err)
	}
	tb.Cleanup(func() {
		if err := dropDatabase(admin, name); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return databaseURL(admin, name)
}

// available returns the shared server's admin URL, or skips tb (fails it
// under CI=true) when the server cannot be reached.
func available(tb testing.TB) string {
	tb.Helper()
	admin, err := Available()
	if err != nil {
		unavailable(tb, "PostgreSQL not reachable at %s: %v; set %s or start it (pg_ctlcluster 15 main start)",
			config.RedactURL(admin), err, EnvAdminURL)
	}
	reapLog.Do(func() {
		if reaped > 0 {
			tb.Logf("pgtest: dropped %d stale test databases left by killed test runs", reaped)
		}
	})
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("pgtest: %s must be a postgres:// URL, got %q", EnvAdminURL, config.RedactURL(admin))
	}
	return admin
}

// dropDatabase drops name, terminating its sessions. It retries when a
// session reconnected while the drop ran (SQLSTATE 55006, object in use).
func dropDatabase(admin, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		if !isInUse(err) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// isInUse reports SQLSTATE 55006: the database is being accessed by other users.
func isInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}

// reapStaleDatabases drops a bounded number of databases that earlier runs
// made and never dropped (a test binary killed by -timeout runs no
// Cleanup). Best effort: errors are ignored.
func reapStaleDatabases(ctx context.Context, conn *pgx.Conn) int {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'profiled\_t\_%'`)
	if err != nil {
		return 0
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0
	}
	n := 0
	for _, name := range names {
		ts, _, ok := strings.Cut(strings.TrimPrefix(name, dbPrefix), "_")
		sec, err := strconv.ParseInt(ts, 36, 64)
		if !ok || err != nil || time.Since(time.Unix(sec, 0)) < staleAfter {
			continue
		}
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err == nil {
			n++
		}
		if n == 20 { // the rest go next time; keep the first test quick
			break
		}
	}
	return n
}

func adminConnect(ctx context.Context, admin string, timeout time.Duration) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return nil, err
	}
	cfg.ConnectTimeout = timeout
	return pgx.ConnectConfig(ctx, cfg)
}

// idleAdmin keeps admin connections between calls, as many as tests make
// databases at once (-parallel 8): a connection is a process the server
// starts, about 40 ms of its CPU on a 2-core VM, a third of making a
// database.
var idleAdmin = make(chan *pgx.Conn, 8)

// adminExec runs one statement on an admin connection (CREATE and DROP
// DATABASE cannot run in a transaction, so nothing else is needed). A
// cached connection that turns out dead (the server restarted) is replaced
// once.
func adminExec(ctx context.Context, admin, sql string) error {
	for {
		var conn *pgx.Conn
		cached := false
		select {
		case conn = <-idleAdmin:
			cached = true
		default:
			var err error
			if conn, err = adminConnect(ctx, admin, connectTimeout); err != nil {
				return err
			}
		}
		_, err := conn.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if err != nil && !errors.As(err, &pgErr) {
			// The connection itself failed.
			conn.Close(context.Background())
			if cached && ctx.Err() == nil {
				continue
			}
			return err
		}
		select {
		case idleAdmin <- conn:
		default:
			conn.Close(context.Background())
		}
		return err
	}
}

// unavailable skips the test, or fails it under CI=true where PostgreSQL is
// part of the setup and its absence is a CI bug, not a reason to skip.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("pgtest (CI=true, so not skipping): "+format, args...)
	}
	tb.Skipf(format, args...)
}
