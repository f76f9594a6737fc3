package pgtest

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// testTemplate prepares schemas as a store's migrations would: tables, one
// of them with a row, an identity column and a free-standing sequence.
func testTemplate(prepared *atomic.Int32) *Template {
	return &Template{Prepare: func(ctx context.Context, u string) error {
		prepared.Add(1)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `CREATE TABLE state (version int NOT NULL);
			INSERT INTO state VALUES (7);
			CREATE TABLE items (seq int GENERATED ALWAYS AS IDENTITY, name text PRIMARY KEY);
			CREATE SEQUENCE nums`)
		return err
	}}
}

func schemaOf(t *testing.T, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Query().Get("search_path")
}

// A test's schema goes to the next test as Prepare left it: its rows
// deleted, Prepare's rows back, sequences at their start.
func TestTemplate_ReusesASchemaResetToWhatPrepareLeft(t *testing.T) {
	t.Parallel()
	var prepared atomic.Int32
	tmpl := testTemplate(&prepared)
	var first string
	for round := range 3 {
		t.Run("test", func(t *testing.T) {
			u := tmpl.URL(t)
			if round == 0 {
				first = schemaOf(t, u)
			} else if got := schemaOf(t, u); got != first {
				t.Fatalf("round %d got schema %s, want %s again", round, got, first)
			}
			conn := connect(t, u)
			var version, items int
			var num, seq int64
			err := conn.QueryRow(t.Context(), `SELECT (SELECT version FROM state), (SELECT count(*) FROM items), nextval('nums')`).Scan(&version, &items, &num)
			if err == nil {
				err = conn.QueryRow(t.Context(), `INSERT INTO items (name) VALUES ('a') RETURNING seq`).Scan(&seq)
			}
			if err != nil {
				t.Fatal(err)
			}
			if version != 7 || items != 0 || num != 1 || seq != 1 {
				t.Fatalf("round %d found version %d, %d items, next num %d, next identity %d; want 7, 0, 1, 1", round, version, items, num, seq)
			}
			if _, err := conn.Exec(t.Context(), `UPDATE state SET version = 8; INSERT INTO state VALUES (9); SELECT nextval('nums')`); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The pristine schema and the one the three tests shared.
	if n := prepared.Load(); n != 2 {
		t.Errorf("Prepare ran %d times for three tests one after another, want 2", n)
	}
}

// A schema whose tables a test changed is dropped, not handed to the next.
func TestTemplate_DropsASchemaTheTestChanged(t *testing.T) {
	t.Parallel()
	var prepared atomic.Int32
	tmpl := testTemplate(&prepared)
	for _, ddl := range []string{
		`ALTER TABLE items ADD COLUMN extra int`,
		`ALTER TABLE items ALTER COLUMN name TYPE varchar(1)`,
		`ALTER TABLE state ADD CONSTRAINT positive CHECK (version > 0)`,
		`ALTER TABLE state ALTER COLUMN version DROP NOT NULL`,
		`ALTER TABLE items DROP COLUMN seq`,
		`CREATE INDEX items_seq ON items (name)`,
	} {
		var changed string
		t.Run("changes", func(t *testing.T) {
			u := tmpl.URL(t)
			changed = schemaOf(t, u)
			if _, err := connect(t, u).Exec(t.Context(), ddl); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("next", func(t *testing.T) {
			if got := schemaOf(t, tmpl.URL(t)); got == changed {
				t.Fatalf("the schema %s changed by %q was handed out again", got, ddl)
			}
		})
		var left bool
		if err := shared.pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, changed).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left {
			t.Errorf("the schema %s changed by %q still exists", changed, ddl)
		}
	}
}
