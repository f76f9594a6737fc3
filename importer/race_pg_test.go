package importer_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/contactcenter/profiled/importer"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/store/postgres"
)

// raceOnSecondNum runs race once, when a write transaction allocates its
// second numeric id: between two bodies of an import batch.
type raceOnSecondNum struct {
	profile.Store
	nums int
	race func()
}

func (s *raceOnSecondNum) Update(ctx context.Context, tenant string, fn func(profile.Tx) error) error {
	return s.Store.Update(ctx, tenant, func(tx profile.Tx) error { return fn(&racingTx{Tx: tx, s: s}) })
}

type racingTx struct {
	profile.Tx
	s *raceOnSecondNum
}

func (t *racingTx) NextNum() (uint64, error) {
	if t.s.nums++; t.s.nums == 2 {
		t.s.race()
	}
	return t.Tx.NextNum()
}

// TestImportSkipBad_ConflictFoundLaterBlamesItsLine: on PostgreSQL an
// import runs beside the replicas, and a store may report a write's
// refusal at a later call (profile.Tx). A replica that creates line 1's
// customer_id while line 1's batch is being stored makes line 1 the bad
// line; line 2, a valid new customer, must be stored, not set aside
// under line 1's conflict.
func TestImportSkipBad_ConflictFoundLaterBlamesItsLine(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t) // skips without a server outside CI
	service := func(st profile.Store) *profile.Service { return profiletest.Started(t, "../config.yaml", st) }
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	replica := service(open())
	racing := &raceOnSecondNum{Store: open(), race: func() {
		if _, err := replica.Create(ctx, "", map[string]any{"customer_id": "i1", "FirstName": "Replica"}, profile.CreateOptions{}); err != nil {
			t.Errorf("the replica's create: %v", err)
		}
	}}
	importing := service(racing)

	var rejects bytes.Buffer
	res, err := importer.Import(ctx, importing, ndjson(line("i1"), line("i2"), line("i3")), importer.Options{Batch: 10, Rejects: &rejects})
	if err != nil {
		t.Fatal(err)
	}
	if got := rejectedLines(t, rejects.String()); got != "[1]" {
		t.Errorf("reject file lines %v, want [1] (line 1's customer_id was taken); result %+v, rejects %s", got, res, rejects.String())
	}
	if got := stored(t, importing, "", "i2", "i3"); len(got) != 2 {
		t.Errorf("stored %v of i2, i3; want both", got)
	}
}
