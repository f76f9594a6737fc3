package pgtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Template hands tests schemas of the shared database readied by Prepare
// (a store's migrations), and reuses them: when a test ends, its schema's
// rows are deleted and the rows Prepare wrote are copied back from a
// pristine schema that no test sees, so the next test finds the schema as
// Prepare left it. Preparing runs only as many times as tests hold schemas
// at once.
//
// Why: on the 2-core VM of make test, migrating a new schema cost the
// server ~100 ms of CPU, its connection ~37 ms more, its drop more again;
// a reset is one transaction on a connection kept open. The HTTP suites
// start a store per test, and this was most of the server's CPU in make
// test.
//
// A schema whose relations, columns or constraints a test changed (or whose
// reset fails) is dropped, not reused. Use SchemaURL for a test that needs
// an empty schema, and URL for one about the database itself.
type Template struct {
	// Prepare readies the new, empty schema at url. It is called with no
	// test's context: it must not hold on to url's connections.
	Prepare func(ctx context.Context, url string) error

	mu       sync.Mutex
	pristine string // prepared first, never handed out; "" until then
	shape    string // catalogShape of a prepared schema
	tables   []string
	copied   []string // tables of pristine that hold rows
	free     []string // reset, ready for the next test
}

// URL returns the URL of a prepared schema for this test alone (as
// SchemaURL's: search_path names it), reset for the next test when this
// one and the Cleanup functions it registers later have finished.
func (t *Template) URL(tb testing.TB) string {
	tb.Helper()
	useSharedDatabase(tb)
	schema, err := t.take()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := t.reset(schema); err != nil {
			tb.Logf("pgtest: schema %s not reused: %v", schema, err)
			if err := dropSchema(schema); err != nil {
				tb.Errorf("pgtest: %v", err)
			}
			return
		}
		t.mu.Lock()
		t.free = append(t.free, schema)
		t.mu.Unlock()
	})
	return sharedSchemaURL(schema)
}

// take returns a free schema, or prepares a new one. The first call
// prepares the pristine schema too, while later ones wait.
func (t *Template) take() (string, error) {
	t.mu.Lock()
	if t.pristine == "" {
		if err := t.preparePristine(); err != nil {
			t.mu.Unlock()
			return "", err
		}
	}
	if n := len(t.free); n > 0 {
		schema := t.free[n-1]
		t.free = t.free[:n-1]
		t.mu.Unlock()
		return schema, nil
	}
	t.mu.Unlock()
	return t.prepare()
}

func (t *Template) prepare() (string, error) {
	schema, err := createSchema()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := t.Prepare(ctx, sharedSchemaURL(schema)); err != nil {
		_ = dropSchema(schema)
		return "", fmt.Errorf("preparing schema %s: %w", schema, err)
	}
	return schema, nil
}

// preparePristine prepares the schema resets copy from and notes what a
// prepared schema holds. Called with t.mu held.
func (t *Template) preparePristine() (err error) {
	schema, err := t.prepare()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = dropSchema(schema)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if t.shape, err = catalogShape(ctx, shared.pool, schema); err != nil {
		return err
	}
	rows, err := shared.pool.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`, schema)
	if err != nil {
		return err
	}
	if t.tables, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return err
	}
	for _, table := range t.tables {
		var filled bool
		if err := shared.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{schema, table}.Sanitize()+")").Scan(&filled); err != nil {
			return err
		}
		if filled {
			t.copied = append(t.copied, table)
		}
	}
	t.pristine = schema
	return nil
}

// reset returns schema to the state Prepare left it in, in one
// transaction: rows deleted (cheaper than TRUNCATE, which makes new files
// for every table and index), the pristine schema's rows and sequence
// positions copied back.
func (t *Template) reset(schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := shared.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit, a no-op
	// A session the test left holding a row lock fails the reset instead
	// of holding up the suite.
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
		return err
	}
	shape, err := catalogShape(ctx, tx, schema)
	if err != nil {
		return err
	}
	if shape != t.shape {
		return fmt.Errorf("the test changed its tables, columns, constraints, indexes or sequences")
	}
	var sql strings.Builder
	for _, table := range t.tables {
		fmt.Fprintf(&sql, "DELETE FROM %s;\n", pgx.Identifier{schema, table}.Sanitize())
	}
	for _, table := range t.copied {
		fmt.Fprintf(&sql, "INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM %s;\n",
			pgx.Identifier{schema, table}.Sanitize(), pgx.Identifier{t.pristine, table}.Sanitize())
	}
	// A sequence never used has no last_value: its next value is its start.
	fmt.Fprintf(&sql, `SELECT setval(format('%%I.%%I', %s, sequencename)::regclass, coalesce(last_value, start_value), last_value IS NOT NULL)
		FROM pg_sequences WHERE schemaname = %s;`, quoteLiteral(schema), quoteLiteral(t.pristine))
	if _, err := tx.Exec(ctx, sql.String()); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// catalogShape describes what schema defines (relations; their columns
// with type and nullability; constraints), to tell whether a test changed
// it. Defaults are left out: one naming a sequence names its schema.
func catalogShape(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, schema string) (string, error) {
	var shape string
	err := q.QueryRow(ctx, `WITH ns AS (SELECT oid FROM pg_namespace WHERE nspname = $1)
		SELECT coalesce(string_agg(item, ',' ORDER BY item), '') FROM (
			SELECT format('%s:%s', c.relname, c.relkind) AS item
				FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)
			UNION ALL
			SELECT format('%s.%s:%s:%s:%s', c.relname, a.attname, a.atttypid, a.atttypmod, a.attnotnull)
				FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
				WHERE c.relnamespace = (SELECT oid FROM ns) AND a.attnum > 0 AND NOT a.attisdropped
			UNION ALL
			SELECT format('%s/%s', con.conname, pg_get_constraintdef(con.oid))
				FROM pg_constraint con WHERE con.connamespace = (SELECT oid FROM ns)
		) items`, schema).Scan(&shape)
	return shape, err
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings
// is on from PostgreSQL 9.1).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
