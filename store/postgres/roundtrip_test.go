package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile/profiletest"

	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/postgres"
)

// roundTrips counts what goes to the server and waits for an answer: a
// statement, or a whole batch (pipeline).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// TestRoundTrips holds the store to the round trips docs/scale-out.md
// promises for the common requests (statements already prepared).
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	counter := &roundTrips{}
	db, err := postgres.Open(context.Background(), pgtest.SchemaURL(t), postgres.Options{Tracer: counter, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := profiletest.Started(t, "../../config.yaml", db)
	ctx := context.Background()
	body := func() map[string]any {
		return map[string]any{"FirstName": "Ann", "EmailAddress": []any{"ann@x.dom"}}
	}
	var id string
	ops := []struct {
		name string
		max  int64
		run  func() error
	}{
		{"create", 4, func() error { p, err := svc.Create(ctx, "", body(), profile.CreateOptions{}); id = p.ID; return err }},
		{"get", 2, func() error { _, err := svc.Get(ctx, "", id, nil); return err }},
		{"get with Phone", 3, func() error { _, err := svc.Get(ctx, "", id, []string{"Phone"}); return err }},
		{"get with three extensions", 3, func() error {
			_, err := svc.Get(ctx, "", id, []string{"Phone", "Activity", "CustomAttribute"})
			return err
		}},
		{"identify", 2, func() error {
			_, err := svc.Identify(ctx, "", profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: "EmailAddress", Value: "ann@x.dom"}}})
			return err
		}},
		{"replace", 4, func() error { _, err := svc.Replace(ctx, "", id, body(), profile.ReplaceOptions{}); return err }},
	}
	for _, warm := range []bool{true, false} { // the first pass prepares the statements
		for _, op := range ops {
			before := counter.n.Load()
			if err := op.run(); err != nil {
				t.Fatalf("%s: %v", op.name, err)
			}
			if n := counter.n.Load() - before; !warm && n > op.max {
				t.Errorf("%s took %d round trips, want at most %d", op.name, n, op.max)
			} else if !warm {
				t.Logf("%s: %d round trips", op.name, n)
			}
		}
	}
}
