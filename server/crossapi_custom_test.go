package server_test

import (
	"net/http"
	"testing"
)

// TestCrossAPI_CustomAttributeNamesIgnoreCase: a Genesys client writes the
// custom attribute loyaltyId as LOYALTYID. eGain search custom.loyaltyId
// finds it, as the custom key and the record's unique key ignore the case
// of names; an eGain edit of loyaltyId must then replace that value, not
// add a second attribute beside it (which left the old value found by
// search, and was refused with the profile's words when the new value
// differed only in case).
func TestCrossAPI_CustomAttributeNamesIgnoreCase(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	id := ts.mustCreate(`{"FirstName":"Zoe","EmailAddress":["zoe@case.dom"],"CustomAttribute":[{"name":"LOYALTYID","value":"Gold"}]}`)
	search := func(query string) int {
		t.Helper()
		return ts.do("GET", "/ws/v12/interaction/customer?"+query, nil, egSession, session, "Accept", "application/json").Status
	}
	if got := search("custom.loyaltyId=Gold"); got != http.StatusOK {
		t.Fatalf("search custom.loyaltyId=Gold: %d", got)
	}
	edit := func(value string) response {
		return ts.do("PUT", "/ws/v12/interaction/customer", `{"id":"1","customAttributes":{"customAttribute":[{"attribName":"loyaltyId","attribValues":{"attribValue":[{"value":"`+value+`"}]}}]}}`,
			"Content-Type", "application/json", egSession, session)
	}
	if res := edit("gold"); res.Status != http.StatusNoContent {
		t.Errorf("edit loyaltyId to gold: %d %s", res.Status, res.Body)
	}
	if res := edit("Silver"); res.Status != http.StatusNoContent {
		t.Fatalf("edit loyaltyId to Silver: %d %s", res.Status, res.Body)
	}
	var got struct {
		CustomAttribute []struct{ Name, Value string }
	}
	ts.do("GET", "/profiles/"+id+"?extensions=CustomAttribute", nil).JSON(t, &got)
	if len(got.CustomAttribute) != 1 || got.CustomAttribute[0].Value != "Silver" {
		t.Errorf("after the eGain edit of loyaltyId the records are %+v, want the one value Silver", got.CustomAttribute)
	}
	if got := search("custom.loyaltyId=Gold"); got != http.StatusNoContent {
		t.Errorf("search custom.loyaltyId=Gold after the edit to Silver: %d, want 204", got)
	}
	res := ts.do("GET", "/ws/v12/interaction/customer/1?$attribute=all", nil, egSession, session, "Accept", "application/json")
	var c struct {
		Customer []struct {
			CustomAttributes struct{ CustomAttribute []struct{ AttribName string } }
		}
	}
	res.JSON(t, &c)
	if n := len(c.Customer[0].CustomAttributes.CustomAttribute); n != 1 {
		t.Errorf("the customer shows %d custom attributes, want 1: %s", n, res.Body)
	}
}
