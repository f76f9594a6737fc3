package profile_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/store"
)

// newService is the domain over a real bbolt file with the repository's
// config, and a clock the test sets.
func newService(tb testing.TB) (*profile.Service, *time.Time) {
	tb.Helper()
	s, now, _ := newServiceAndStore(tb)
	return s, now
}

func newServiceAndStore(tb testing.TB) (*profile.Service, *time.Time, *store.DB) {
	tb.Helper()
	s, db, _ := profiletest.New(tb, "../config.yaml")
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Millisecond); return now }
	return s, &now, db
}

func as(name string) context.Context {
	return profile.WithActor(context.Background(), &profile.Actor{Name: name, Client: "192.0.2.7", RequestID: "req-" + name})
}

func trail(t *testing.T, s *profile.Service, q profile.AuditQuery) []profile.AuditEntry {
	t.Helper()
	page, err := s.Audit(context.Background(), "", q)
	if err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

// TestAudit_EntriesNameWhatChanged: every write leaves one entry naming
// the actor, the customers and the attributes and extensions it changed
// (only those), and never a value.
func TestAudit_EntriesNameWhatChanged(t *testing.T) {
	s, _ := newService(t)
	ctx := as("api key \"crm\"")
	p, err := s.Create(ctx, "", map[string]any{"FirstName": "Ann", "LastName": "Lee", "EmailAddress": []any{"ann@x.dom"}, "Phone": []any{map[string]any{"PhoneNumber": "5550100"}}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(ctx, "", p.ID, map[string]any{"FirstName": "Ann", "LastName": "Lee-Smith", "EmailAddress": []any{"ann@x.dom"}}, profile.ReplaceOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertRecords(as("user \"agent\""), "", p.ID, map[string]any{"Phone": []any{map[string]any{"PhoneNumber": "5550101"}}}, 0); err != nil {
		t.Fatal(err)
	}
	other, err := s.Create(ctx, "", map[string]any{"FirstName": "Bo", "Phone": []any{map[string]any{"PhoneNumber": "5550199"}}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Merge(ctx, "", p.ID, other.ID, profile.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Erase(as("admin (token)"), "", p.ID, 0, 0); err != nil {
		t.Fatal(err)
	}

	got := trail(t, s, profile.AuditQuery{})
	want := []struct {
		op, actor   string
		customers   []string
		attrs, exts []string
	}{
		{"erase", "admin (token)", []string{p.ID}, []string{"EmailAddress", "FirstName", "LastName"}, []string{"Phone"}}, // every record goes
		{"merge", `api key "crm"`, []string{p.ID, other.ID}, []string{"FirstName"}, []string{"Phone"}},                   // the source's FirstName is deleted with it
		{"create", `api key "crm"`, []string{other.ID}, []string{"FirstName"}, []string{"Phone"}},
		{"records.insert", `user "agent"`, []string{p.ID}, nil, []string{"Phone"}},
		{"replace", `api key "crm"`, []string{p.ID}, []string{"LastName"}, nil},
		{"create", `api key "crm"`, []string{p.ID}, []string{"EmailAddress", "FirstName", "LastName"}, []string{"Phone"}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Op != w.op || e.Actor != w.actor || !slices.Equal(e.Customers, w.customers) ||
			!slices.Equal(e.Attributes, w.attrs) || !slices.Equal(e.Extensions, w.exts) {
			t.Errorf("entry %d = %+v\nwant op %s actor %s customers %v attributes %v extensions %v", i, e, w.op, w.actor, w.customers, w.attrs, w.exts)
		}
		if e.Client != "192.0.2.7" || e.RequestID == "" || e.At.IsZero() || e.Seq == 0 {
			t.Errorf("entry %d lacks client, request id, time or seq: %+v", i, e)
		}
	}
}

// TestAudit_FailedWritesLeaveNoEntry: a refused write (validation, a
// missing customer, a conflict) appends nothing.
func TestAudit_FailedWritesLeaveNoEntry(t *testing.T) {
	s, _ := newService(t)
	ctx := as("crm")
	p, err := s.Create(ctx, "", map[string]any{"customer_id": "A1", "FirstName": "Ann"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	failures := map[string]func() error{
		"unknown attribute": func() error {
			_, err := s.Create(ctx, "", map[string]any{"NoSuchAttribute": "x"}, profile.CreateOptions{})
			return err
		},
		"wrong type": func() error {
			_, err := s.Replace(ctx, "", p.ID, map[string]any{"FirstName": 7}, profile.ReplaceOptions{})
			return err
		},
		"missing customer": func() error { return s.Delete(ctx, "", "NOBODY", 0) },
		"taken id": func() error {
			_, err := s.Create(ctx, "", map[string]any{"customer_id": "A1"}, profile.CreateOptions{})
			return err
		},
		"stale revision": func() error {
			_, err := s.Replace(ctx, "", p.ID, map[string]any{"FirstName": "B"}, profile.ReplaceOptions{IfMatch: 99})
			return err
		},
	}
	for name, fail := range failures {
		if err := fail(); err == nil {
			t.Fatalf("%s: no error", name)
		}
	}
	if got := trail(t, s, profile.AuditQuery{}); len(got) != 1 || got[0].Op != "create" {
		t.Errorf("entries after failed writes: %+v", got)
	}
}

// TestAudit_PagingStableWhileAppending: pages of a listing neither repeat
// nor skip an entry while writes append new ones, and filters page too.
func TestAudit_PagingStableWhileAppending(t *testing.T) {
	s, _ := newService(t)
	for i := range 25 {
		actor := "even"
		if i%2 == 1 {
			actor = "odd"
		}
		if _, err := s.Create(as(actor), "", map[string]any{"FirstName": "P"}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	before := trail(t, s, profile.AuditQuery{Limit: 1000})
	var seen []profile.AuditEntry
	q := profile.AuditQuery{Limit: 4}
	for {
		page, err := s.Audit(context.Background(), "", q)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, page.Entries...)
		// Appended between pages: newer than every page, never in one.
		if _, err := s.Create(as("late"), "", map[string]any{"FirstName": "L"}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if page.Next == "" {
			break
		}
		q.Before = page.Next
	}
	if len(seen) != len(before) {
		t.Fatalf("paged %d entries, the trail held %d", len(seen), len(before))
	}
	for i := range seen {
		if seen[i].Seq != before[i].Seq {
			t.Fatalf("page entry %d is seq %d, want %d", i, seen[i].Seq, before[i].Seq)
		}
	}
	odd := trail(t, s, profile.AuditQuery{Actor: "odd", Limit: 5})
	if len(odd) != 5 || odd[0].Actor != "odd" {
		t.Errorf("actor filter: %+v", odd)
	}
	page, err := s.Audit(context.Background(), "", profile.AuditQuery{Actor: "odd", Limit: 5})
	if err != nil || page.Next == "" {
		t.Fatalf("a filtered page of a longer listing has no next: %v", err)
	}
	rest := trail(t, s, profile.AuditQuery{Actor: "odd", Before: page.Next})
	if len(rest) != 7 { // 12 odd creates in all
		t.Errorf("the rest of the odd listing has %d entries, want 7", len(rest))
	}
	if _, err := s.Audit(context.Background(), "", profile.AuditQuery{Before: "not-a-cursor"}); !errs.Is(err, errs.KindInvalid) {
		t.Errorf("a foreign cursor: %v", err)
	}
}

// TestAudit_RetentionSweep deletes exactly the entries past the limit,
// in every tenant, in batches.
func TestAudit_RetentionSweep(t *testing.T) {
	s, now, db := newServiceAndStore(t)
	start := *now
	createMany(t, s, 1100) // the old ones take three sweep batches
	*now = start.Add(300 * 24 * time.Hour)
	createMany(t, s, 100) // recent
	if _, err := s.Create(as("crm"), "t2", map[string]any{"FirstName": "P"}, profile.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cutoff := start.Add(200 * 24 * time.Hour)
	n, err := s.SweepAudit(context.Background(), cutoff)
	if err != nil {
		t.Fatal(err)
	}
	left := trail(t, s, profile.AuditQuery{Limit: 1000})
	if len(left) != 100 {
		t.Fatalf("%d entries left in the default tenant, want the 100 recent ones", len(left))
	}
	for _, e := range left {
		if e.At.Before(cutoff) {
			t.Fatalf("an entry older than the cutoff survived: %v", e.At)
		}
	}
	t2, err := s.Audit(context.Background(), "t2", profile.AuditQuery{})
	if err != nil || len(t2.Entries) != 1 {
		t.Fatalf("tenant t2 (recent) after the sweep: %v %+v", err, t2)
	}
	if n != 1100 {
		t.Errorf("swept %d, want 1100", n)
	}
	// A sweep that finds nothing old writes nothing (no fsync per tenant).
	commits := db.Stats().Commits
	if n, err := s.SweepAudit(context.Background(), cutoff); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
	if c := db.Stats().Commits; c != commits {
		t.Errorf("a sweep with nothing to delete committed %d write transactions", c-commits)
	}
}

// TestOps_ListsEveryOperation holds the hand-kept profile.Ops to the Op
// constants declared in audit.go: an operation added without it would be
// recorded, yet refused as unknown by GET /admin/audit?op=.
func TestOps_ListsEveryOperation(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "audit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Op") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, v)
			}
		}
	}
	if len(declared) < 10 {
		t.Fatalf("found %d Op constants in audit.go: %q", len(declared), declared)
	}
	got := slices.Sorted(slices.Values(profile.Ops))
	slices.Sort(declared)
	if !slices.Equal(got, declared) {
		t.Errorf("profile.Ops = %q, the Op constants are %q", got, declared)
	}
}

// createMany creates n profiles {"FirstName":"P"} as crm, 8 at a time:
// concurrent creates share a commit and its fsync.
func createMany(t *testing.T, s *profile.Service, n int) {
	t.Helper()
	failed := make(chan error, n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := s.Create(as("crm"), "", map[string]any{"FirstName": "P"}, profile.CreateOptions{}); err != nil {
					failed <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(failed)
	if err := <-failed; err != nil {
		t.Fatal(err)
	}
}

// TestExport_ImportEntryNamesNoOtherCustomer: a customer loaded by
// `profiled import` shares its batch's audit entry with every other
// customer of the batch; the data subject's export must not hand over
// the other customers' ids (they are other data subjects' identifiers).
func TestExport_ImportEntryNamesNoOtherCustomer(t *testing.T) {
	s, _ := newService(t)
	ctx := as("importer")
	bodies := []map[string]any{
		{"customer_id": "SUBJ1", "FirstName": "Ann"},
		{"customer_id": "OTHER1", "FirstName": "Bob"},
		{"customer_id": "OTHER2", "FirstName": "Cy"},
	}
	if _, err := s.CreateMany(ctx, "", bodies, profile.Mark{}); err != nil {
		t.Fatal(err)
	}
	x, err := s.Export(context.Background(), "", "SUBJ1", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range x.Audit {
		for _, id := range e.Customers {
			if id != "SUBJ1" {
				t.Errorf("export of SUBJ1: entry %q names another customer %q (all: %v)", e.Op, id, e.Customers)
			}
		}
	}
}

// TestExport_EntriesAfterTheClockSteppedBack: a customer's export lists
// every entry written about it since its creation, also those a clock
// stepped back (NTP on the host, or a PostgreSQL replica behind the one
// that created it) stamped before the creation time; the entries of an
// earlier customer deleted under the same customer_id stay out.
func TestExport_EntriesAfterTheClockSteppedBack(t *testing.T) {
	s, now := newService(t)
	ctx := as(`api key "crm"`)
	if _, err := s.Create(ctx, "", map[string]any{"customer_id": "STEP1", "FirstName": "Earlier"}, profile.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "", "STEP1", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "", map[string]any{"customer_id": "STEP1", "FirstName": "Ann"}, profile.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(-time.Second) // the clock steps back
	if _, err := s.Replace(ctx, "", "STEP1", map[string]any{"FirstName": "Anna"}, profile.ReplaceOptions{}); err != nil {
		t.Fatal(err)
	}
	x, err := s.Export(ctx, "", "STEP1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range x.Audit {
		ops = append(ops, e.Op)
	}
	slices.Sort(ops)
	if want := []string{"create", "export", "replace"}; !slices.Equal(ops, want) {
		t.Errorf("export of STEP1 lists %v, want %v (its own entries, none of the earlier customer's)", ops, want)
	}
}

// TestAudit_ImportOfNothingLeavesNoEntry: an import run that creates no
// customer (-resume of a finished file writes only its progress mark)
// leaves no import entry naming nobody; a batch that creates some does.
func TestAudit_ImportOfNothingLeavesNoEntry(t *testing.T) {
	s, _ := newService(t)
	ctx := as("importer")
	if _, err := s.CreateMany(ctx, "", nil, profile.Mark{Name: "import::/tmp/done.ndjson", Value: "line 1000"}); err != nil {
		t.Fatal(err)
	}
	if got := trail(t, s, profile.AuditQuery{Op: profile.OpImport}); len(got) != 0 {
		t.Errorf("an import of nothing left entries: %+v", got)
	}
	if _, err := s.CreateMany(ctx, "", []map[string]any{{"FirstName": "Ann"}}, profile.Mark{}); err != nil {
		t.Fatal(err)
	}
	if got := trail(t, s, profile.AuditQuery{Op: profile.OpImport}); len(got) != 1 || len(got[0].Customers) != 1 {
		t.Errorf("an import of one customer: entries %+v, want one naming it", got)
	}
}
