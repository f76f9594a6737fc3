// Package postgrestest gives tests a migrated, empty PostgreSQL store
// database of their own, copied from a template migrated once per test
// binary (a copy is faster than migrating anew).
package postgrestest

import (
	"context"
	"testing"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/store/postgres"
)

// URL returns the URL of a new database with the store's tables, dropped
// when the test ends. Like pgtest.URL it skips without a server, or fails
// under CI=true. Call pgtest.DropTemplates from TestMain.
func URL(tb testing.TB) string {
	tb.Helper()
	return pgtest.TemplateURL(tb, "profiled-migrated", func(url string) error {
		db, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 2})
		if err != nil {
			return err
		}
		return db.Close()
	})
}
