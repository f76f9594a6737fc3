package store

import (
	"context"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/store/transfer"
)

// writeDuringCopy is a copy source on which a customer is created after
// the copy read its header and before its export began: a source that
// serves while it is copied (copy-store from a PostgreSQL database whose
// replicas run).
type writeDuringCopy struct {
	*DB
	write func()
}

func (s writeDuringCopy) Export(ctx context.Context, fn func(transfer.Item) error) error {
	s.write()
	return s.DB.Export(ctx, fn)
}

// TestCopy_SequencePassesEveryCopiedNumber: a copy's target never hands
// out a numeric id (the eGain customer id) that a copied customer has,
// whatever the header said: the PostgreSQL target sets its sequence past
// max(num) of what it holds; a bbolt target must too, or its next create
// takes the number of a copied customer and IDByNum (GET
// /ws/v12/interaction/customer/{id}) answers with the new customer.
func TestCopy_SequencePassesEveryCopiedNumber(t *testing.T) {
	ctx := context.Background()
	src, _ := openTest(t)
	dst, _ := openTest(t)
	create := func(db *DB, id string) uint64 {
		t.Helper()
		var num uint64
		err := db.Update(ctx, "", func(tx profile.Tx) error {
			var err error
			if num, err = tx.NextNum(); err != nil {
				return err
			}
			return tx.PutProfile(&profile.Profile{ID: id, Num: num, Created: t0, Updated: t0, Rev: 1})
		})
		if err != nil {
			t.Fatal(err)
		}
		return num
	}
	create(src, "c1")
	var late uint64
	source := writeDuringCopy{src, func() { late = create(src, "c2") }}
	if _, err := transfer.Copy(ctx, source, dst, nil); err != nil {
		t.Fatal(err)
	}
	if n := create(dst, "c3"); n == late {
		t.Errorf("the target's next customer got number %d, which copied customer c2 has", n)
	}
	err := dst.View(ctx, "", func(tx profile.Tx) error {
		if id, err := tx.IDByNum(late); err != nil || id != "c2" {
			t.Errorf("IDByNum(%d) = %q, %v; want c2", late, id, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
