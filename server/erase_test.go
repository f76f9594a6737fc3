package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestErase: POST /profiles/{id}/erase removes the customer with its
// records and index entries; later reads answer 404 PROFILE_ERASED (both
// APIs), identify by the old e-mail answers [], the customer_id cannot be
// created again, and what stays (a tombstone) names no personal data.
func TestErase(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	ts.mustCreate(`{"customer_id":"ERASE01","FirstName":"Zed","LastName":"Erasable","EmailAddress":["zed@erase.example"],"Phone":[{"PhoneNumber":"5550666"}]}`)
	keep := ts.mustCreate(`{"FirstName":"Kept","EmailAddress":["kept@x.dom"]}`)
	res := ts.do("POST", "/profiles/ERASE01/erase", nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"erased_at"`) || strings.Contains(string(res.Body), "Zed") {
		t.Fatalf("erase: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("GET", "/profiles/ERASE01", nil), http.StatusNotFound, "PROFILE_ERASED")
	wantError(t, ts.do("PUT", "/profiles/ERASE01", `{"FirstName":"Again"}`), http.StatusNotFound, "PROFILE_ERASED")
	wantError(t, ts.do("POST", "/profiles/ERASE01/erase", nil), http.StatusNotFound, "PROFILE_ERASED")
	for _, q := range []string{"EmailAddress=zed@erase.example", "Phone.PhoneNumber=5550666", "LastName=Erasable&FirstName=Zed"} {
		if res := ts.do("GET", "/profiles?"+q, nil); string(res.Body) != "[]" {
			t.Errorf("identify %s after the erase: %s", q, res.Body)
		}
	}
	wantError(t, ts.do("POST", "/profiles", `{"customer_id":"ERASE01","FirstName":"Back"}`), http.StatusConflict, "PROFILE_ERASED")
	session := egLogin(t, ts)
	if res := ts.do("GET", "/ws/v12/interaction/customer?email=zed@erase.example", nil, egSession, session); res.Status != http.StatusNoContent {
		t.Errorf("eGain search after the erase: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("GET", "/profiles/ERASE01/export", nil), http.StatusNotFound, "PROFILE_ERASED")
	if res := ts.do("GET", "/profiles/"+keep, nil); res.Status != http.StatusOK {
		t.Errorf("another customer after the erase: %d", res.Status)
	}
	// The eGain path erases by the numeric id.
	res = ts.do("POST", "/ws/v12/interaction/customer", egIndividual("Ed", "Gain", "ed@erase.example", ""), "Content-Type", "application/json", egSession, session)
	num := res.Header.Get("Location")[strings.LastIndexByte(res.Header.Get("Location"), '/')+1:]
	if res := ts.do("POST", "/admin/egain/customer/"+num+"/erase", nil); res.Status != http.StatusOK {
		t.Fatalf("eGain erase: %d %s", res.Status, res.Body)
	}
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, egSession, session, "Accept", "application/json"), http.StatusNotFound, "404-101", "application/json")
	if n := ts.profileCount(); n != 1 {
		t.Errorf("%d profiles, want 1", n)
	}
}
