package profile_test

import (
	"context"
	"slices"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// reloadableOn is reloadableService over st.
func reloadableOn(t *testing.T, st profile.Store) (s *profile.Service, path, base string) {
	t.Helper()
	base = shippedConfig(t)
	path = writeConfig(t, base)
	s = startOver(t, st, path)
	if err := s.SyncSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, path, base
}

// withEveryKeySource is a profile with records of every extension an
// identification key of the shipped config reads: a write of it reads
// them all.
func withEveryKeySource(attributes map[string]any) map[string]any {
	body := map[string]any{
		"Phone":           []any{map[string]any{"PhoneNumber": "5550100", "description": "desk"}},
		"Activity":        []any{map[string]any{"ActivityId": "a1", "type": "email"}},
		"CustomAttribute": []any{map[string]any{"name": "tier", "value": "gold"}},
	}
	for k, v := range attributes {
		body[k] = v
	}
	return body
}

// lastEntry is the newest audit entry naming customer id.
func lastEntry(t *testing.T, s *profile.Service, id string) profile.AuditEntry {
	t.Helper()
	entries := trail(t, s, profile.AuditQuery{CustomerID: id, Limit: 1})
	if len(entries) != 1 {
		t.Fatalf("no audit entry names %s", id)
	}
	return entries[0]
}

// wantEntry checks the newest entry naming id.
func wantEntry(t *testing.T, s *profile.Service, id, what, op string, attributes, extensions []string) {
	t.Helper()
	e := lastEntry(t, s, id)
	if e.Op != op || !slices.Equal(e.Attributes, attributes) || !slices.Equal(e.Extensions, extensions) {
		t.Errorf("%s: entry %s attributes %v extensions %v; want %s attributes %v extensions %v",
			what, e.Op, e.Attributes, e.Extensions, op, attributes, extensions)
	}
}

// TestAudit_AttributeRespelledNamesNoRecords: a write to a customer whose
// core attribute a reload renamed (the old name kept as an alias) moves
// the attribute to its new name, and its audit entry names the records it
// wrote, not every record set the write read for its identification keys
// (which it wrote back unchanged, as they were stored). Both stores.
func TestAudit_AttributeRespelledNamesNoRecords(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		s, path, base := reloadableOn(t, st)
		ctx := as(`api key "crm"`)
		p, err := s.Create(ctx, "", withEveryKeySource(map[string]any{"FirstName": "Ann", "LastName": "Lee", "Title": "Dr"}), profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		q, err := s.Create(ctx, "", withEveryKeySource(map[string]any{"FirstName": "Bo", "Title": "Prof"}), profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		reloadWith(t, s, path, edited(t, base, "{name: Title,        type: string, length: 64}", "{name: JobTitle, type: string, length: 64, aliases: [Title]}"))

		replaced := map[string]any{"FirstName": "Ann", "LastName": "Lee-Smith", "JobTitle": "Dr"}
		if _, err := s.Replace(ctx, "", p.ID, replaced, profile.ReplaceOptions{}); err != nil {
			t.Fatal(err)
		}
		wantEntry(t, s, p.ID, "a PUT of core attributes", profile.OpReplace, []string{"LastName"}, nil)
		// The attribute moved: the same PUT again finds nothing to write.
		seq := lastEntry(t, s, p.ID).Seq
		if _, err := s.Replace(ctx, "", p.ID, replaced, profile.ReplaceOptions{}); err != nil {
			t.Fatal(err)
		}
		if e := lastEntry(t, s, p.ID); e.Seq != seq {
			t.Errorf("the same PUT again wrote %s naming %v: the attribute was not moved", e.Op, e.Extensions)
		}

		if _, err := s.InsertRecords(ctx, "", q.ID, map[string]any{"Phone": []any{map[string]any{"PhoneNumber": "5550199"}}}, 0); err != nil {
			t.Fatal(err)
		}
		wantEntry(t, s, q.ID, "a Phone record inserted", profile.OpInsertRecords, nil, []string{"Phone"})
	})
}

// TestAudit_RecordsRespelledNamesOnlyThoseWritten: a write to a customer
// with records of a renamed record attribute (the old name kept as an
// alias) moves those records, and its entry names them; record sets
// stored as the schema reads them are not written again, nor named,
// whatever the order the write goes through its sets in (a map's: a set
// the client sent as stored was named when it came after a changed one).
// A merge names what it wrote. Both stores.
func TestAudit_RecordsRespelledNamesOnlyThoseWritten(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		s, path, base := reloadableOn(t, st)
		ctx := as(`api key "crm"`)
		p, err := s.Create(ctx, "", withEveryKeySource(map[string]any{"FirstName": "Ann", "LastName": "Lee"}), profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dest, err := s.Create(ctx, "", withEveryKeySource(map[string]any{"FirstName": "Cy"}), profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		reloadWith(t, s, path, edited(t, base, "{name: description,        type: string, length: 256}", "{name: notes, type: string, length: 256, aliases: [description]}"))

		if _, err := s.Replace(ctx, "", p.ID, map[string]any{"FirstName": "Ann", "LastName": "Lee-Smith"}, profile.ReplaceOptions{}); err != nil {
			t.Fatal(err)
		}
		wantEntry(t, s, p.ID, "a PUT of core attributes", profile.OpReplace, []string{"LastName"}, []string{"Phone"})

		// Phone changed, Activity and CustomAttribute sent as stored: each
		// PUT writes Phone alone, in whichever order it meets the three.
		phones := []any{map[string]any{"PhoneNumber": "5550200", "notes": "desk"}, map[string]any{"PhoneNumber": "5550300", "notes": "home"}}
		for i := range 16 {
			body := withEveryKeySource(map[string]any{"FirstName": "Ann", "LastName": "Lee-Smith"})
			body["Phone"] = []any{phones[i%2]}
			if _, err := s.Replace(ctx, "", p.ID, body, profile.ReplaceOptions{}); err != nil {
				t.Fatal(err)
			}
			wantEntry(t, s, p.ID, "a PUT changing Phone only", profile.OpReplace, nil, []string{"Phone"})
		}

		src, err := s.Create(ctx, "", map[string]any{"FirstName": "Di", "CustomAttribute": []any{map[string]any{"name": "tier", "value": "silver"}}}, profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Merge(ctx, "", dest.ID, src.ID, profile.MergeOptions{}); err != nil {
			t.Fatal(err)
		}
		wantEntry(t, s, dest.ID, "a merge bringing CustomAttribute records", profile.OpMerge, []string{"FirstName"}, []string{"CustomAttribute"})
	})
}

// TestReads_RunAgainAuditOnlyTheAnswer: a read that runs again under the
// stored schema once caught up with it (identify, get, an eGain read)
// notes as read the customers of the answer it gives, not those of the
// first run it discarded (never shown). Both stores.
func TestReads_RunAgainAuditOnlyTheAnswer(t *testing.T) {
	onBothStores(t, func(t *testing.T, st profile.Store) {
		ctx := context.Background()
		a := startOver(t, st, "../config.yaml")
		if err := a.SyncSchema(ctx); err != nil {
			t.Fatal(err)
		}
		solo, err := a.Create(ctx, "", map[string]any{"FirstName": "Solo", "LastName": "Lee"}, profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		namesake, err := a.Create(ctx, "", map[string]any{"FirstName": "Lee", "LastName": "Solo"}, profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateKey(ctx, schema.KeyDoc{Name: "pair", Attributes: []string{"FirstName", "LastName"}}); err != nil {
			t.Fatal(err)
		}
		// B shares the store (as a replica would) and audits every read.
		b := startOver(t, st, "../config.yaml")
		b.Reads = profile.ReadsEvery
		noted := 0
		// wantRead checks that the read since the last check left one entry,
		// naming ids.
		wantRead := func(what string, ids ...string) {
			t.Helper()
			entries := trail(t, b, profile.AuditQuery{Op: profile.OpRead})
			var got [][]string
			for _, e := range entries[:len(entries)-noted] {
				got = append(got, e.Customers)
			}
			noted = len(entries)
			if len(got) != 1 || !slices.Equal(got[0], ids) {
				t.Errorf("%s left read entries naming %v, want one naming %v", what, got, ids)
			}
		}

		// A redefines the key: its index holds (LastName, FirstName), which
		// B's first run reads as (FirstName, LastName).
		if err := a.DeleteKey(ctx, "pair"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateKey(ctx, schema.KeyDoc{Name: "pair", Attributes: []string{"LastName", "FirstName"}}); err != nil {
			t.Fatal(err)
		}
		if k, _ := b.Schema().Key("pair"); k == nil || k.Attributes[0] != "FirstName" {
			t.Fatal("B followed A's change by itself: the test proves nothing")
		}
		res, err := b.Identify(ctx, "", profile.IdentifyQuery{Key: "pair", Filters: []profile.Filter{{Attribute: "FirstName", Value: "Solo"}, {Attribute: "LastName", Value: "Lee"}}})
		if err != nil || len(res.Profiles) != 1 || res.Profiles[0].ID != solo.ID {
			t.Fatalf("B identifies FirstName=Solo LastName=Lee: %+v, %v; want %s", res, err, solo.ID)
		}
		wantRead("the identify", solo.ID)

		newVersion := func(name string) {
			t.Helper()
			if _, err := a.CreateExtension(ctx, schema.ExtensionDoc{Name: name, Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "level", Type: "string"}}}); err != nil {
				t.Fatal(err)
			}
		}
		newVersion("Tier")
		if _, err := b.Get(ctx, "", solo.ID, nil); err != nil {
			t.Fatal(err)
		}
		if b.Schema().Version != a.Schema().Version {
			t.Fatal("B's get did not catch up with A's schema: it did not run again")
		}
		wantRead("the get", solo.ID)

		newVersion("Rank")
		used, runs := b.Schema().Version, 0
		err = b.Read(ctx, "", func(r profile.Reader) error {
			runs++
			load := solo.ID
			if r.Schema().Version == used {
				load = namesake.ID // what the first run loads, discarded
			}
			_, err := r.GetMany([]string{load}, nil)
			return err
		})
		if err != nil || runs != 2 {
			t.Fatalf("B's read: %d runs, %v; want 2", runs, err)
		}
		wantRead("the eGain read", solo.ID)
	})
}
