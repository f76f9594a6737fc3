package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestUnchangedWrites_KeepTheRevision: a write that leaves a customer as
// stored (a sync tool's periodic PUT of the same body, records inserted
// again, an eGain edit sending back a value as read) keeps the ETag and
// leaves no audit entry; a real change still moves both. Runs on both
// stores.
func TestUnchangedWrites_KeepTheRevision(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	example := exampleProfile(t)
	id := ts.mustCreate(example)
	etagOf := func() string {
		t.Helper()
		res := ts.do("GET", "/profiles/"+id, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("GET: %d %s", res.Status, res.Body)
		}
		return res.Header.Get("ETag")
	}
	etag := etagOf()
	audited := len(ts.audit(t, "customer_id="+id).Entries)

	var stored struct{ Phone []map[string]any }
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &stored)
	if len(stored.Phone) == 0 {
		t.Fatal("the example body stored no Phone records")
	}
	phones, _ := json.Marshal(map[string]any{"Phone": stored.Phone})
	for _, w := range []struct{ name, method, path, body string }{
		{"PUT of the body it was created with", "PUT", "/profiles/" + id, example},
		{"the same PUT again", "PUT", "/profiles/" + id, example},
		{"the stored Phone records inserted again", "POST", "/profiles/" + id + "/extensions", string(phones)},
	} {
		res := ts.do(w.method, w.path, w.body, "If-Match", etag)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", w.name, res.Status, res.Body)
		}
		if got := res.Header.Get("ETag"); got != etag {
			t.Errorf("%s answered ETag %s, want %s: nothing changed", w.name, got, etag)
		}
		if got := etagOf(); got != etag {
			t.Errorf("after %s the ETag is %s, want %s", w.name, got, etag)
		}
	}

	// An eGain customer edited with a value it has.
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, egIndividual("Una", "Changed", "una@unchanged.example", ""), "")
	var found []struct {
		CustomerID string `json:"customer_id"`
	}
	ts.do("GET", "/profiles?EmailAddress=una@unchanged.example", nil).JSON(t, &found)
	if len(found) != 1 {
		t.Fatalf("identify the eGain customer: %+v", found)
	}
	egID := found[0].CustomerID
	res := ts.do("GET", "/profiles/"+egID, nil)
	egEtag := res.Header.Get("ETag")
	egAudited := len(ts.audit(t, "customer_id="+egID).Entries)
	var eg struct {
		Customer []struct {
			ContactPersons struct {
				ContactPerson []struct{ ID string }
			}
		}
	}
	ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, "Accept", "application/json", egSession, session).JSON(t, &eg)
	if len(eg.Customer) != 1 || len(eg.Customer[0].ContactPersons.ContactPerson) != 1 {
		t.Fatalf("eGain get: %+v", eg)
	}
	person := eg.Customer[0].ContactPersons.ContactPerson[0].ID
	if res := ts.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person+`","firstName":"Una"}]}}`,
		"Content-Type", "application/json", egSession, session); res.Status != http.StatusNoContent {
		t.Fatalf("eGain edit: %d %s", res.Status, res.Body)
	}
	if got := ts.do("GET", "/profiles/"+egID, nil).Header.Get("ETag"); got != egEtag {
		t.Errorf("an eGain edit to the stored first name moved the ETag from %s to %s", egEtag, got)
	}

	if n := len(ts.audit(t, "customer_id="+id).Entries) + len(ts.audit(t, "customer_id="+egID).Entries); n != audited+egAudited {
		t.Errorf("the unchanged writes left %d audit entries, want none", n-audited-egAudited)
	}
	changed := strings.Replace(example, `"Bruce"`, `"Brucey"`, 1)
	if changed == example {
		t.Fatal(`the example body has no "Bruce" to change`)
	}
	res = ts.do("PUT", "/profiles/"+id, changed, "If-Match", etag)
	if res.Status != http.StatusOK || res.Header.Get("ETag") == etag {
		t.Fatalf("a real change: %d, ETag %s (was %s) %s", res.Status, res.Header.Get("ETag"), etag, res.Body)
	}
	if n := len(ts.audit(t, "customer_id="+id).Entries); n != audited+1 {
		t.Errorf("a real change left %d audit entries, want 1", n-audited)
	}
}

// TestUnchangedWrites_KeepTheRevisionWithADouble: a customer holding a
// double or currency value (a balance, a score) is left as stored by a PUT
// of the body it was created with as much as any other: docs/api.md says
// such a write keeps the revision, whatever the attribute types.
func TestUnchangedWrites_KeepTheRevisionWithADouble(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	title := "    - {name: Title,        type: string, length: 64}\n"
	withMoney := strings.Replace(base, title, title+"    - {name: Score, type: double}\n    - {name: Balance, type: currency}\n", 1)
	if withMoney == base {
		t.Fatal("the config has no Title to add attributes after")
	}
	reload(withMoney)
	for _, body := range []string{`{"LastName":"Dbl","Score":1.5}`, `{"LastName":"Cur","Balance":"12.34"}`} {
		id := ts.mustCreate(body)
		etag := ts.do("GET", "/profiles/"+id, nil).Header.Get("ETag")
		res := ts.do("PUT", "/profiles/"+id, body)
		if res.Status != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", body, res.Status, res.Body)
		}
		if got := res.Header.Get("ETag"); got != etag {
			t.Errorf("PUT of the body %s it was created with moved the ETag from %s to %s", body, etag, got)
		}
	}
}
