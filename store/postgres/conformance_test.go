package postgres_test

import (
	"context"
	"testing"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/storetest"
)

// TestConformance runs the store conformance suite (what every engine does
// alike) on PostgreSQL, each test on a new database of its own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		db, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}
