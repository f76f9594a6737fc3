// Package postgrestest gives tests a migrated, empty PostgreSQL store of
// their own, on the shared test server (internal/pgtest).
package postgrestest

import (
	"context"
	"testing"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/store/postgres"
)

// migrated holds schemas with the store's migrations applied, reused
// across the tests of a process (see pgtest.Template for why and how).
var migrated = &pgtest.Template{Prepare: func(ctx context.Context, url string) error {
	db, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 1})
	if err != nil {
		return err
	}
	db.Close()
	return nil
}}

// URL returns the URL of a migrated store with no data, for this test
// alone. A start on it finds every migration applied, as a restart does;
// tests of a first start use pgtest.SchemaURL. Call pgtest.DropShared from
// TestMain.
func URL(tb testing.TB) string {
	tb.Helper()
	return migrated.URL(tb)
}
