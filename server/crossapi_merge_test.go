package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCrossAPI_MergeIntoGenesysCustomerKeepsPersonsApart: a Genesys merge
// of an eGain customer (source) into a customer the Genesys API wrote
// (destination, no contact person records: its person 1 is made from the
// core attributes) must keep the source's contact person a person of its
// own. Merged as numbered, the source's person 1 became the destination's
// person 1, so the destination's name showed with the source person's
// salutation, login id, passport and secret answer.
func TestCrossAPI_MergeIntoGenesysCustomerKeepsPersonsApart(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	dest := ts.mustCreate(exampleProfile(t)) // Bruce Banner
	egCreate(t, ts, session, string(mustRead(t, "../testdata/examples/egain-create-full.json")), "")
	var found []struct {
		CustomerID string `json:"customer_id"`
	}
	ts.do("GET", "/profiles?EmailAddress=john.russel@customer.com", nil).JSON(t, &found)
	if len(found) != 1 {
		t.Fatalf("identify the eGain customer: %+v", found)
	}
	if res := ts.do("PUT", "/profiles/"+dest+"/merge/"+found[0].CustomerID, `{}`); res.Status != http.StatusNoContent {
		t.Fatalf("merge: %d %s", res.Status, res.Body)
	}
	ts.do("GET", "/profiles?EmailAddress=bruce.banner@marvelous.com", nil).JSON(t, &found)
	if len(found) != 1 || found[0].CustomerID != dest {
		t.Fatalf("identify the merged customer: %+v", found)
	}
	var got struct {
		Customer []struct {
			ContactPersons struct {
				ContactPerson []struct {
					ID, Salutation, FirstName, LastName, LoginID string
					Identification                               struct{ Type, Value string }
					ContactPoints                                struct {
						ContactPoint []struct {
							Type map[string]any
						}
					}
				}
			}
		}
	}
	res := ts.do("GET", "/ws/v12/interaction/customer?email=bruce.banner@marvelous.com&$attribute=all", nil, egSession, session, "Accept", "application/json")
	if res.Status != http.StatusOK {
		t.Fatalf("eGain search: %d %s", res.Status, res.Body)
	}
	res.JSON(t, &got)
	persons := got.Customer[0].ContactPersons.ContactPerson
	bruce := persons[0]
	if bruce.FirstName != "Bruce" || bruce.LastName != "Banner" {
		t.Fatalf("person 1 = %+v, want Bruce Banner", bruce)
	}
	if bruce.Salutation != "" || bruce.LoginID != "" || bruce.Identification.Value != "" {
		t.Errorf("Bruce Banner shows the merged-in person's salutation %q, login id %q, identification %q",
			bruce.Salutation, bruce.LoginID, bruce.Identification.Value)
	}
	var john bool
	for _, p := range persons[1:] {
		if p.FirstName == "John" && p.LastName == "Tierney" && p.LoginID == "john" && p.Identification.Value == "AE0000005" {
			john = true
			if !strings.Contains(fmt.Sprint(p.ContactPoints), "Mountain View") {
				t.Errorf("John Tierney's postal point is not his: %+v", p.ContactPoints)
			}
		}
	}
	if !john {
		t.Errorf("the merged customer has no contact person John Tierney of his own:\n%s", res.Body)
	}
	edit := ts.do("PUT", "/ws/v12/interaction/customer", `{"id":"1","marketSegment":"Retail"}`, "Content-Type", "application/json", egSession, session)
	if edit.Status != http.StatusNoContent {
		t.Errorf("eGain edit of the merged customer: %d %s", edit.Status, edit.Body)
	}
}
