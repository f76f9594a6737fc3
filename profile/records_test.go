package profile_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store"
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
	if len(recs) != 999 {
		t.Fatalf("%d records, want 999", len(recs))
	}
	last, r500 := profiletest.Record(t, recs[len(recs)-1]), profiletest.Record(t, recs[500])
	if last["PhoneNumber"] != "5559999" || r500["description"] != "desk" {
		t.Errorf("last %v, 500th %v", last, r500)
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
		var ids []string
		err := s.Read(ctx, "", func(r profile.Reader) error {
			var err error
			ids, _, err = r.Lookup("email_activity", []string{"email", "false", "false", "in"}, 10)
			return err
		})
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

// recordReadsStore counts the record sets schema changes read (sets), and
// the record reads of read transactions (calls: statements, on
// PostgreSQL).
type recordReadsStore struct {
	*store.DB
	sets, calls *atomic.Int64
}

// serviceCountingReads is a Service over a store of its own whose record
// reads are counted, holding n customers with a phone each.
func serviceCountingReads(t *testing.T, n int) (*profile.Service, recordReadsStore) {
	counted := recordReadsStore{sets: new(atomic.Int64), calls: new(atomic.Int64)}
	s, _, _ := profiletest.NewOver(t, "../config.yaml", func(db *store.DB) profile.Store {
		counted.DB = db
		return counted
	})
	for i := range n {
		if _, err := s.Create(context.Background(), "", map[string]any{"FirstName": fmt.Sprint("F", i), "Phone": []any{map[string]any{"PhoneNumber": fmt.Sprint("555", i)}}}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return s, counted
}

func (s recordReadsStore) UpdateSchema(ctx context.Context, base uint64, overlay, manifest []byte, hash string, fn func(string, profile.Tx) error) error {
	return s.DB.UpdateSchema(ctx, base, overlay, manifest, hash, func(tenant string, tx profile.Tx) error {
		return fn(tenant, recordReadsTx{tx, s.sets, new(atomic.Int64)})
	})
}

func (s recordReadsStore) View(ctx context.Context, tenant string, fn func(profile.Tx) error) error {
	return s.DB.View(ctx, tenant, func(tx profile.Tx) error { return fn(recordReadsTx{tx, new(atomic.Int64), s.calls}) })
}

type recordReadsTx struct {
	profile.Tx
	sets, calls *atomic.Int64
}

func (t recordReadsTx) RecordSets(id string, exts []string) (map[string][]schema.Record, error) {
	t.sets.Add(int64(len(exts)))
	t.calls.Add(1)
	return t.Tx.RecordSets(id, exts)
}

func (t recordReadsTx) Records(ext, id string) ([]schema.Record, error) {
	t.sets.Add(1)
	t.calls.Add(1)
	return t.Tx.Records(ext, id)
}

// TestCreateKey_ReadsOnlyTheRecordsItIndexes: indexing a new key reads
// the record sets of its own source and no others: a key on core
// attributes reads none, where every customer's Phone set was read (the
// default config has a key on Phone).
func TestCreateKey_ReadsOnlyTheRecordsItIndexes(t *testing.T) {
	s, counted := serviceCountingReads(t, 3)
	ctx := context.Background()
	for _, tc := range []struct {
		key     schema.KeyDoc
		atLeast int64 // record sets read, at least (and 0 means exactly 0)
	}{
		// (the first schema change may index every key: none stored yet)
		{schema.KeyDoc{Name: "by_phone_description", Source: "Phone", Attributes: []string{"description"}}, 3},
		{schema.KeyDoc{Name: "by_first_name", Attributes: []string{"FirstName"}}, 0},
	} {
		before := counted.sets.Load()
		if _, err := s.CreateKey(ctx, tc.key); err != nil {
			t.Fatal(err)
		}
		n := counted.sets.Load() - before
		if (tc.atLeast == 0 && n != 0) || n < tc.atLeast {
			t.Errorf("creating key %s read %d record sets, want %s", tc.key.Name, n, map[bool]string{true: "none", false: fmt.Sprint("at least ", tc.atLeast)}[tc.atLeast == 0])
		}
	}
}

// TestUniqueKeys: copy-store learns which keys are unique from the stored
// manifest, as the service writes it.
func TestUniqueKeys(t *testing.T) {
	s, db, _ := profiletest.New(t, "../config.yaml")
	if _, err := s.CreateKey(context.Background(), schema.KeyDoc{Name: "Login", Attributes: []string{"EmailAddress"}, Unique: schema.LooseBool{Value: true, Set: true}}); err != nil {
		t.Fatal(err)
	}
	st, err := db.SchemaState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := profile.UniqueKeys(st.Manifest)
	if len(got) < 2 || !got["login"] || got["email"] {
		t.Errorf("UniqueKeys = %v, want login unique and email not", got)
	}
	if got := profile.UniqueKeys([]byte("not json")); len(got) != 0 {
		t.Errorf("UniqueKeys of a damaged manifest = %v", got)
	}
}

// TestCheckConformance_OneRecordReadPerProfile: the check after a reload
// reads each profile's records in one statement, not one per extension of
// the schema (on PostgreSQL, 906 profiles x 70 extensions took 38 s and
// held a pooled connection throughout).
func TestCheckConformance_OneRecordReadPerProfile(t *testing.T) {
	const n = 5
	s, counted := serviceCountingReads(t, n)
	counted.calls.Store(0)
	res, err := s.CheckConformance(context.Background(), s.Schema())
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != n {
		t.Fatalf("checked %d, want %d", res.Checked, n)
	}
	if got := counted.calls.Load(); got > n {
		t.Errorf("%d record reads for %d profiles, want at most one each", got, n)
	}
}
