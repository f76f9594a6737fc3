package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
	"github.com/contactcenter/profiled/store/storetest"
	"github.com/contactcenter/profiled/store/transfer"
	"github.com/jackc/pgx/v5"
)

// TestRecords_SetsOfTheOldForm: a set stored whole (seq -1, as before
// migration 00004) is read as it is, exported as one set, and replaced by
// records of their own when next written.
func TestRecords_SetsOfTheOldForm(t *testing.T) {
	t.Parallel()
	db, url := openTest(t)
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("old1", 1, time.Now())) })
	set, err := codec.EncodeRecords([]schema.Record{{"PhoneNumber": "1"}, {"PhoneNumber": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "INSERT INTO records (tenant, ext, id, seq, doc) VALUES ('', 'phone', 'old1', -1, $1)", set); err != nil {
		t.Fatal(err)
	}
	storetest.OldFormSet(t, db, func(fn func(transfer.Item) error) error { return db.Export(t.Context(), fn) })
	var legacy, rows int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FILTER (WHERE seq = -1), count(*) FROM records WHERE id = 'old1'").Scan(&legacy, &rows); err != nil {
		t.Fatal(err)
	}
	if legacy != 0 || rows != 3 {
		t.Errorf("after a write: %d rows of the old form, %d rows; want 0 and one per record", legacy, rows)
	}
}
