package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
)

// The schema public keeps the lock keys and the notification channel of
// releases that did not tell schemas apart, so old and new replicas
// exclude each other during a rolling upgrade.
func TestNamespace_PublicKeepsTheKeysOfEarlierReleases(t *testing.T) {
	if ns := namespaceOf("public"); ns.key != 0 || ns.salt != "" || ns.channel != "profiled_schema" {
		t.Errorf("namespace of public = %+v, want key 0, no salt, channel profiled_schema", ns)
	}
	a, b := namespaceOf("staging"), namespaceOf("production")
	if a.key == 0 || a.key == b.key || a.channel == b.channel || a.channel == "profiled_schema" || len(a.channel) >= 63 {
		t.Errorf("namespaces of two schemas are not apart: %+v, %+v", a, b)
	}
}

// Two deployments in schemas of one database (search_path in the store
// URL) each have their own tables, and neither waits on the other's
// schema-change or migration lock.
func TestSchemas_DeploymentsInOneDatabaseAreApart(t *testing.T) {
	t.Parallel()
	base := pgtest.URL(t)
	admin := connect(t, base)
	for _, s := range []string{"staging", "production", "third"} {
		if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+s); err != nil {
			t.Fatal(err)
		}
	}
	stagingURL, productionURL := pgtest.WithSearchPath(base, "staging"), pgtest.WithSearchPath(base, "production")
	staging, err := Open(t.Context(), stagingURL, Options{StatementTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer staging.Close()
	production, err := Open(t.Context(), productionURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer production.Close()

	now := time.Now()
	put := func(db *DB, email string) error {
		return db.Update(t.Context(), "", func(tx profile.Tx) error {
			if err := tx.PutProfile(&profile.Profile{ID: "c1", Num: 1, Created: now, Updated: now, Rev: 1}); err != nil {
				return err
			}
			return tx.AddIndexEntry("email", []string{email}, "c1", true)
		})
	}
	if err := put(staging, "ann@x"); err != nil {
		t.Fatal(err)
	}
	if n, err := production.ProfileCount(); err != nil || n != 0 {
		t.Errorf("production counts %d profiles (%v) after a write to staging, want 0", n, err)
	}

	// Hold staging's schema-change lock as a schema change would.
	holder, err := admin.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(t.Context())
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_xact_lock($1, $2)", lockSpaceSchema, staging.ns.key); err != nil {
		t.Fatal(err)
	}
	// The same id and unique value in the other schema: its own tables,
	// and no wait for staging's lock.
	if err := put(production, "ann@x"); err != nil {
		t.Errorf("a write to production while staging's schema lock is held: %v", err)
	}
	if err := put(staging, "bob@x"); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("a write to staging while its schema lock is held = %v, want unavailable after its statement timeout (the lock held is not the one staging takes)", err)
	}
	// And a third deployment starts while staging's migration lock is held.
	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_xact_lock($1, $2)", lockSpaceMigrate, staging.ns.key); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	third, err := Open(ctx, pgtest.WithSearchPath(base, "third"), Options{})
	if err != nil {
		t.Fatalf("a deployment in a third schema did not start while staging's migration lock was held: %v", err)
	}
	third.Close()
	if staging.Schema() != "staging" || production.Schema() != "production" {
		t.Errorf("Schema() = %q and %q, want staging and production", staging.Schema(), production.Schema())
	}
	if staging.ns.channel == production.ns.channel {
		t.Errorf("both schemas announce schema changes on %q", staging.ns.channel)
	}
}

// A search_path that names no existing schema is refused at start with a
// message that says what to do, instead of a failure to create a table.
func TestOpen_SearchPathWithoutSchema(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), pgtest.WithSearchPath(pgtest.URL(t), "missing"), Options{})
	if err == nil || !strings.Contains(err.Error(), "CREATE SCHEMA") || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Open with search_path=missing = %v, want a refusal naming the schema and CREATE SCHEMA", err)
	}
}

// With search_path "staging,public" and profiled's tables already in
// public, a start still migrates staging, where its tables go: the
// migrations of another schema on the path do not count.
func TestOpen_MigratesTheFirstSchemaOfThePath(t *testing.T) {
	t.Parallel()
	base := pgtest.URL(t)
	public, err := Open(t.Context(), base, Options{})
	if err != nil {
		t.Fatal(err)
	}
	public.Close()
	admin := connect(t, base)
	if _, err := admin.Exec(t.Context(), "CREATE SCHEMA staging"); err != nil {
		t.Fatal(err)
	}
	staging, err := Open(t.Context(), pgtest.WithSearchPath(base, "staging,public"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer staging.Close()
	var tables int
	if err := admin.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'staging' AND tablename IN ('profiles', 'goose_db_version')").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 2 || staging.ns.schema != "staging" {
		t.Errorf("staging holds %d of profiles and goose_db_version, namespace %q; want both, in staging", tables, staging.ns.schema)
	}
}

// A search_path whose first schema does not exist is refused even when a
// later one does: a typo would otherwise put the tables in (or read them
// from) another deployment's schema. Names fold to lower case unless
// quoted, as PostgreSQL reads them.
func TestOpen_FirstSchemaOfThePathMustExist(t *testing.T) {
	t.Parallel()
	base := pgtest.URL(t)
	_, err := Open(t.Context(), pgtest.WithSearchPath(base, "stagign,public"), Options{})
	if err == nil || !strings.Contains(err.Error(), `"stagign"`) || !strings.Contains(err.Error(), "CREATE SCHEMA") {
		t.Fatalf("Open with search_path=stagign,public = %v, want a refusal naming stagign", err)
	}
	admin := connect(t, base)
	if _, err := admin.Exec(t.Context(), `CREATE SCHEMA staging; CREATE SCHEMA "Mixed"`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"Staging,public", `"Mixed"`, "$user,public"} {
		db, err := Open(t.Context(), pgtest.WithSearchPath(base, path), Options{})
		if err != nil {
			t.Errorf("Open with search_path=%s: %v", path, err)
			continue
		}
		db.Close()
	}
	if _, err := Open(t.Context(), pgtest.WithSearchPath(base, "Mixed"), Options{}); err == nil {
		t.Error(`Open with search_path=Mixed (read as mixed) found the schema "Mixed"`)
	}
}

func TestFirstSchema(t *testing.T) {
	for path, want := range map[string]string{
		"Staging,public": "staging", `"Mi""xed", public`: `Mi"xed`, " a ": "a", "": "", "$user, public": "",
	} {
		if got, named := firstSchema(path); got != want || named != (want != "") {
			t.Errorf("firstSchema(%q) = %q, %v; want %q", path, got, named, want)
		}
	}
}
