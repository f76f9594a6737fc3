package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestExport: GET /profiles/{id}/export returns, as one JSON attachment,
// every field written through both APIs — core attributes, every
// extension's records, the eGain view, the identification entries — and
// the eGain path reaches the same customer by its numeric id.
func TestExport(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	res := ts.do("POST", "/ws/v12/interaction/customer", string(mustRead(t, "../testdata/examples/egain-create-full.json")),
		"Content-Type", "application/json", egSession, session)
	if res.Status != http.StatusCreated {
		t.Fatalf("eGain create: %d %s", res.Status, res.Body)
	}
	var found []struct {
		CustomerID string `json:"customer_id"`
	}
	ts.do("GET", "/profiles?EmailAddress=john.russel@customer.com", nil).JSON(t, &found)
	id := found[0].CustomerID
	if res := ts.do("POST", "/profiles/"+id+"/extensions", `{"Activity":[{"ActivityId":"act-9","type":"email","subject":"Refund"}]}`); res.Status >= 300 {
		t.Fatalf("Genesys insert: %d %s", res.Status, res.Body)
	}
	res = ts.do("GET", "/profiles/"+id+"/export", nil)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", res.Status, res.Header)
	}
	body := string(res.Body)
	for _, want := range []string{
		`"customer_id":"` + id + `"`, `"egain_id":"1"`, `"FirstName":"John"`, `"john.russel@customer.com"`,
		`"Activity":[`, `"subject":"Refund"`, // written through Genesys
		`"ContactPoint":[`, `"city":"Mountain View"`, `"ContactPerson":[`, `"spouseName":"Jenifer"`, // through eGain, as records
		`"egain":{`, `"prioritysequence"`, `"identification":[`, `"key":"email"`, `"created":`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("export lacks %s:\n%s", want, body)
		}
	}
	if res := ts.do("GET", "/admin/egain/customer/1/export", nil); res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"customer_id":"`+id+`"`) {
		t.Errorf("eGain path: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("GET", "/profiles/NOSUCH0001/export", nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
	wantError(t, ts.do("GET", "/profiles/"+id+"/export", nil, "X-Genesys-TenantId", "other"), http.StatusNotFound, "PROFILE_NOT_FOUND")
}

// TestExport_OnlyThisCustomersEntries: a customer_id deleted and created
// again belongs to someone else; the new customer's export lists none of
// the entries about the customer deleted before it.
func TestExport_OnlyThisCustomersEntries(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	ts.mustCreate(`{"customer_id":"REUSED1","FirstName":"First","Activity":[{"ActivityId":"a1","type":"complaint"}]}`)
	if res := ts.do("DELETE", "/profiles/REUSED1", nil); res.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	ts.mustCreate(`{"customer_id":"REUSED1","FirstName":"Second"}`)
	var doc struct {
		Audit []struct {
			Op string `json:"op"`
		} `json:"audit"`
	}
	res := ts.do("GET", "/profiles/REUSED1/export", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("export: %d %s", res.Status, res.Body)
	}
	res.JSON(t, &doc)
	var ops []string
	for _, e := range doc.Audit {
		ops = append(ops, e.Op)
	}
	if len(ops) != 2 || ops[0] != "export" || ops[1] != "create" {
		t.Errorf("export lists %v, want [export create] (the new customer's own)", ops)
	}
}
