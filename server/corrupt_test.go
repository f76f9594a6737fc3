package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	bolt "go.etcd.io/bbolt"
)

// damage flips one bit in the middle of a stored value, as a failing disk
// or a stray write would, with the server stopped (bbolt) or running
// (PostgreSQL). table is "profiles" or "records" (the Phone record set).
func damage(t *testing.T, ts *testServer, table, id string) {
	t.Helper()
	if onPostgres() {
		conn, err := pgx.Connect(context.Background(), ts.storeURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		q := "UPDATE profiles SET doc = set_byte(doc, length(doc)/2, get_byte(doc, length(doc)/2) # 4) WHERE id = $1"
		if table == "records" {
			q = `UPDATE records SET doc = set_byte(doc, length(doc)/2, get_byte(doc, length(doc)/2) # 4)
				WHERE id = $1 AND ext = 'phone' AND seq = (SELECT min(seq) FROM records WHERE id = $1 AND ext = 'phone')`
		}
		if tag, err := conn.Exec(context.Background(), q, id); err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("damaging %s of %s: %v (%s)", table, id, err, tag)
		}
		return
	}
	ts.stop()
	db, err := bolt.Open(ts.data, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("tenants")).Bucket([]byte("t:"))
		key := []byte(id)
		if table == "records" { // the customer's first Phone record
			b = b.Bucket([]byte("recs")).Bucket([]byte("phone"))
			key, _ = b.Cursor().Seek(append([]byte{byte(len(id))}, id...))
		} else {
			b = b.Bucket([]byte("profiles"))
		}
		v := append([]byte(nil), b.Get(key)...)
		v[len(v)/2] ^= 4
		return b.Put(bytes.Clone(key), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	*ts = *ts.restart()
}

// TestDataCorrupt: a stored profile or record set whose bytes changed is
// not served: reads of it answer 500 DATA_CORRUPT naming the customer (in
// each API's format), the fault is counted in /metrics, and every other
// customer is served as before.
func TestDataCorrupt(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	bad := ts.mustCreate(exampleProfile(t))
	badRecords := ts.mustCreate(`{"FirstName":"Recs","Phone":[{"PhoneNumber":"5551212"}]}`)
	good := ts.mustCreate(`{"FirstName":"Fine","EmailAddress":["fine@x.dom"]}`)
	damage(t, ts, "profiles", bad)
	damage(t, ts, "records", badRecords)

	for _, tc := range []struct{ path, id string }{
		{"/profiles/" + bad, bad},
		{"/profiles/" + badRecords + "?extensions=Phone", badRecords},
		{"/profiles?EmailAddress=b.banner@hulk.dom&include_profile=yes", bad},
	} {
		res := ts.do("GET", tc.path, nil)
		wantError(t, res, http.StatusInternalServerError, "DATA_CORRUPT")
		if !strings.Contains(string(res.Body), tc.id) {
			t.Errorf("%s: the error does not name the customer: %s", tc.path, res.Body)
		}
	}
	if res := ts.do("PUT", "/profiles/"+bad, `{"FirstName":"Over"}`); res.Status != http.StatusInternalServerError {
		t.Errorf("a write over a damaged profile: %d %s, want 500 (nothing is written over data that cannot be read)", res.Status, res.Body)
	}
	session := egLogin(t, ts)
	res := ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "Accept", "application/json")
	wantWSError(t, res, http.StatusInternalServerError, "500-102", "application/json")
	if !strings.Contains(string(res.Body), bad) {
		t.Errorf("eGain error does not name the customer: %s", res.Body)
	}
	if res := ts.do("GET", "/profiles/"+good, nil); res.Status != http.StatusOK {
		t.Errorf("an intact profile: %d %s", res.Status, res.Body)
	}
	metrics := string(ts.do("GET", "/metrics", nil).Body)
	if !strings.Contains(metrics, "profiled_data_corrupt_total 5") {
		t.Errorf("profiled_data_corrupt_total is not 5:\n%s", grepLines(metrics, "corrupt"))
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestDataCorrupt_DeleteAndErase: a damaged customer, whose stored data
// cannot be read, can still be deleted or erased (without If-Match, since
// its revision is unknown), leaving no index entry behind, and then created
// again: a client can put right what a restore from backup would not.
func TestDataCorrupt_DeleteAndErase(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	bad := ts.mustCreate(exampleProfile(t))
	ts.mustCreate(`{"customer_id":"RECS01","FirstName":"Recs","EmailAddress":["recs@x.dom"],"Phone":[{"PhoneNumber":"5551212"}]}`)
	kept := ts.mustCreate(`{"FirstName":"Kept","EmailAddress":["b.banner@hulk.dom"]}`)
	session := egLogin(t, ts)
	res := ts.do("POST", "/ws/v12/interaction/customer", egIndividual("Ed", "Gain", "ed@damaged.example", ""), "Content-Type", "application/json", egSession, session)
	num := res.Header.Get("Location")[strings.LastIndexByte(res.Header.Get("Location"), '/')+1:]
	egainID := ts.identifyIDs("EmailAddress=ed@damaged.example")[0]
	damage(t, ts, "profiles", bad)
	damage(t, ts, "records", "RECS01")
	damage(t, ts, "profiles", egainID)

	wantError(t, ts.do("DELETE", "/profiles/"+bad, nil, "If-Match", `"1"`), http.StatusPreconditionFailed, "REVISION_MISMATCH")
	wantError(t, ts.do("POST", "/profiles/RECS01/erase", nil, "If-Match", `"1"`), http.StatusPreconditionFailed, "REVISION_MISMATCH")
	wantError(t, ts.do("GET", "/profiles/"+bad, nil), http.StatusInternalServerError, "DATA_CORRUPT")

	if res := ts.do("DELETE", "/profiles/"+bad, nil); res.Status != http.StatusOK {
		t.Fatalf("deleting the damaged profile: %d %s", res.Status, res.Body)
	}
	if res := ts.do("POST", "/profiles/RECS01/erase", nil); res.Status != http.StatusOK {
		t.Fatalf("erasing the customer with damaged records: %d %s", res.Status, res.Body)
	}
	// Erased by its eGain number, whose index entry still reads: an erase
	// sent again by the number (its answer lost) hears it was erased.
	if res := ts.do("POST", "/admin/egain/customer/"+num+"/erase", nil); res.Status != http.StatusOK {
		t.Fatalf("erasing the damaged customer by its eGain number: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("POST", "/admin/egain/customer/"+num+"/erase", nil), http.StatusNotFound, "PROFILE_ERASED")
	wantError(t, ts.do("GET", "/profiles/"+bad, nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
	wantError(t, ts.do("GET", "/profiles/RECS01", nil), http.StatusNotFound, "PROFILE_ERASED")
	for q, want := range map[string]string{
		"EmailAddress=bruce.banner@marvelous.com": "[]",
		"EmailAddress=b.banner@hulk.dom":          `[{"customer_id":"` + kept + `"}]`,
		"Phone.PhoneNumber=3145926535":            "[]",
		"Phone.PhoneNumber=5551212":               "[]",
		"EmailAddress=recs@x.dom":                 "[]",
	} {
		if res := ts.do("GET", "/profiles?"+q, nil); string(res.Body) != want {
			t.Errorf("identify %s after the removal: %s, want %s", q, res.Body, want)
		}
	}
	if n := ts.profileCount(); n != 1 {
		t.Errorf("%d profiles after the removals, want 1", n)
	}
	again := ts.mustCreate(exampleProfile(t))
	if res := ts.do("GET", "/profiles?EmailAddress=bruce.banner@marvelous.com", nil); string(res.Body) != `[{"customer_id":"`+again+`"}]` {
		t.Errorf("identify the re-created customer: %s", res.Body)
	}
}
