package pgtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestURL_GivesSeparateEmptyDatabases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	u1, u2 := URL(t), URL(t)
	if u1 == u2 {
		t.Fatalf("two calls gave the same URL %s", u1)
	}
	c1, c2 := connect(t, u1), connect(t, u2)

	if _, err := c1.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (42)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	var id int
	if err := c1.QueryRow(ctx, `SELECT id FROM t`).Scan(&id); err != nil || id != 42 {
		t.Fatalf("select: %d, %v", id, err)
	}

	var db1, db2 string
	var tables int
	if err := c1.QueryRow(ctx, `SELECT current_database()`).Scan(&db1); err != nil {
		t.Fatal(err)
	}
	if err := c2.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&db2, &tables); err != nil {
		t.Fatal(err)
	}
	if db1 == db2 || !strings.HasPrefix(db1, dbPrefix) {
		t.Fatalf("databases %q and %q", db1, db2)
	}
	if tables != 0 {
		t.Fatalf("second database has %d tables, want an empty one", tables)
	}
}

func TestURL_DatabaseDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var name string
	var open *pgx.Conn
	t.Run("user", func(t *testing.T) {
		conn := connect(t, URL(t))
		if err := conn.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		// A connection still open when the test ends must not stop the drop.
		open, _ = pgx.Connect(t.Context(), conn.Config().ConnString())
	})
	if open != nil {
		defer open.Close(context.Background())
	}
	if name == "" {
		t.Fatal("subtest found no database name")
	}

	admin, _ := Available()
	conn := connect(t, admin)
	var exists bool
	if err := conn.QueryRow(t.Context(), `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after its test's cleanup", name)
	}
}

func TestMain(m *testing.M) {
	var code int
	if os.Getenv("PGTEST_BOTH_STORES_CHILD") == "1" { // see TestRunOnBothStores
		code = RunOnBothStores(m)
	} else {
		code = m.Run()
	}
	DropShared()
	os.Exit(code)
}

// SchemaURL gives each test an empty schema of one shared database (the
// URL's search_path), and drops it with what it holds when the test ends.
func TestSchemaURL_SeparateSchemasDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var first, second, db1, db2 string
	t.Run("user", func(t *testing.T) {
		c1, c2 := connect(t, SchemaURL(t)), connect(t, SchemaURL(t))
		if _, err := c1.Exec(t.Context(), `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (42)`); err != nil {
			t.Fatalf("create table: %v", err)
		}
		if err := c1.QueryRow(t.Context(), `SELECT current_schema(), current_database()`).Scan(&first, &db1); err != nil {
			t.Fatal(err)
		}
		var tables int
		if err := c2.QueryRow(t.Context(), `SELECT current_schema(), current_database(), (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())`).Scan(&second, &db2, &tables); err != nil {
			t.Fatal(err)
		}
		if first == second || first == "public" || db1 != db2 || !strings.HasPrefix(db1, dbPrefix) {
			t.Fatalf("schemas %q (database %q) and %q (database %q), want two schemas of one test database", first, db1, second, db2)
		}
		if tables != 0 {
			t.Fatalf("second schema has %d tables, want an empty one", tables)
		}
	})
	conn := connect(t, databaseURL(probedURL, db1))
	var left int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_namespace WHERE nspname IN ($1, $2)`, first, second).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d of the schemas %s, %s still exist after their test's cleanup", left, first, second)
	}
}

// TestURL_Unreachable runs this test binary again against a closed port:
// URL must skip there, and fail under CI=true.
func TestURL_Unreachable(t *testing.T) {
	if os.Getenv("PGTEST_UNREACHABLE_CHILD") == "1" {
		URL(t)
		t.Fatal("URL returned for an unreachable server")
	}
	t.Parallel()
	for _, ci := range []string{"", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestURL_Unreachable$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "PGTEST_UNREACHABLE_CHILD=1", "CI="+ci,
			EnvAdminURL+"=postgres://postgres:secret@127.0.0.1:1/x?sslmode=disable")
		out, err := cmd.CombinedOutput()
		s := string(out)
		if strings.Contains(s, "secret") {
			t.Errorf("CI=%q: message shows the password:\n%s", ci, s)
		}
		if !strings.Contains(s, "PostgreSQL not reachable at postgres://postgres:xxxxx@127.0.0.1:1/x") {
			t.Errorf("CI=%q: no clear message:\n%s", ci, s)
		}
		if ci == "" && (err != nil || !strings.Contains(s, "--- SKIP")) {
			t.Errorf("CI unset: want a skip, got %v:\n%s", err, s)
		}
		if ci == "true" && (err == nil || !strings.Contains(s, "--- FAIL")) {
			t.Errorf("CI=true: want a failure, got %v:\n%s", err, s)
		}
	}
}

func TestStartCluster_StopAndStart(t *testing.T) {
	t.Parallel()
	begin := time.Now()
	c := StartCluster(t)
	t.Logf("StartCluster took %v", time.Since(begin))

	conn := connect(t, c.URL())
	if _, err := conn.Exec(t.Context(), `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('committed')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())

	c.Stop("immediate")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if down, err := pgx.Connect(ctx, c.URL()); err == nil {
		down.Close(context.Background())
		t.Fatal("connected to a stopped cluster")
	}

	begin = time.Now()
	c.Start()
	t.Logf("Start after an immediate stop took %v", time.Since(begin))
	var v string
	if err := connect(t, c.URL()).QueryRow(t.Context(), `SELECT v FROM kept`).Scan(&v); err != nil || v != "committed" {
		t.Fatalf("after crash and restart: %q, %v", v, err)
	}
}
