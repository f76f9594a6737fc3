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
		_, err := s.InsertRecords(ctx, "", p.ID, map[string]any{"Phone": []any{map[string]any{"PhoneNumber": "5559999"}}}, 0)
		return err
	})
	written("an upsert of an existing one", 1, func() error {
		_, err := s.InsertRecords(ctx, "", p.ID, map[string]any{"Phone": []any{map[string]any{"PhoneNumber": "5550500", "description": "desk"}}}, 0)
		return err
	})
	written("an update by unique", 1, func() error {
		return errOnly(s.UpdateRecordByUnique(ctx, "", p.ID, "Phone", map[string]any{"PhoneNumber": "5550600", "description": "mobile"}, 0))
	})
	written("a delete by unique", 0, func() error {
		return errOnly(s.DeleteRecordByUnique(ctx, "", p.ID, "Phone", map[string]any{"PhoneNumber": "5550700"}, 0))
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

// TestRecordIndexes_SharedEntries: an index entry that two records of one
// customer yield (a key on attributes that are not the extension's unique
// ones) stays while either record does, whatever the records operations
// touch: the index follows only the records a change removes or adds.
func TestRecordIndexes_SharedEntries(t *testing.T) {
	s, _, _ := profiletest.New(t, "../config.yaml")
	ctx := context.Background()
	activity := func(id, subject string) map[string]any {
		return map[string]any{"ActivityId": id, "type": "email", "mode": "in", "sentDate": "2026-11-30T10:00:00Z", "subject": subject}
	}
	p, err := s.Create(ctx, "", map[string]any{"FirstName": "Act", "Activity": []any{activity("a1", "x"), activity("a2", "y")}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := func() bool {
		t.Helper()
		ids, err := s.Lookup(ctx, "", "email_activity", []string{"email", "false", "false", "in"}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(ids) == 1 && ids[0] == p.ID
	}
	steps := []struct {
		what string
		do   func() error
		want bool
	}{
		{"created with two", func() error { return nil }, true},
		{"one record's other attribute changed", func() error {
			return errOnly(s.UpdateRecordByUnique(ctx, "", p.ID, "Activity", map[string]any{"ActivityId": "a1", "subject": "z"}, 0))
		}, true},
		{"one of the two deleted", func() error {
			return errOnly(s.DeleteRecordByUnique(ctx, "", p.ID, "Activity", map[string]any{"ActivityId": "a1"}, 0))
		}, true},
		{"the last one's key attribute changed", func() error {
			return errOnly(s.UpdateRecordByUnique(ctx, "", p.ID, "Activity", map[string]any{"ActivityId": "a2", "mode": "out"}, 0))
		}, false},
		{"one with the old values inserted", func() error {
			_, err := s.InsertRecords(ctx, "", p.ID, map[string]any{"Activity": []any{activity("a3", "w")}}, 0)
			return err
		}, true},
		{"it deleted again", func() error {
			return errOnly(s.DeleteRecordByUnique(ctx, "", p.ID, "Activity", map[string]any{"ActivityId": "a3"}, 0))
		}, false},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		if got := found(); got != step.want {
			t.Errorf("%s: found by the shared entry %v, want %v", step.what, got, step.want)
		}
	}
}

// errOnly keeps a write's error, for steps that only check what it stored.
func errOnly(_ *profile.Profile, err error) error { return err }
