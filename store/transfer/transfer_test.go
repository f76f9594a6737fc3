package transfer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres"
	"github.com/contactcenter/profiled/store/transfer"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropShared()
	os.Exit(code)
}

// copyable is a store both engines give: served, and copied whole.
type copyable interface {
	profile.Store
	transfer.Source
	transfer.Target
}

// engines open a new, empty store of each engine.
var engines = map[string]func(t *testing.T) copyable{
	"bbolt": func(t *testing.T) copyable {
		db, err := store.Open(filepath.Join(t.TempDir(), "profiles.db"), store.Options{OpenTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
	"postgres": func(t *testing.T) copyable {
		db, err := postgres.Open(context.Background(), pgtest.SchemaURL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
}

// clock is a service's clock that a test steps, forward or back.
type clock struct{ now time.Time }

func (c *clock) tick() time.Time { c.now = c.now.Add(time.Millisecond); return c.now }

// pages reads tenant's whole trail two entries a page, each page after the
// cursor of the one before.
func pages(t *testing.T, svc *profile.Service, tenant string) []*profile.AuditPage {
	t.Helper()
	var out []*profile.AuditPage
	before := ""
	for {
		page, err := svc.Audit(context.Background(), tenant, profile.AuditQuery{Limit: 2, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page)
		if page.Next == "" {
			return out
		}
		before = page.Next
	}
}

func maxSeq(pages []*profile.AuditPage) uint64 {
	var n uint64
	for _, p := range pages {
		for _, e := range p.Entries {
			n = max(n, e.Seq)
		}
	}
	return n
}

// TestCopy_AuditTrailKeepsItsSequence copies, both ways between the
// engines, a trail whose time order is not its sequence order: a customer
// deleted and created again under the same customer_id, then written to
// after the clock stepped back. The export tells the customers apart by
// sequence number (profile.Export), so the copy must keep every entry's
// number: renumbered in time order, the write after the step would fall
// before the creation and drop out of the customer's export. Pages read
// with the source's cursors are the same on the target, and the target
// numbers its own new entries after the copied ones.
func TestCopy_AuditTrailKeepsItsSequence(t *testing.T) {
	for _, c := range []struct{ from, to string }{{"bbolt", "postgres"}, {"postgres", "bbolt"}} {
		t.Run(c.from+" to "+c.to, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("../../config.yaml")
			if err != nil {
				t.Fatal(err)
			}
			ctx := profile.WithActor(context.Background(), &profile.Actor{Name: `api key "crm"`})
			src := engines[c.from](t)
			srcSvc := profiletest.Started(t, "../../config.yaml", src)
			clk := &clock{now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
			srcSvc.Now = clk.tick
			must := func(_ any, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(srcSvc.Create(ctx, "", map[string]any{"customer_id": "STEP1", "FirstName": "Earlier"}, profile.CreateOptions{}))
			must(nil, srcSvc.Delete(ctx, "", "STEP1", 0))
			must(srcSvc.Create(ctx, "", map[string]any{"customer_id": "STEP1", "FirstName": "Ann"}, profile.CreateOptions{}))
			// Another tenant's trail interleaves: PostgreSQL numbers
			// every tenant's entries from one sequence, bbolt each
			// tenant's from its own.
			must(srcSvc.Create(ctx, "acme", map[string]any{"customer_id": "A1", "FirstName": "Acme"}, profile.CreateOptions{}))
			clk.now = clk.now.Add(-time.Second) // the clock steps back
			must(srcSvc.Replace(ctx, "", "STEP1", map[string]any{"FirstName": "Anna"}, profile.ReplaceOptions{}))
			must(srcSvc.Replace(ctx, "acme", "A1", map[string]any{"FirstName": "Acme Inc"}, profile.ReplaceOptions{}))
			must(srcSvc.Create(ctx, "", map[string]any{"customer_id": "OTHER", "FirstName": "Bob"}, profile.CreateOptions{}))
			srcExport, err := srcSvc.Export(ctx, "", "STEP1", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(srcExport.Audit) != 3 {
				t.Fatalf("export of STEP1 on the source lists %d entries, want 3 (create, replace, export)", len(srcExport.Audit))
			}
			tenants := []string{"", "acme"}
			srcPages := map[string][]*profile.AuditPage{}
			for _, tenant := range tenants {
				srcPages[tenant] = pages(t, srcSvc, tenant)
			}

			dst := engines[c.to](t)
			if _, err := transfer.Copy(context.Background(), src, dst, nil); err != nil {
				t.Fatal(err)
			}
			// Not started (a start may write an entry): the copy as it came.
			registry, err := profile.LoadRegistry(context.Background(), dst, config.SchemaSource(cfg.File))
			if err != nil {
				t.Fatal(err)
			}
			dstSvc := profile.NewService(dst, registry)
			// The copy's new entries are its newest (the source's start
			// stamped its entry with the real time).
			for _, tenant := range tenants {
				clk.now = later(clk.now, srcPages[tenant][0].Entries[0].At)
			}
			dstSvc.Now = clk.tick
			for _, tenant := range tenants {
				if got := pages(t, dstSvc, tenant); !reflect.DeepEqual(got, srcPages[tenant]) {
					t.Errorf("tenant %q: the copy's trail, two entries a page:\n%s\nwant the source's:\n%s", tenant, show(got), show(srcPages[tenant]))
				}
				// A cursor the source gave continues on the copy.
				for i, page := range srcPages[tenant][1:] {
					got, err := dstSvc.Audit(context.Background(), tenant, profile.AuditQuery{Limit: 2, Before: srcPages[tenant][i].Next})
					if err != nil || !reflect.DeepEqual(got, page) {
						t.Errorf("tenant %q: the page after the source's cursor %q on the copy = %s, %v; want %s",
							tenant, srcPages[tenant][i].Next, show([]*profile.AuditPage{got}), err, show([]*profile.AuditPage{page}))
					}
				}
			}

			// The customer's export on the copy lists its own entries (the
			// source's export among them) and the export just made.
			x, err := dstSvc.Export(ctx, "", "STEP1", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(x.Audit) != len(srcExport.Audit)+1 || !reflect.DeepEqual(x.Audit[1:], srcExport.Audit) || x.Audit[0].Op != profile.OpExport {
				t.Fatalf("export of STEP1 on the copy lists:\n%s\nwant the new export entry, then:\n%s", showEntries(x.Audit), showEntries(srcExport.Audit))
			}
			if copied := maxSeq(srcPages[""]); x.Audit[0].Seq <= copied {
				t.Errorf("the copy's first new entry in the default tenant has sequence number %d, want one after the copied %d", x.Audit[0].Seq, copied)
			}
			must(dstSvc.Replace(ctx, "acme", "A1", map[string]any{"FirstName": "Acme Ltd"}, profile.ReplaceOptions{}))
			page, err := dstSvc.Audit(context.Background(), "acme", profile.AuditQuery{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if copied := maxSeq(srcPages["acme"]); page.Entries[0].Op != profile.OpReplace || page.Entries[0].Seq <= copied {
				t.Errorf("the copy's first new entry in tenant acme: %s, want a replace numbered after the copied %d", showEntries(page.Entries), copied)
			}
		})
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func show(pages []*profile.AuditPage) string {
	var s string
	for _, p := range pages {
		s += showEntries(p.Entries) + " next " + p.Next + "\n"
	}
	return s
}

func showEntries(entries []profile.AuditEntry) string {
	var s string
	for _, e := range entries {
		s += fmt.Sprintf("%s #%d %s; ", e.At.Format("15:04:05.000"), e.Seq, e.Op)
	}
	return s
}
