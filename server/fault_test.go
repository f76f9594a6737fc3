package server_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/contactcenter/profiled/store"
)

// errDiskFault is what the injected commit fault returns; its text must never
// reach a client.
var errDiskFault = errors.New("write /var/lib/profiled/profiles.db: input/output error")

func (ts *testServer) injectCommitFault(f func() error) {
	ts.tb.Helper()
	if err := ts.App.Store.(*store.DB).InjectCommitFault(f); err != nil {
		ts.tb.Fatal(err)
	}
}

// wantNoLeak fails when an error body shows the injected fault's text.
func wantNoLeak(tb testing.TB, res response) {
	tb.Helper()
	if strings.Contains(string(res.Body), "input/output") || strings.Contains(string(res.Body), "profiles.db") {
		tb.Errorf("error body leaks the internal fault: %s", res.Body)
	}
}

// TestStoreFault makes every commit fail: each write of both APIs answers
// 503 with its API's error body, reads keep answering 200, nothing of the
// refused writes is stored, and writes succeed again once the fault clears.
func TestStoreFault(t *testing.T) {
	t.Parallel()
	boltOnly(t, "injects bbolt commit faults; TestPostgresFault stops a real database")
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	other := ts.mustCreate(`{"FirstName":"Other","EmailAddress":["other@x.dom"]}`)
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, egIndividual("Ann", "Fault", "ann@fault.dom", "5551234"), "")
	numPath := "/ws/v12/interaction/customer/" + num

	genesysReads := []string{
		"/profiles/" + id + "?extensions=Phone",
		"/profiles?EmailAddress=b.banner@hulk.dom&include_profile=yes",
		"/metadata/profiles",
		"/metadata/profiles/extensions",
		"/metadata/identification-keys",
	}
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, p := range genesysReads {
			res := ts.do("GET", p, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", p, res.Status, res.Body)
			}
			out[p] = string(res.Body)
		}
		res := ts.do("GET", numPath+"?$attribute=all", nil, egSession, session, "Accept", "application/json")
		if res.Status != http.StatusOK {
			t.Fatalf("eGain get: %d %s", res.Status, res.Body)
		}
		out[numPath] = string(res.Body)
		return out
	}
	before := snapshot()
	count := ts.profileCount()

	genesysWrites := []struct{ name, method, path, body string }{
		{"Create", "POST", "/profiles", `{"FirstName":"Lost","EmailAddress":["lost@x.dom"]}`},
		{"Replace", "PUT", "/profiles/" + id, `{"FirstName":"Lost","EmailAddress":["lost@x.dom"]}`},
		{"Delete", "DELETE", "/profiles/" + id, ""},
		{"InsertRecords", "POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"4040404"}]}`},
		{"UpdateRecord", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","description":"lost"}`},
		{"DeleteRecord", "PUT", "/profiles/" + id + "/extensions/Phone/delete/by/unique", `{"PhoneNumber":"6543210"}`},
		{"Merge", "PUT", "/profiles/" + id + "/merge/" + other, `{}`},
		{"CreateExtension", "POST", "/metadata/profiles/extensions", `{"name":"Lost","type":"multi-valued","attributes":[{"name":"X","type":"string"}]}`},
		{"CreateKey", "POST", "/metadata/identification-keys", `{"name":"title","attributes":["Title"]}`},
	}
	egainWrites := []struct {
		name, method, path, body string
		format                   string // response format asked for
	}{
		{"CreateJSON", "POST", "/ws/v12/interaction/customer", egIndividual("Lost", "Json", "lost.json@x.dom", ""), "application/json"},
		{"CreateXML", "POST", "/ws/v12/interaction/customer", string(mustRead(t, "../testdata/examples/egain-create-minimal.xml")), "application/xml"},
		{"Edit", "PUT", "/ws/v12/interaction/customer", `{"id":"` + num + `","level":{"value":"Gold"}}`, "application/json"},
		{"EditSystemPrefix", "PUT", "/system/ws/v12/interaction/customer", `{"id":"` + num + `","level":{"value":"Gold"}}`, "application/xml"},
	}

	ts.injectCommitFault(func() error { return errDiskFault })
	t.Run("Fault", func(t *testing.T) {
		for _, w := range genesysWrites {
			t.Run("Genesys"+w.name, func(t *testing.T) {
				var body any
				if w.body != "" {
					body = w.body
				}
				res := ts.do(w.method, w.path, body)
				wantError(t, res, http.StatusServiceUnavailable, "STORE_UNAVAILABLE")
				wantNoLeak(t, res)
			})
		}
		for _, w := range egainWrites {
			t.Run("EGain"+w.name, func(t *testing.T) {
				ct := "application/json"
				if strings.HasPrefix(w.body, "<") {
					ct = "application/xml"
				}
				res := ts.do(w.method, w.path, w.body, "Content-Type", ct, "Accept", w.format, egSession, session)
				wantWSError(t, res, http.StatusServiceUnavailable, "503-101", w.format)
				wantNoLeak(t, res)
			})
		}
		t.Run("EGainLogin", func(t *testing.T) {
			// A login stores its session, so it is a write too.
			res := ts.do("POST", "/ws/v12/authentication/user/login", `{"userName":"demo","password":"demo"}`, "Accept", "application/json")
			wantWSError(t, res, http.StatusServiceUnavailable, "503-101", "application/json")
		})
		t.Run("ReadsKeepWorking", func(t *testing.T) {
			if got := snapshot(); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Errorf("reads during the fault differ:\nbefore %v\nduring %v", before, got)
			}
			res := ts.do("GET", "/ws/v12/interaction/customer?email=ann@fault.dom", nil, egSession, session, "Accept", "application/json")
			if res.Status != http.StatusOK {
				t.Errorf("eGain search during the fault: %d %s", res.Status, res.Body)
			}
			for _, p := range []string{"/livez", "/readyz", "/metrics"} {
				if res := ts.do("GET", p, nil); res.Status != http.StatusOK {
					t.Errorf("GET %s during the fault: %d %s", p, res.Status, res.Body)
				}
			}
		})
	})
	ts.injectCommitFault(nil)

	t.Run("NothingOfTheFailedWritesStored", func(t *testing.T) {
		if got := snapshot(); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Errorf("state changed by refused writes:\nbefore %v\nafter  %v", before, got)
		}
		if n := ts.profileCount(); n != count {
			t.Errorf("profiles = %d, want %d", n, count)
		}
		for _, q := range []string{"EmailAddress=lost@x.dom", "Phone.PhoneNumber=4040404", "LastName=Json&FirstName=Lost"} {
			var found []map[string]any
			ts.do("GET", "/profiles?"+q, nil).JSON(t, &found)
			if len(found) != 0 {
				t.Errorf("%s finds %v, written by a refused request", q, found)
			}
		}
		wantError(t, ts.do("GET", "/metadata/profiles/extensions/Lost", nil), http.StatusNotFound, "EXTENSION_NOT_FOUND")
		wantError(t, ts.do("GET", "/metadata/identification-keys/title", nil), http.StatusNotFound, "IDENTIFICATION_KEY_NOT_FOUND")
	})

	t.Run("WritesRecover", func(t *testing.T) {
		for _, w := range genesysWrites {
			var body any
			if w.body != "" {
				body = w.body
			}
			if w.name == "Delete" || w.name == "Merge" {
				continue // run last: they remove the profiles the others use
			}
			if res := ts.do(w.method, w.path, body); res.Status/100 != 2 {
				t.Errorf("%s after the fault: %d %s", w.name, res.Status, res.Body)
			}
		}
		for _, w := range egainWrites {
			ct := "application/json"
			if strings.HasPrefix(w.body, "<") {
				ct = "application/xml"
			}
			if res := ts.do(w.method, w.path, w.body, "Content-Type", ct, egSession, session); res.Status/100 != 2 {
				t.Errorf("eGain %s after the fault: %d %s", w.name, res.Status, res.Body)
			}
		}
		if res := ts.do("PUT", "/profiles/"+id+"/merge/"+other, `{}`); res.Status != http.StatusNoContent {
			t.Errorf("merge after the fault: %d %s", res.Status, res.Body)
		}
		if res := ts.do("DELETE", "/profiles/"+id, nil); res.Status != http.StatusOK {
			t.Errorf("delete after the fault: %d %s", res.Status, res.Body)
		}
		egLogin(t, ts)
	})
}

// TestStoreFault_UnderLoad switches the fault on and off while writers are
// running: every create answered 201 is stored with its index entries,
// every create answered 503 left nothing, and no answer is anything else.
func TestStoreFault_UnderLoad(t *testing.T) {
	t.Parallel()
	boltOnly(t, "injects bbolt commit faults; TestPostgresFault stops a real database")
	ts := mustStart(t)
	const writers, perWriter = 6, 40
	type outcome struct {
		email string
		id    string // "" when refused
	}
	results := make(chan outcome, writers*perWriter)
	var refused atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				email := fmt.Sprintf("load%d.%d@fault.dom", w, i)
				res := ts.do("POST", "/profiles", fmt.Sprintf(`{"FirstName":"L","EmailAddress":[%q]}`, email))
				switch res.Status {
				case http.StatusCreated:
					var out map[string]string
					res.JSON(t, &out)
					results <- outcome{email, out["customer_id"]}
				case http.StatusServiceUnavailable:
					wantError(t, res, http.StatusServiceUnavailable, "STORE_UNAVAILABLE")
					refused.Add(1)
					results <- outcome{email, ""}
				default:
					t.Errorf("create: %d %s", res.Status, res.Body)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for on := true; ; on = !on {
		select {
		case <-done:
		default:
			if on {
				ts.injectCommitFault(func() error { return errDiskFault })
			} else {
				ts.injectCommitFault(nil)
			}
			continue
		}
		break
	}
	ts.injectCommitFault(nil)
	close(results)
	stored := 0
	for r := range results {
		var found []map[string]any
		ts.do("GET", "/profiles?EmailAddress="+r.email, nil).JSON(t, &found)
		switch {
		case r.id == "" && len(found) != 0:
			t.Errorf("%s: refused with 503 but stored as %v", r.email, found)
		case r.id != "" && (len(found) != 1 || found[0]["customer_id"] != r.id):
			t.Errorf("%s: acknowledged as %s but identify finds %v", r.email, r.id, found)
		case r.id != "":
			stored++
			if res := ts.do("GET", "/profiles/"+r.id, nil); res.Status != http.StatusOK {
				t.Errorf("acknowledged %s: GET %d %s", r.id, res.Status, res.Body)
			}
		}
	}
	if n := ts.profileCount(); n != stored {
		t.Errorf("profiles = %d, want the %d acknowledged", n, stored)
	}
	t.Logf("%d creates acknowledged, %d refused with 503", stored, refused.Load())
}
