package profile_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store/postgres"
)

// TestMetadata_BuildsOnTheLiveConfig: a metadata change builds on the
// config the live schema was loaded from, not on the file as it is now: an
// edit nobody reloaded does not go live with it, and a half-written file
// does not refuse it; the next reload reads the file.
func TestMetadata_BuildsOnTheLiveConfig(t *testing.T) {
	ctx := context.Background()
	s, path, base := reloadableService(t)
	const title = "    - {name: Title,        type: string, length: 64}"
	pending := edited(t, base, title, title+"\n    - {name: Loyalty,      type: string}")
	for i, text := range []string{pending + "\ngarbage: [\n", pending} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprint("Tier", i)
		if _, err := s.CreateExtension(ctx, schema.ExtensionDoc{Name: name, Type: "single-valued", Attributes: []schema.AttributeDoc{{Name: "t", Type: "string"}}}); err != nil {
			t.Fatalf("creating %s with an edited config file: %v", name, err)
		}
		if _, ok := s.Schema().Attribute("Loyalty"); ok {
			t.Fatalf("the metadata change made the file's pending edit live")
		}
	}
	if _, err := s.ReloadSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Schema().Attribute("Loyalty"); !ok {
		t.Error("the reload did not read the edited file")
	}
	if _, ok := s.Schema().Extension("Tier1"); !ok {
		t.Error("the reload lost an extension the metadata API made")
	}
}

// TestExport_RecordsOfARemovedExtension: a reload that removes an
// extension from the config keeps its records, hidden from reads; an
// export still shows them (everything held about the customer), under the
// stored name.
func TestExport_RecordsOfARemovedExtension(t *testing.T) {
	ctx := context.Background()
	s, path, base := reloadableService(t)
	const extensions = "  extensions:\n"
	reloadWith(t, s, path, edited(t, base, extensions, extensions+"    - {name: Prof, type: single-valued, attributes: [{name: nick, type: string}]}\n"))
	if _, err := s.Create(ctx, "", map[string]any{"customer_id": "Z2", "FirstName": "Zed", "Prof": map[string]any{"nick": "secretnick"}}, profile.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reloadWith(t, s, path, base)
	x, err := s.Export(ctx, "", "Z2", 0)
	if err != nil {
		t.Fatal(err)
	}
	if recs := x.Profile.Extensions["prof"]; len(recs) != 1 || recs[0]["nick"] != "secretnick" {
		t.Errorf("export of a removed extension's records: %v", x.Profile.Extensions)
	}
}

// TestErase_AuditNamesARemovedExtension: an erase removes the records of an
// extension a reload removed, and its audit entry names that extension as
// it names every other whose records went.
func TestErase_AuditNamesARemovedExtension(t *testing.T) {
	ctx := context.Background()
	s, path, base := reloadableService(t)
	const extensions = "  extensions:\n"
	reloadWith(t, s, path, edited(t, base, extensions, extensions+"    - {name: Prof, type: single-valued, attributes: [{name: nick, type: string}]}\n"))
	if _, err := s.Create(ctx, "", map[string]any{"customer_id": "Z3", "FirstName": "Zed", "Prof": map[string]any{"nick": "secretnick"}}, profile.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reloadWith(t, s, path, base)
	if _, err := s.Erase(ctx, "", "Z3", 0, 0); err != nil {
		t.Fatal(err)
	}
	page, err := s.Audit(ctx, "", profile.AuditQuery{CustomerID: "Z3", Op: profile.OpErase})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || !slices.ContainsFunc(page.Entries[0].Extensions, func(e string) bool { return strings.EqualFold(e, "prof") }) {
		t.Errorf("erase entry: %+v, want it to name the removed extension prof", page.Entries)
	}
}

// TestUniqueKey_MissingValuesAreNotEqual: a unique key over several
// attributes refuses two customers with equal values, but not two whose
// values are equal where both have them and missing elsewhere (a relational
// unique index never takes NULLs for equal); both are still found by what
// they have, on writes and on an index built over stored data.
func TestUniqueKey_MissingValuesAreNotEqual(t *testing.T) {
	ctx := context.Background()
	s, _, _ := reloadableService(t)
	create := func(body map[string]any) error {
		_, err := s.Create(ctx, "", body, profile.CreateOptions{})
		return err
	}
	for range 2 { // stored before the key exists: the build must take them
		if err := create(map[string]any{"FirstName": "Early"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateKey(ctx, schema.KeyDoc{Name: "title_first", Attributes: []string{"Title", "FirstName"}, Unique: schema.LooseBool{Value: true, Set: true}}); err != nil {
		t.Fatalf("a unique key over customers who lack one of its values: %v", err)
	}
	for range 2 {
		if err := create(map[string]any{"FirstName": "Ann"}); err != nil {
			t.Errorf("a second customer with the same FirstName and no Title: %v", err)
		}
	}
	if err := create(map[string]any{"Title": "Dr", "FirstName": "Ann"}); err != nil {
		t.Fatal(err)
	}
	if err := create(map[string]any{"Title": "Dr", "FirstName": "Ann"}); errs.As(err) == nil || errs.As(err).Code != profile.CodeUniqueKeyViolation {
		t.Errorf("a second customer with every value equal = %v, want UNIQUE_KEY_VIOLATION", err)
	}
}

// TestIdentify_BoundedCandidates: filters outside the key's prefix are
// checked on at most IdentifyCandidates customers; past it the answer is
// cut (Truncated), and a client that has gone stops the checks.
func TestIdentify_BoundedCandidates(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newServiceAndStore(t)
	for i := range 12 {
		if _, err := s.Create(ctx, "", map[string]any{"LastName": "Common", "FirstName": fmt.Sprint("F", i), "Title": fmt.Sprint("T", i)}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.IdentifyCandidates = 5
	filtered := profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: "LastName", Value: "Common"}, {Attribute: "Title", Value: "nobody's"}}}
	if res, err := s.Identify(ctx, "", filtered); err != nil || len(res.Profiles) != 0 || !res.Truncated {
		t.Errorf("a filter none of 12 candidates meets, bound 5: %v, truncated %t, %v; want none, cut", res, res != nil && res.Truncated, err)
	}
	keyOnly := profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: "LastName", Value: "Common"}}}
	if res, err := s.Identify(ctx, "", keyOnly); err != nil || len(res.Profiles) != 12 || res.Truncated {
		t.Errorf("the key alone reads no candidate: %v, %v; want all 12", res, err)
	}
	s.IdentifyCandidates = 0 // the default
	filtered.Filters[1].Value = "T11"
	if res, err := s.Identify(ctx, "", filtered); err != nil || len(res.Profiles) != 1 || res.Truncated {
		t.Errorf("within the default bound: %v, %v; want the one customer", res, err)
	}
	gone := &cancelledAfter{Context: ctx, calls: 3}
	if _, err := s.Identify(gone, "", filtered); !errors.Is(err, context.Canceled) {
		t.Errorf("a client gone while candidates are checked: %v, want context.Canceled", err)
	}
}

// TestIdentify_BoundedBytes: an identify answer that includes profiles or
// records stops before the stored data it carries passes IdentifyBytes,
// and says it was cut; one without them lists every id.
func TestIdentify_BoundedBytes(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newServiceAndStore(t)
	note := strings.Repeat("x", 1000)
	for i := range 10 {
		if _, err := s.Create(ctx, "", map[string]any{"LastName": "Fanout", "FirstName": fmt.Sprint("F", i), "Title": note[:60]}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.IdentifyBytes = 300 // about three of these profiles
	q := profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: "LastName", Value: "Fanout"}}}
	res, err := s.Identify(ctx, "", q)
	if err != nil || len(res.Profiles) != 10 || res.Truncated {
		t.Fatalf("ids only: %d profiles, truncated %t, %v; want all 10", len(res.Profiles), res.Truncated, err)
	}
	q.IncludeProfile = true
	res, err = s.Identify(ctx, "", q)
	if err != nil || len(res.Profiles) == 0 || len(res.Profiles) >= 10 || !res.Truncated {
		t.Errorf("with profiles: %d profiles, truncated %t, %v; want some, cut", len(res.Profiles), res.Truncated, err)
	}
}

// TestIdentify_UniqueNotClaimedWhenCandidatesCut: include_extensions=unique
// gives records only for a customer known to be the only match; one found
// among candidates cut by IdentifyCandidates is not known to be.
func TestIdentify_UniqueNotClaimedWhenCandidatesCut(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newServiceAndStore(t)
	for i := range 12 {
		title := fmt.Sprint("T", i)
		if i == 0 || i == 11 {
			title = "Dr"
		}
		body := map[string]any{"LastName": "Common", "FirstName": fmt.Sprintf("F%02d", i), "Title": title,
			"Phone": []any{map[string]any{"PhoneNumber": fmt.Sprint("55500", 10+i)}}}
		if _, err := s.Create(ctx, "", body, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.IdentifyCandidates = 5
	q := profile.IdentifyQuery{Filters: []profile.Filter{{Attribute: "LastName", Value: "Common"}, {Attribute: "Title", Value: "Dr"}},
		Extensions: []string{"Phone"}, OnlyIfUnique: true}
	res, err := s.Identify(ctx, "", q)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || len(res.Profiles) != 1 {
		t.Fatalf("got %d profiles, truncated %t; want the one among the first 5, cut", len(res.Profiles), res.Truncated)
	}
	if len(res.Profiles[0].Extensions) > 0 {
		t.Errorf("records of %s given as the unique match, but a second Dr Common was never checked: %v", res.Profiles[0].ID, res.Profiles[0].Extensions)
	}
}

// TestIdentify_BoundedEntries: the index entries one identify walks are
// bounded, not only the customers: a key over a multi-valued extension
// (email_activity, led by the Activity type every e-mail activity shares)
// has an entry per record, so a few customers with many records would
// otherwise have every one of their entries walked to list a handful of
// ids. Past the bound the answer is cut (Truncated), as for candidates.
func TestIdentify_BoundedEntries(t *testing.T) {
	ctx := context.Background()
	s, _, db := newServiceAndStore(t)
	for i := range 2 {
		acts := make([]any, 600)
		for j := range acts {
			acts[j] = map[string]any{"ActivityId": fmt.Sprint("a", j), "type": "email", "mode": "inbound",
				"sentDate": fmt.Sprintf("202%d-01-01T00:%02d:%02d.000Z", i, j/60, j%60)}
		}
		if _, err := s.Create(ctx, "", map[string]any{"customer_id": fmt.Sprint("ACT", i), "LastName": "Act", "Activity": acts}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s.IdentifyCandidates = 5
	bound := uint64(s.IdentifyCandidates + profile.MaxIdentifyResults + 1)
	for _, filters := range [][]profile.Filter{
		{{Source: "Activity", Attribute: "type", Value: "email"}},
		{{Source: "Activity", Attribute: "type", Value: "email"}, {Source: "Activity", Attribute: "ActivityId", Value: "nope"}},
	} {
		before := db.Stats().IndexEntriesVisited
		res, err := s.Identify(ctx, "", profile.IdentifyQuery{Filters: filters})
		if err != nil {
			t.Fatal(err)
		}
		if visited := db.Stats().IndexEntriesVisited - before; visited > bound {
			t.Errorf("%v: walked %d index entries for %d customers (truncated %t), want at most %d", filters, visited, len(res.Profiles), res.Truncated, bound)
		}
	}
}

// TestLookup_BoundedEntries: an eGain search's lookup reads at most its
// limit plus Service.LookupExtraEntries index entries, and says it is not
// complete when it stops there: a key over Activity has an entry per
// record, and every e-mail activity has type email, so one prefix held
// every record of every customer, read whole to find a few customers.
func TestLookup_BoundedEntries(t *testing.T) {
	ctx := context.Background()
	s, _, db := newServiceAndStore(t)
	s.LookupExtraEntries = 1000
	const customers, records = 3, 1000 // 3,000 entries: more than 20 + 1,000
	for i := range customers {
		acts := make([]any, records)
		for j := range acts {
			acts[j] = map[string]any{"ActivityId": fmt.Sprint("a", j), "type": "email", "mode": "inbound", // an entry each: their times differ
				"sentDate": fmt.Sprintf("2020-01-01T%02d:%02d:%02d.000Z", j/3600, j/60%60, j%60)}
		}
		if _, err := s.Create(ctx, "", map[string]any{"customer_id": fmt.Sprint("LK", i), "Activity": acts}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	before := db.Stats().IndexEntriesVisited
	err := s.Read(ctx, "", func(r profile.Reader) error {
		ids, complete, err := r.Lookup("email_activity", []string{"email"}, 20)
		if err != nil {
			return err
		}
		if complete {
			t.Errorf("lookup over %d entries: %d customers, complete; want it cut, not complete", customers*records, len(ids))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if visited, bound := db.Stats().IndexEntriesVisited-before, uint64(20+s.LookupExtraEntries+1); visited > bound {
		t.Errorf("the lookup walked %d index entries, want at most %d", visited, bound)
	}
}

// TestEraseAndExportByNum_CustomerIDReusedMeanwhile: an erase or export by
// eGain number resolves the number, then acts in a later transaction; a
// customer deleted and created again under the same customer_id in between
// is someone else, with a new number, and is neither erased nor exported.
func TestEraseAndExportByNum_CustomerIDReusedMeanwhile(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	first, err := s.Create(ctx, "", map[string]any{"customer_id": "R1", "FirstName": "Old"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.IDByNum(ctx, "", first.Num)
	if err != nil || id != "R1" {
		t.Fatalf("IDByNum = %q, %v", id, err)
	}
	if err := s.Delete(ctx, "", "R1", 0); err != nil {
		t.Fatal(err)
	}
	second, err := s.Create(ctx, "", map[string]any{"customer_id": "R1", "FirstName": "New"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Num == first.Num {
		t.Fatalf("the customer created again kept number %d", first.Num)
	}
	if _, err := s.Export(ctx, "", id, first.Num); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("export by the old number: %v, want not found", err)
	}
	if _, err := s.Erase(ctx, "", id, first.Num, 0); errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("erase by the old number: %v, want not found", err)
	}
	if d, err := s.Get(ctx, "", "R1", nil); err != nil || d.Num != second.Num {
		t.Fatalf("the new customer after the stale erase: %v, %v", d, err)
	}
	if x, err := s.Export(ctx, "", "R1", second.Num); err != nil || x.Profile.Num != second.Num {
		t.Errorf("export by the current number: %v", err)
	}
	if _, err := s.Erase(ctx, "", "R1", second.Num, 0); err != nil {
		t.Errorf("erase by the current number: %v", err)
	}
	if _, err := s.Erase(ctx, "", "R1", second.Num, 0); errs.KindOf(err) != errs.KindNotFound || !strings.Contains(err.Error(), "erased") {
		t.Errorf("erase sent again by the number: %v, want PROFILE_ERASED", err)
	}
}

// TestEraseAndExportByNum_CustomerIDReusedAfterTheCheck: on PostgreSQL a
// write transaction runs at READ COMMITTED, each statement seeing what
// committed before it, so the number check and the row the erase or
// export then locks are two snapshots: a customer deleted and created
// again under the same customer_id between them is someone else and must
// be neither erased nor exported (docs/privacy.md).
func TestEraseAndExportByNum_CustomerIDReusedAfterTheCheck(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t) // skips without a server outside CI
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &meanwhileStore{DB: db}
	s := profiletest.Started(t, "../config.yaml", st)
	for _, op := range []struct {
		name string
		do   func(num uint64) error
	}{
		{"export", func(num uint64) error { _, err := s.Export(ctx, "", "R2", num); return err }},
		{"erase", func(num uint64) error { _, err := s.Erase(ctx, "", "R2", num, 0); return err }},
	} {
		first, err := s.Create(ctx, "", map[string]any{"customer_id": "R2", "FirstName": "Old"}, profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var second *profile.Profile
		st.arm(func() { // after the number check, before the row is read
			if err := s.Delete(ctx, "", "R2", 0); err != nil {
				t.Error(err)
			}
			if second, err = s.Create(ctx, "", map[string]any{"customer_id": "R2", "FirstName": "New"}, profile.CreateOptions{}); err != nil {
				t.Error(err)
			}
		})
		if err := op.do(first.Num); errs.KindOf(err) != errs.KindNotFound {
			t.Errorf("%s by the old number %d, the customer_id reused meanwhile: %v, want not found", op.name, first.Num, err)
		}
		if second == nil {
			t.Fatalf("%s: the customer was not created again meanwhile", op.name)
		}
		if p, err := s.Get(ctx, "", "R2", nil); err != nil || p.Num != second.Num {
			t.Errorf("after the %s by the old number, the new customer: %v, %v", op.name, p, err)
		}
		if err := s.Delete(ctx, "", "R2", 0); err != nil {
			t.Fatal(err)
		}
	}
}

// meanwhileStore runs, once armed, a function after the next IDByNum of a
// write transaction, on other connections while that transaction is open.
type meanwhileStore struct {
	*postgres.DB
	mu        sync.Mutex
	meanwhile func()
}

func (s *meanwhileStore) arm(fn func()) { s.mu.Lock(); s.meanwhile = fn; s.mu.Unlock() }

func (s *meanwhileStore) Update(ctx context.Context, tenant string, fn func(profile.Tx) error) error {
	return s.DB.Update(ctx, tenant, func(tx profile.Tx) error { return fn(meanwhileTx{tx, s}) })
}

type meanwhileTx struct {
	profile.Tx
	s *meanwhileStore
}

func (t meanwhileTx) IDByNum(num uint64) (string, error) {
	id, err := t.Tx.IDByNum(num)
	t.s.mu.Lock()
	fn := t.s.meanwhile
	t.s.meanwhile = nil
	t.s.mu.Unlock()
	if fn != nil {
		fn()
	}
	return id, err
}

// TestEditByNum_CustomerIDReusedAfterTheLookup: as for an erase by number,
// an eGain edit resolves the number and then reads (locks) the row in a
// second statement; a customer_id deleted and created again between them
// is someone else, whom the edit of the old number must not change.
func TestEditByNum_CustomerIDReusedAfterTheLookup(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t) // skips without a server outside CI
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &meanwhileStore{DB: db}
	s := profiletest.Started(t, "../config.yaml", st)
	first, err := s.Create(ctx, "", map[string]any{"customer_id": "R3", "FirstName": "Old"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.arm(func() {
		if err := s.Delete(ctx, "", "R3", 0); err != nil {
			t.Error(err)
		}
		if _, err := s.Create(ctx, "", map[string]any{"customer_id": "R3", "FirstName": "New"}, profile.CreateOptions{}); err != nil {
			t.Error(err)
		}
	})
	_, err = s.EditByNum(ctx, "", first.Num, func(*schema.Compiled) []string { return nil }, func(_ *schema.Compiled, p *profile.Profile) (map[string]any, error) {
		return map[string]any{"FirstName": "Edited"}, nil
	}, profile.ReplaceOptions{})
	if errs.KindOf(err) != errs.KindNotFound {
		t.Errorf("edit of the old number %d, the customer_id reused meanwhile: %v, want not found", first.Num, err)
	}
	p, err := s.Get(ctx, "", "R3", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range p.Attributes {
		if m.Name == "FirstName" && string(m.Value) != `"New"` {
			t.Errorf("the new customer R3 after the edit of the old number %d has FirstName %s, want \"New\"", first.Num, m.Value)
		}
	}
}
