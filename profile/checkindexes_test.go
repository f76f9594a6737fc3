package profile_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// TestCheckIndexes: a key made unique over values two customers of one
// tenant hold is a problem naming the tenant and the customer; the same
// values in two tenants are not; the check writes nothing (no commit, so
// on bbolt no write waits for it); a cancelled check stops.
func TestCheckIndexes(t *testing.T) {
	ctx := context.Background()
	s, _, db := newServiceAndStore(t)
	if err := s.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	twin := map[string]any{"FirstName": "Twin", "LastName": "Same"}
	for _, tenant := range []string{"", "acme", "acme", "zed"} {
		if _, err := s.Create(ctx, tenant, twin, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	unique := candidate(t, db, "    - {name: name,         attributes: [LastName, FirstName]}", "    - {name: name,         attributes: [LastName, FirstName], unique: true}")
	commits := db.Stats().Commits
	problems, err := s.CheckIndexes(ctx, unique, "candidate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Message, `tenant "acme"`) || !strings.Contains(problems[0].Message, "customer ") || problems[0].Name != "name" {
		t.Errorf("problems = %#v, want one of key name naming tenant acme and a customer", problems)
	}
	if got := db.Stats().Commits; got != commits {
		t.Errorf("the check committed %d writes", got-commits)
	}

	// Unique values held once per tenant pass, and a changed key that is
	// not unique is only read.
	firstOnly := candidate(t, db, "  identification_keys:\n", "  identification_keys:\n    - {name: first_only,   attributes: [FirstName]}\n")
	if problems, err := s.CheckIndexes(ctx, firstOnly, "candidate.yaml"); err != nil || len(problems) != 0 {
		t.Errorf("a new key that is not unique: %v, %v", problems, err)
	}
	// Cancelled while it walks the data (check-config stopped waiting): it
	// stops there, not only before it starts.
	for i := range 40 {
		if _, err := s.Create(ctx, "", map[string]any{"FirstName": fmt.Sprint("Many", i)}, profile.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	walking := &cancelledAfter{Context: ctx, calls: 10}
	if _, err := s.CheckIndexes(walking, unique, "candidate.yaml"); !errors.Is(err, context.Canceled) {
		t.Errorf("a check cancelled while it walks = %v, want context.Canceled", err)
	}
}

// cancelledAfter is a context whose Err says Canceled from its calls-th
// call on: cancelled in the middle of whatever asks it.
type cancelledAfter struct {
	context.Context
	calls int32
	asked atomic.Int32
}

func (c *cancelledAfter) Err() error {
	if c.asked.Add(1) >= c.calls {
		return context.Canceled
	}
	return nil
}

// candidate compiles the shipped config with old replaced by new, as
// check-config would compile the file it is given, over the store db.
func candidate(t *testing.T, db profile.Store, old, new string) *schema.Compiled {
	t.Helper()
	return registryOver(t, db, configWith(t, old, new)).Current()
}

// TestCheckIndexes_NamesBothCustomers: the problem names both customers
// whose values the unique key takes for one (the operator edits or merges
// them before the start; after an upgrade to case folding, STRASSE and
// straße are such values and no identify finds the second by the first's).
func TestCheckIndexes_NamesBothCustomers(t *testing.T) {
	ctx := context.Background()
	s, _, db := newServiceAndStore(t)
	if err := s.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := s.Create(ctx, "", map[string]any{"FirstName": "Jörg", "LastName": "STRASSE"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, "", map[string]any{"FirstName": "jörg", "LastName": "straße"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unique := candidate(t, db, "    - {name: name,         attributes: [LastName, FirstName]}", "    - {name: name,         attributes: [LastName, FirstName], unique: true}")
	problems, err := s.CheckIndexes(ctx, unique, "candidate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Message, a.ID) || !strings.Contains(problems[0].Message, b.ID) {
		t.Errorf("problems = %v, want one naming %s and %s", problems, a.ID, b.ID)
	}
	if strings.Contains(problems[0].Message, "strasse") {
		t.Errorf("the problem names the values: %v", problems)
	}
}
