package store

import (
	"bytes"
	"fmt"
	"testing"
	"time"

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

// TestRecords_DamagedRecordExportsTheSetOnce: a customer whose set holds a
// damaged record is exported as that record alone (check then names the
// set damaged, not the rest as missing index entries), and importing it
// keeps the bytes as they came, so a copy completes.
func TestRecords_DamagedRecordExportsTheSetOnce(t *testing.T) {
	db, _ := openTest(t)
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
		if err := tx.PutProfile(storetest.NewProfile("d1", 1, t0)); err != nil {
			return err
		}
		return tx.PutRecords("phone", "d1", []schema.Record{{"PhoneNumber": "1"}, {"PhoneNumber": "2"}, {"PhoneNumber": "3"}})
	})
	err := db.update(t.Context(), func(btx *bolt.Tx) error {
		b := db.newTx(btx, "").bucket(bucketRecords, []byte("phone"))
		k := recordKey("d1", 2)
		v := bytes.Clone(b.Get(k))
		v[len(v)/2] ^= 4
		return b.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	var items []transfer.Item
	if err := db.Export(t.Context(), func(it transfer.Item) error {
		if it.Kind == transfer.KindRecords {
			items = append(items, it)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d record sets exported for one customer, want 1", len(items))
	}
	if _, err := codec.DecodeRecords(items[0].Value); err == nil {
		t.Fatal("the damaged set exported as readable")
	}
	copyDB, _ := openTest(t)
	if err := copyDB.Import(t.Context(), items); err != nil {
		t.Fatalf("importing a damaged set: %v", err)
	}
	var copied []transfer.Item
	if err := copyDB.Export(t.Context(), func(it transfer.Item) error { copied = append(copied, it); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(copied) != 1 || !bytes.Equal(copied[0].Value, items[0].Value) {
		t.Errorf("the copy holds %d items; want the damaged bytes as they came", len(copied))
	}
}

// TestDocument_OutlivesTheFile: a Document and its records are the
// caller's, not views of bbolt's memory map, which is only valid inside
// the transaction: read after the store is closed (the map is gone), page
// bytes would crash the test binary.
func TestDocument_OutlivesTheFile(t *testing.T) {
	db, _ := openTest(t)
	storetest.MustUpdate(t, db, "", func(tx profile.Tx) error {
		for i := range 50 { // buckets past a page: their values are on pages of their own, not inline
			id := fmt.Sprintf("c%d", i+1)
			p := storetest.NewProfile(id, uint64(i+1), time.Now())
			p.Attributes = map[string]any{"FirstName": "Bruce"}
			if err := tx.PutProfile(p); err != nil {
				return err
			}
			if err := tx.PutRecords("Phone", id, []schema.Record{{"PhoneNumber": "1"}}); err != nil {
				return err
			}
		}
		return nil
	})
	err := db.update(t.Context(), func(btx *bolt.Tx) error { // sets of the old form, one value each
		for i := range 50 {
			set, err := codec.EncodeRecords([]schema.Record{{"text": fmt.Sprintf("note %d", i+1)}})
			if err != nil {
				return err
			}
			if err := db.newTx(btx, "").put(set, []byte(fmt.Sprintf("c%d", i+1)), bucketExt, []byte("notes")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var d *profile.Document
	var sets map[string][][]profile.Member
	storetest.MustView(t, db, "", func(tx profile.Tx) (err error) {
		if d, err = tx.Document("c1"); err != nil {
			return err
		}
		sets, err = tx.RecordDocuments("c1", []string{"Phone", "Notes"})
		return err
	})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := string(d.Attributes[0].Value) + string(sets["Phone"][0][0].Value) + string(sets["Notes"][0][0].Value); got != `"Bruce""1""note 1"` {
		t.Errorf("read %s", got)
	}
}
