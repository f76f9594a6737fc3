package profile

import (
	"errors"
	"reflect"
	"testing"

	"github.com/contactcenter/profiled/schema"
)

// failingAfterTx reads profile "a" and fails on any other.
type failingAfterTx struct{ Tx }

func (failingAfterTx) Profile(id string) (*Profile, error) {
	if id == "a" {
		return &Profile{ID: "a"}, nil
	}
	return nil, errors.New("read failed")
}

// TestGetMany_FailedLoadIsNoRead: profiles of a GetMany that failed part
// way are not noted as read (the audit trail's read entries), even when
// the caller goes on after the error.
func TestGetMany_FailedLoadIsNoRead(t *testing.T) {
	r := &reader{schema: &schema.Compiled{}, tx: failingAfterTx{}}
	if _, err := r.GetMany([]string{"a", "b"}, nil); err == nil {
		t.Fatal("no error")
	}
	if len(r.read) != 0 {
		t.Errorf("noted as read: %v", r.read)
	}
	if got, err := r.GetMany([]string{"a"}, nil); err != nil || len(got) != 1 || !reflect.DeepEqual(r.read, []string{"a"}) {
		t.Errorf("GetMany = %v, %v; read %v", got, err, r.read)
	}
}
