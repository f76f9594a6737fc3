package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/store/postgres"
)

// TestOpen_WaitsForAConnectionSlot: a server that refuses a new session
// for want of a slot (53300: max_connections, here a role's connection
// limit) while others end theirs is waited for at the start, up to the
// connect timeout, as a replica starting beside others meets it; the start
// failed at once.
func TestOpen_WaitsForAConnectionSlot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	role := fmt.Sprintf("profiled_t_slots_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE ROLE "+role+" LOGIN CONNECTION LIMIT 2"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // roles are the server's, not the test database's
		if _, err := admin.Exec(context.Background(), "DROP OWNED BY "+role+"; DROP ROLE "+role); err != nil {
			t.Errorf("dropping role %s: %v", role, err)
		}
		admin.Close(context.Background())
	})
	if _, err := admin.Exec(ctx, "GRANT ALL ON SCHEMA public TO "+role); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)

	// The role's two slots (a first start takes two: its pool's and the
	// migration's session) are taken for 0.5 s.
	var holders []*pgx.Conn
	for range 2 {
		c, err := pgx.Connect(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		holders = append(holders, c)
	}
	release := time.AfterFunc(500*time.Millisecond, func() {
		for _, c := range holders {
			c.Close(context.Background())
		}
	})
	defer release.Stop()
	db, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 1})
	if err != nil {
		t.Fatalf("open while every slot is taken for 0.5 s: %v", err)
	}
	db.Close()
}
