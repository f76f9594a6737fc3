package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/contactcenter/profiled/profile"
)

// auditAt is a whole-microsecond time: both stores keep audit times to
// the microsecond, and the service stamps them so.
var auditAt = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

// appendEntries appends one entry per op in one transaction of tenant,
// the i-th i minutes after auditAt (two with the same time share it).
func appendEntries(t *testing.T, s Store, tenant string, entries ...profile.AuditEntry) {
	t.Helper()
	MustUpdate(t, s, tenant, func(tx profile.Tx) error {
		for i := range entries {
			if err := tx.AppendAudit(&entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func listAudit(t *testing.T, s Store, tenant string, f profile.StoreFilter) []profile.AuditEntry {
	t.Helper()
	var out []profile.AuditEntry
	MustView(t, s, tenant, func(tx profile.Tx) error {
		return tx.Audit(f, func(e *profile.AuditEntry) bool { out = append(out, *e); return true })
	})
	return out
}

func ops(entries []profile.AuditEntry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Op)
	}
	return out
}

func entry(op string, minutes int, customers ...string) profile.AuditEntry {
	return profile.AuditEntry{At: auditAt.Add(time.Duration(minutes) * time.Minute), Actor: "api key \"crm\"",
		Client: "192.0.2.1", RequestID: "r-" + op, Op: op, Customers: customers, Attributes: []string{"LastName"}, Extensions: []string{"Phone"}}
}

func testAudit(t *testing.T, s Store) {
	appendEntries(t, s, "", entry("create", 0, "c1"), entry("replace", 1, "c1"))
	appendEntries(t, s, "", entry("merge", 2, "c1", "c2"), entry("mode", 2))
	appendEntries(t, s, "", entry("delete", 3, "c2"))
	appendEntries(t, s, "other", entry("create", 1, "c1"))

	all := listAudit(t, s, "", profile.StoreFilter{})
	if got := ops(all); !slices.Equal(got, []string{"delete", "mode", "merge", "replace", "create"}) {
		t.Fatalf("newest first = %q", got)
	}
	for i, e := range all {
		if e.Seq == 0 {
			t.Errorf("entry %d has no sequence number", i)
		}
		if i > 0 && e.At.Equal(all[i-1].At) && e.Seq >= all[i-1].Seq {
			t.Errorf("entries of one instant are not newest first by seq: %d after %d", e.Seq, all[i-1].Seq)
		}
	}
	first := all[len(all)-1]
	if !first.At.Equal(auditAt) || first.Actor != `api key "crm"` || first.Client != "192.0.2.1" || first.RequestID != "r-create" ||
		!slices.Equal(first.Customers, []string{"c1"}) || !slices.Equal(first.Attributes, []string{"LastName"}) || !slices.Equal(first.Extensions, []string{"Phone"}) {
		t.Errorf("entry does not round-trip: %+v", first)
	}

	if got := ops(listAudit(t, s, "", profile.StoreFilter{CustomerID: "c1"})); !slices.Equal(got, []string{"merge", "replace", "create"}) {
		t.Errorf("by customer c1 = %q", got)
	}
	if got := ops(listAudit(t, s, "", profile.StoreFilter{CustomerID: "c"})); len(got) != 0 {
		t.Errorf("customer c (a prefix of c1) = %q", got)
	}
	if got := ops(listAudit(t, s, "", profile.StoreFilter{CustomerID: "nobody\x00"})); len(got) != 0 {
		t.Errorf("an id no store holds = %q", got)
	}
	if got := ops(listAudit(t, s, "", profile.StoreFilter{From: auditAt.Add(time.Minute), To: auditAt.Add(2 * time.Minute)})); !slices.Equal(got, []string{"mode", "merge", "replace"}) {
		t.Errorf("[1 min, 2 min] = %q", got)
	}
	// Before is exclusive and continues within one instant.
	mode := all[1]
	got := ops(listAudit(t, s, "", profile.StoreFilter{Before: &profile.AuditPosition{At: mode.At, Seq: mode.Seq}}))
	if !slices.Equal(got, []string{"merge", "replace", "create"}) {
		t.Errorf("before mode = %q", got)
	}
	got = ops(listAudit(t, s, "", profile.StoreFilter{CustomerID: "c1", To: auditAt.Add(90 * time.Second),
		Before: &profile.AuditPosition{At: mode.At, Seq: mode.Seq}}))
	if !slices.Equal(got, []string{"replace", "create"}) {
		t.Errorf("c1, to 1.5 min, before mode = %q", got)
	}
	if got := listAudit(t, s, "other", profile.StoreFilter{}); len(got) != 1 || !got[0].At.Equal(auditAt.Add(time.Minute)) {
		t.Errorf("tenant other = %+v", got)
	}
	// fn returning false stops the listing.
	n := 0
	MustView(t, s, "", func(tx profile.Tx) error {
		return tx.Audit(profile.StoreFilter{}, func(*profile.AuditEntry) bool { n++; return false })
	})
	if n != 1 {
		t.Errorf("listing went on after fn said stop: %d calls", n)
	}
}

func testAuditDeleteBefore(t *testing.T, s Store) {
	for i := range 7 {
		appendEntries(t, s, "", entry("op", i, "c1"))
	}
	appendEntries(t, s, "other", entry("op", 0, "c1"))
	var n int
	MustUpdate(t, s, "", func(tx profile.Tx) (err error) {
		n, err = tx.DeleteAuditBefore(auditAt.Add(5*time.Minute), 3)
		return err
	})
	if n != 3 {
		t.Fatalf("first batch deleted %d, want 3 (the bound)", n)
	}
	MustUpdate(t, s, "", func(tx profile.Tx) (err error) {
		n, err = tx.DeleteAuditBefore(auditAt.Add(5*time.Minute), 3)
		return err
	})
	if n != 2 {
		t.Fatalf("second batch deleted %d, want the 2 left before the limit", n)
	}
	left := listAudit(t, s, "", profile.StoreFilter{})
	if len(left) != 2 || !left[1].At.Equal(auditAt.Add(5*time.Minute)) {
		t.Errorf("left %+v, want the entries at 5 and 6 minutes", left)
	}
	if byCustomer := listAudit(t, s, "", profile.StoreFilter{CustomerID: "c1"}); len(byCustomer) != 2 {
		t.Errorf("by customer after the sweep: %d entries, want 2", len(byCustomer))
	}
	if other := listAudit(t, s, "other", profile.StoreFilter{}); len(other) != 1 {
		t.Errorf("the sweep of one tenant reached another: %d left", len(other))
	}
}

func testAuditFailedUpdateKeepsNone(t *testing.T, s Store) {
	boom := errors.New("boom")
	err := s.Update(t.Context(), "", func(tx profile.Tx) error {
		e := entry("create", 0, "c1")
		if err := tx.AppendAudit(&e); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	if got := listAudit(t, s, "", profile.StoreFilter{}); len(got) != 0 {
		t.Errorf("a failed transaction left %d entries", len(got))
	}
}

func testUpdateSchemaVisitsDefaultTenant(t *testing.T, s Store) {
	var tenants []string
	err := s.UpdateSchema(t.Context(), 0, nil, nil, "", func(tenant string, tx profile.Tx) error {
		tenants = append(tenants, tenant)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tenants, []string{""}) {
		t.Errorf("an empty store's schema change visited %q; the default tenant keeps its audit entry", tenants)
	}
}
