package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/postgres/postgrestest"
	"github.com/contactcenter/profiled/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropShared()
	os.Exit(code)
}

// TestConformance runs the store conformance suite (what every engine does
// alike) on PostgreSQL, each test on a new database of its own.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := postgres.Open(context.Background(), postgrestest.URL(t), postgres.Options{MaxConns: 4}) // many run at once on one server
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
