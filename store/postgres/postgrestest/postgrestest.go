// Package postgrestest gives tests an empty PostgreSQL store of their own:
// a schema of the process's shared test database, which the store migrates
// when it is opened.
package postgrestest

import (
	"testing"

	"github.com/contactcenter/profiled/internal/pgtest"
)

// URL returns the URL of a new, empty schema of its own, dropped when the
// test ends; the store creates its tables there when it is opened. Like
// pgtest.URL it skips without a server, or fails under CI=true. Call
// pgtest.DropShared from TestMain.
func URL(tb testing.TB) string {
	tb.Helper()
	return pgtest.SchemaURL(tb)
}
