package store

import (
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/codec"
	"github.com/contactcenter/profiled/store/storetest"
	"github.com/contactcenter/profiled/store/transfer"
)

// TestRecords_SetsOfTheOldForm: a set stored whole under ext/ (files
// written before per-record storage) is read as it is, exported as one
// set, and moved to records of their own when next written.
func TestRecords_SetsOfTheOldForm(t *testing.T) {
	db, _ := openTest(t)
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error { return tx.PutProfile(storetest.NewProfile("old1", 1, t0)) })
	set, err := codec.EncodeRecords([]schema.Record{{"PhoneNumber": "1"}, {"PhoneNumber": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	err = db.update(t.Context(), func(btx *bolt.Tx) error {
		return db.newTx(btx, "").put(set, []byte("old1"), bucketExt, []byte("phone"))
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.OldFormSet(t, db, func(fn func(transfer.Item) error) error { return db.Export(t.Context(), fn) })
	err = db.view(func(btx *bolt.Tx) error {
		if v := get(db.newTx(btx, "").bucket(bucketExt, []byte("phone")), []byte("old1")); v != nil {
			t.Error("the set of the old form is still stored after a write")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
