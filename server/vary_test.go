package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestCustomerReads_SayWhatTheyVaryOn: a read of one customer answers the
// same URL differently by request headers: the eGain facade by Accept (XML
// or JSON) and both APIs by the tenant header (and, with credentials, by
// who asks). RFC 9110 §12.5.5: the answer must say so in Vary, 304 included
// (§15.4.5), and an answer carrying customer data must not be kept by a
// shared cache (Cache-Control: private or no-store). Without them a cache
// in front (Varnish stores a 200 without Cache-Control for 2 minutes; any
// cache revalidating an ETag "1" that another tenant's customer also
// carries) serves one tenant's customer to another, XML to a JSON client,
// and an eGain customer to a caller without a session.
func TestCustomerReads_SayWhatTheyVaryOn(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	ts := mustStart(t)
	ts.mustCreate(`{"customer_id":"VARY1","FirstName":"Default"}`)
	ts.mustCreate(`{"customer_id":"VARY1","FirstName":"Acme"}`, "X-Genesys-TenantId", "acme")
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, egIndividual("Vera", "Vary", "vera@vary.dom", ""), "")

	wantVary := func(t *testing.T, res response, headers ...string) {
		t.Helper()
		vary := strings.ToLower(strings.Join(res.Header.Values("Vary"), ","))
		for _, h := range headers {
			if !strings.Contains(vary, strings.ToLower(h)) {
				t.Errorf("status %d: Vary %q does not name %s", res.Status, vary, h)
			}
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "private") && !strings.Contains(cc, "no-store") {
			t.Errorf("status %d: Cache-Control %q lets a shared cache keep customer data", res.Status, cc)
		}
	}
	t.Run("GenesysRead", func(t *testing.T) {
		res := ts.do("GET", "/profiles/VARY1", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("read: %d %s", res.Status, res.Body)
		}
		wantVary(t, res, "X-Genesys-TenantId")
	})
	t.Run("GenesysNotModified", func(t *testing.T) {
		tag := ts.do("GET", "/profiles/VARY1", nil).Header.Get("ETag")
		res := ts.do("GET", "/profiles/VARY1", nil, "If-None-Match", tag)
		if res.Status != http.StatusNotModified {
			t.Fatalf("revalidation: %d %s", res.Status, res.Body)
		}
		wantVary(t, res, "X-Genesys-TenantId")
	})
	t.Run("EGainGet", func(t *testing.T) {
		res := ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, egSession, session, "Accept", "application/json")
		if res.Status != http.StatusOK {
			t.Fatalf("get: %d %s", res.Status, res.Body)
		}
		wantVary(t, res, "Accept", "X-Genesys-TenantId")
	})
	t.Run("Export", func(t *testing.T) {
		res := ts.do("GET", "/profiles/VARY1/export", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("export: %d %s", res.Status, res.Body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("the export of everything held about a person: Cache-Control %q, want no-store", cc)
		}
	})
}
