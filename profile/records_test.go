package profile_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
)

// TestInsertRecords_WritesWhatChanges: inserting, updating or deleting one
// record of a customer who holds 999 stores one record, or none, not the
// set again (issue 11: a write's cost follows what it changes).
func TestInsertRecords_WritesWhatChanges(t *testing.T) {
	s, db, _ := profiletest.New(t, "../config.yaml")
	ctx := context.Background()
	var phones []any
	for i := range 999 {
		phones = append(phones, map[string]any{"PhoneNumber": fmt.Sprintf("555%04d", i)})
	}
	p, err := s.Create(ctx, "", map[string]any{"FirstName": "Big", "Phone": phones}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	written := func(what string, want uint64, op func() error) {
		t.Helper()
		before := db.Stats().RecordsWritten
		if err := op(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := db.Stats().RecordsWritten - before; n != want {
			t.Errorf("%s stored %d records, want %d", what, n, want)
		}
	}
	written("an insert", 1, func() error {
		_, err := s.InsertRecords(ctx, "", p.ID, map[string]any{"Phone": []any{map[string]any{"PhoneNumber": "5559999"}}})
		return err
	})
	written("an upsert of an existing one", 1, func() error {
		_, err := s.InsertRecords(ctx, "", p.ID, map[string]any{"Phone": []any{map[string]any{"PhoneNumber": "5550500", "description": "desk"}}})
		return err
	})
	written("an update by unique", 1, func() error {
		return s.UpdateRecordByUnique(ctx, "", p.ID, "Phone", map[string]any{"PhoneNumber": "5550600", "description": "mobile"})
	})
	written("a delete by unique", 0, func() error {
		return s.DeleteRecordByUnique(ctx, "", p.ID, "Phone", map[string]any{"PhoneNumber": "5550700"})
	})
	got, err := s.Get(ctx, "", p.ID, []string{"Phone"})
	if err != nil {
		t.Fatal(err)
	}
	recs := got.Extensions["Phone"]
	if len(recs) != 999 || recs[len(recs)-1]["PhoneNumber"] != "5559999" || recs[500]["description"] != "desk" {
		t.Errorf("%d records; last %v, 500th %v", len(recs), recs[len(recs)-1], recs[500])
	}
}
