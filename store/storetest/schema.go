package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

func testTenantIsolation(t *testing.T, s Store) {
	var num uint64
	MustUpdate(t, s, "a", func(tx profile.Tx) error {
		var err error
		if num, err = tx.NextNum(); err != nil {
			return err
		}
		if err := tx.PutProfile(NewProfile("c1", num, t0)); err != nil {
			return err
		}
		if err := tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}}); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{"ann@x"}, "c1", false)
	})
	for _, tenant := range []string{"b", ""} {
		MustView(t, s, tenant, func(tx profile.Tx) error {
			if p, _ := tx.Profile("c1"); p != nil {
				t.Errorf("tenant %q reads a's profile", tenant)
			}
			if id, _ := tx.IDByNum(num); id != "" {
				t.Errorf("tenant %q maps a's num", tenant)
			}
			if recs, _ := tx.Records("orders", "c1"); recs != nil {
				t.Errorf("tenant %q reads a's records", tenant)
			}
			if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", nil, fn) }); len(ids) != 0 {
				t.Errorf("tenant %q scans a's index: %q", tenant, ids)
			}
			if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanCreated(time.Time{}, time.Time{}, fn) }); len(ids) != 0 {
				t.Errorf("tenant %q scans a's creations: %q", tenant, ids)
			}
			return tx.ForEachProfile(func(p *profile.Profile) error {
				t.Errorf("tenant %q visits %s", tenant, p.ID)
				return nil
			})
		})
	}
	MustUpdate(t, s, "b", func(tx profile.Tx) error {
		n, err := tx.NextNum()
		if err == nil && n <= num {
			t.Errorf("tenant b got num %d after a's %d", n, num)
		}
		return err
	})
	MustView(t, s, "a", func(tx profile.Tx) error {
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("email", []string{"ann@x"}, fn) }); !slices.Equal(ids, []string{"c1"}) {
			t.Errorf("tenant a scans %q", ids)
		}
		return nil
	})
}

func testUpdateSchema(t *testing.T, s Store) {
	for i, tenant := range []string{"a", ""} {
		MustUpdate(t, s, tenant, func(tx profile.Tx) error {
			// The profile makes the tenant one that has data on every
			// engine (see testTenants).
			if err := tx.PutProfile(NewProfile("c1", uint64(i+1), t0)); err != nil {
				return err
			}
			if err := tx.AddIndexEntry("phone", []string{"1"}, "c1", false); err != nil {
				return err
			}
			return tx.PutRecords("orders", "c1", []schema.Record{{"id": "o1"}})
		})
	}
	if o, err := schemaOverlay(s); o != nil || err != nil {
		t.Fatalf("initial overlay = %q, %v", o, err)
	}

	overlay := []byte(`{"extensions":[]}`)
	var tenants []string
	err := s.UpdateSchema(t.Context(), 0, overlay, nil, "h1", func(tenant string, tx profile.Tx) error {
		tenants = append(tenants, tenant)
		if err := tx.DropIndex("PHONE"); err != nil {
			return err
		}
		if err := tx.DropIndex("never-built"); err != nil {
			return err
		}
		return tx.DropExtension("Orders")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tenants, []string{"", "a"}) {
		t.Errorf("fn ran for tenants %q", tenants)
	}
	if o, _ := schemaOverlay(s); !bytes.Equal(o, overlay) {
		t.Errorf("overlay = %q", o)
	}
	if st, _ := s.SchemaState(t.Context()); st.Hash != "h1" {
		t.Errorf("hash stored with version 1 = %q, want h1", st.Hash)
	}
	MustView(t, s, "a", func(tx profile.Tx) error {
		if ids := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("phone", nil, fn) }); len(ids) != 0 {
			t.Errorf("dropped index scans %q", ids)
		}
		if recs, _ := tx.Records("orders", "c1"); recs != nil {
			t.Errorf("dropped extension reads %v", recs)
		}
		return nil
	})

	// A failing fn keeps nothing, not even the overlay.
	boom := errors.New("boom")
	if err := s.UpdateSchema(t.Context(), 1, []byte("new"), nil, "", func(string, profile.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("UpdateSchema = %v", err)
	}
	if o, _ := schemaOverlay(s); !bytes.Equal(o, overlay) {
		t.Errorf("overlay after failure = %q", o)
	}
	if err := s.UpdateSchema(t.Context(), 0, nil, nil, "", func(string, profile.Tx) error { return nil }); !errors.Is(err, profile.ErrSchemaMoved) {
		t.Errorf("UpdateSchema from an old version = %v, want ErrSchemaMoved", err)
	}
	if err := s.UpdateSchema(t.Context(), 1, nil, nil, "", func(string, profile.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.SchemaState(t.Context()); st.Version != 2 || st.Hash != "" {
		t.Errorf("schema version after two changes = %d, hash %q (the second stored none)", st.Version, st.Hash)
	}
	if o, _ := schemaOverlay(s); o != nil {
		t.Errorf("removed overlay = %q", o)
	}
}
