package postgres

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
	"github.com/contactcenter/profiled/store/storetest"
	"github.com/contactcenter/profiled/store/transfer"
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
	conn := connect(t, url)
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

// TestRecords_CreateDropsLeftoverRows: rows left without a profile (an
// orphan set of either form) do not join the records of a customer
// created later with that id.
func TestRecords_CreateDropsLeftoverRows(t *testing.T) {
	t.Parallel()
	db, url := openTest(t)
	conn := connect(t, url)
	old, err := codec.EncodeRecords([]schema.Record{{"PhoneNumber": "ghost"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO records (tenant, ext, id, seq, doc) VALUES ('', 'phone', 'g1', -1, $1)", []any{old}},
		{"INSERT INTO records (tenant, ext, id, seq, doc) VALUES ('', 'phone', 'g2', 7, $1)", []any{codec.EncodeRecord(schema.Record{"PhoneNumber": "ghost"})}},
	} {
		if _, err := conn.Exec(t.Context(), q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"g1", "g2"} {
		storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
			if err := tx.PutProfile(storetest.NewProfile(id, uint64(i+1), time.Now())); err != nil {
				return err
			}
			return tx.PutRecords("phone", id, []schema.Record{{"PhoneNumber": "new"}})
		})
		storetest.MustView(t, db, "", func(tx profile.Tx) error {
			recs, err := tx.Records("phone", id)
			if err != nil || len(recs) != 1 || recs[0]["PhoneNumber"] != "new" {
				t.Errorf("%s after its create: %v %v", id, recs, err)
			}
			return nil
		})
	}
}

// TestRecords_DamagedSetCopiesAsItCame: importing a set that cannot be
// decoded keeps its bytes (a whole-set row), so a copy completes and
// check names the damage on the copy as on the source.
func TestRecords_DamagedSetCopiesAsItCame(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	damaged := []byte{2, '{', 'x'}
	if err := db.Import(t.Context(), []transfer.Item{{Kind: transfer.KindRecords, Name: "phone", ID: "d1", Value: damaged}}); err != nil {
		t.Fatalf("importing a damaged set: %v", err)
	}
	var got [][]byte
	if err := db.Export(t.Context(), func(it transfer.Item) error {
		if it.Kind == transfer.KindRecords {
			got = append(got, it.Value)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !bytes.Equal(got[0], damaged) {
		t.Errorf("exported %q, want the damaged bytes as they came", got)
	}
}
