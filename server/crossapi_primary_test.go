package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// TestCrossAPI_EGainEditKeepsGenesysPrimaryEmail: the first EmailAddress
// value is the primary one (Genesys spec §2.1). A Genesys client that makes
// another address primary must not see an eGain edit of something else
// (marketSegment) or of another address put the old primary back first: the
// edit wrote the addresses in contact point order.
func TestCrossAPI_EGainEditKeepsGenesysPrimaryEmail(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Pat","lastName":"Prime","contactPoints":{"contactPoint":[`+
		`{"type":{"value":"email","email":{"emailAddress":"first@prime.dom"}}},`+
		`{"type":{"value":"email","email":{"emailAddress":"second@prime.dom"}}},`+
		`{"type":{"value":"email","email":{"emailAddress":"third@prime.dom"}}}]}}]}}`, "")
	var found []struct {
		CustomerID string `json:"customer_id"`
	}
	ts.do("GET", "/profiles?EmailAddress=first@prime.dom", nil).JSON(t, &found)
	if len(found) != 1 {
		t.Fatalf("identify: %+v", found)
	}
	id := found[0].CustomerID
	emails := func() []string {
		t.Helper()
		var p struct{ EmailAddress []string }
		ts.do("GET", "/profiles/"+id, nil).JSON(t, &p)
		return p.EmailAddress
	}
	// The Genesys client makes third@ primary: read, modify, PUT.
	var p map[string]any
	res := ts.do("GET", "/profiles/"+id, nil)
	if err := json.Unmarshal(res.Body, &p); err != nil {
		t.Fatal(err)
	}
	p["EmailAddress"] = []string{"third@prime.dom", "first@prime.dom", "second@prime.dom"}
	body, _ := json.Marshal(p)
	if res := ts.do("PUT", "/profiles/"+id, string(body), "If-Match", res.Header.Get("ETag")); res.Status != http.StatusOK {
		t.Fatalf("Genesys PUT: %d %s", res.Status, res.Body)
	}
	want := []string{"third@prime.dom", "first@prime.dom", "second@prime.dom"}
	edit := func(body string) {
		t.Helper()
		res := ts.do("PUT", "/ws/v12/interaction/customer", body, "Content-Type", "application/json", egSession, session)
		if res.Status != http.StatusNoContent {
			t.Fatalf("eGain edit %s: %d %s", body, res.Status, res.Body)
		}
	}
	edit(`{"id":"` + num + `","marketSegment":"Retail"}`)
	if got := emails(); !slices.Equal(got, want) {
		t.Errorf("after an eGain edit of marketSegment EmailAddress = %q, want %q (the primary address the Genesys client chose first)", got, want)
	}
	// An eGain client changes the primary address: the new one is primary.
	edit(`{"id":"` + num + `","contactPersons":{"contactPerson":[{"id":"` + num + `000001","contactPoints":{"contactPoint":[{"id":"` + num + `000004","type":{"email":{"emailAddress":"new-third@prime.dom"}}}]}}]}}`)
	want[0] = "new-third@prime.dom"
	if got := emails(); !slices.Equal(got, want) {
		t.Errorf("after an eGain edit of the primary address EmailAddress = %q, want %q", got, want)
	}
}
