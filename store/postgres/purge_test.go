package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/store/postgres"
)

// TestPurgeProfile_OutlastsTheRoundTripBound: a purge (an erase or delete
// of a damaged customer) scans index_entries, which has no index by
// customer, so on a large store it outlasts statement_timeout and the
// round-trip bound made from it; it lifts both, as a schema change does.
// Here its DELETE waits longer than the bound for a row another
// transaction holds, standing in for a long scan.
func TestPurgeProfile_OutlastsTheRoundTripBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.SchemaURL(t)
	db, err := postgres.Open(ctx, url, postgres.Options{StatementTimeout: 100 * time.Millisecond, MaxConns: 2}) // bound: 1.2 s
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := profiletest.Started(t, "../../config.yaml", db)
	if _, err := svc.Create(ctx, "", map[string]any{"customer_id": "p1", "EmailAddress": []any{"p1@x.dom"}}, profile.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	lock, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, "SELECT 1 FROM index_entries WHERE id = 'p1' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- db.Update(ctx, "", func(tx profile.Tx) error { return tx.PurgeProfile("p1") }) }()
	select {
	case err := <-done:
		t.Fatalf("the purge ended after %v while a row it deletes was held, before the row was let go: %v", time.Since(start).Round(time.Millisecond), err)
	case <-time.After(2 * time.Second): // past the 1.2 s bound
	}
	if err := lock.Rollback(ctx); err != nil { // here, not beside the connection's Close
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("purge waiting %v for a row (as for a long scan): %v", time.Since(start).Round(time.Millisecond), err)
	}
}
