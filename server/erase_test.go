package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/safebuf"
	"github.com/contactcenter/profiled/profile"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
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
	// An erase cannot be undone, so nothing a client sends is ignored: a
	// query parameter (?dryRun=true), a body or a malformed If-Match is 400,
	// a stale If-Match 412, and each leaves the customer as it was.
	for _, refused := range []struct {
		path, body string
		header     []string
		status     int
		code       string
	}{
		{"/profiles/ERASE01/erase?dryRun=true", "", nil, http.StatusBadRequest, "BAD_PARAMETER"},
		{"/profiles/ERASE01/erase", `{"confirm":false}`, nil, http.StatusBadRequest, "BAD_PARAMETER"},
		{"/profiles/ERASE01/erase", "", []string{"If-Match", `"9"`}, http.StatusPreconditionFailed, "REVISION_MISMATCH"},
		{"/profiles/ERASE01/erase", "", []string{"If-Match", ""}, http.StatusBadRequest, "BAD_PARAMETER"},
		{"/admin/egain/customer/1/erase?dryRun=true", "", nil, http.StatusBadRequest, "BAD_PARAMETER"},
	} {
		var body any
		if refused.body != "" {
			body = refused.body
		}
		wantError(t, ts.do("POST", refused.path, body, refused.header...), refused.status, refused.code)
		if res := ts.do("GET", "/profiles/ERASE01", nil); res.Status != http.StatusOK {
			t.Fatalf("after the refused erase %s: %d %s", refused.path, res.Status, res.Body)
		}
	}
	tag := ts.do("GET", "/profiles/ERASE01", nil).Header.Get("ETag")
	res := ts.do("POST", "/profiles/ERASE01/erase", nil, "If-Match", tag)
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
	// An erase sent again by the number (its answer was lost) and an export
	// by it hear that the customer was erased; a number never given out is
	// not found.
	wantError(t, ts.do("POST", "/admin/egain/customer/"+num+"/erase", nil), http.StatusNotFound, "PROFILE_ERASED")
	wantError(t, ts.do("GET", "/admin/egain/customer/"+num+"/export", nil), http.StatusNotFound, "PROFILE_ERASED")
	wantError(t, ts.do("GET", "/admin/egain/customer/999999/export", nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
	if n := ts.profileCount(); n != 1 {
		t.Errorf("%d profiles, want 1", n)
	}
}

// TestErase_LeavesNoPersonalData: after erasing customers written through
// both APIs (and changed before, so that older copies existed), none of
// their e-mails, phones or names is anywhere in the store: on bbolt in the
// data file's raw bytes, free pages included; on PostgreSQL in any row of
// any table. Identify by the old e-mail answers [].
func TestErase_LeavesNoPersonalData(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	secrets := []string{"quentin.q@erase.example", "quentin.old@erase.example", "5550777", "Quentinname", "Quirkysurname", "ursula.u@erase.example", "Ursulaname"}
	id := ts.mustCreate(`{"FirstName":"Quentinname","LastName":"Quirkysurname","EmailAddress":["quentin.old@erase.example"],"Phone":[{"PhoneNumber":"5550777"}]}`)
	if res := ts.do("PUT", "/profiles/"+id, `{"FirstName":"Quentinname","LastName":"Quirkysurname","EmailAddress":["quentin.q@erase.example"]}`); res.Status != http.StatusOK {
		t.Fatalf("replace: %d %s", res.Status, res.Body)
	}
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, egIndividual("Ursulaname", "Quirkysurname", "ursula.u@erase.example", "5550777"), "")
	others := make([]string, 50) // other customers, so the erased ones shared pages with data that stays
	for i := range others {
		others[i] = fmt.Sprintf(`{"FirstName":"Other%d","EmailAddress":["other%d@keep.example"]}`, i, i)
	}
	ts.mustCreateAll(others)
	logs := &safebuf.Buffer{} // the handlers' own lines; the request log is ops's, tested there
	ts.App.Log = zerolog.New(logs)
	for _, path := range []string{"/profiles/" + id + "/erase", "/admin/egain/customer/" + num + "/erase"} {
		res := ts.do("POST", path, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		if !onPostgres() && !strings.Contains(string(res.Body), `"free_pages_scrubbed":true`) {
			t.Errorf("%s: the free pages were not scrubbed by the answer: %s", path, res.Body)
		}
	}
	if !strings.Contains(logs.String(), "customer erased") || strings.Contains(logs.String(), id) || strings.Contains(logs.String(), `"`+num+`"`) {
		t.Errorf("the erase log lines name the customer (deploy.md: logs hold no customer ids) or are missing: %s", logs)
	}
	for _, q := range []string{"EmailAddress=quentin.q@erase.example", "EmailAddress=ursula.u@erase.example", "Phone.PhoneNumber=5550777"} {
		if res := ts.do("GET", "/profiles?"+q, nil); string(res.Body) != "[]" {
			t.Errorf("identify %s after the erase: %s", q, res.Body)
		}
	}
	if onPostgres() {
		found := scanTables(t, ts.storeURL, secrets)
		if len(found) > 0 {
			t.Fatalf("erased values in PostgreSQL tables: %v", found)
		}
		if len(scanTables(t, ts.storeURL, []string{"other7@keep.example"})) == 0 {
			t.Fatal("a kept customer's e-mail is not found either: the scan proves nothing")
		}
		return
	}
	raw, err := os.ReadFile(ts.data)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("%q survives in the data file's bytes", s)
		}
	}
	if !bytes.Contains(raw, []byte("other7@keep.example")) {
		t.Error("a kept customer's e-mail is not in the file either: the scan proves nothing")
	}
}

// scanTables returns "table: value" for every secret found in any row of
// any table of the database at url, text and bytea columns alike.
func scanTables(t *testing.T, url string, secrets []string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, table := range tables {
		// A row as text shows bytea columns in hex: look for both forms.
		rows, err := conn.Query(t.Context(), "SELECT t::text FROM "+pgx.Identifier{table}.Sanitize()+" t")
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range texts {
			for _, s := range secrets {
				if strings.Contains(row, s) || strings.Contains(row, hex.EncodeToString([]byte(s))) {
					found = append(found, table+": "+s)
				}
			}
		}
	}
	if len(tables) < 5 {
		t.Fatalf("only %d tables scanned: %v", len(tables), tables)
	}
	return found
}

// TestErase_ScrubWaitsForALongReader: erases made while a long read (a hot
// backup) holds old pages answer free_pages_scrubbed false, and one
// background scrub, run again for the erase that came while it waited,
// clears both customers' values from the file once the reader ends.
func TestErase_ScrubWaitsForALongReader(t *testing.T) {
	t.Parallel()
	boltOnly(t, "free pages are bbolt's")
	ts := startForScrub(t)
	ts.mustCreate(`{"customer_id":"LONG1","FirstName":"Wanda","EmailAddress":["wanda@first.example"]}`)
	ts.mustCreate(`{"customer_id":"LONG2","FirstName":"Xavier","EmailAddress":["xavier@second.example"]}`)
	release, done := ts.holdReader()
	for _, id := range []string{"LONG1", "LONG2"} {
		res := ts.do("POST", "/profiles/"+id+"/erase", nil)
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"free_pages_scrubbed":false`) {
			t.Fatalf("erase %s while a reader is open: %d %s", id, res.Status, res.Body)
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := os.ReadFile(ts.data)
		if err != nil {
			t.Fatal(err)
		}
		left := []string{}
		for _, s := range []string{"wanda@first.example", "xavier@second.example"} {
			if bytes.Contains(raw, []byte(s)) {
				left = append(left, s)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v still in the data file after the reader ended", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestErase_ScrubSurvivesARestart: an erase whose scrub was held up by a
// long reader, and whose process ended before the reader did, leaves the
// erased values in free pages; the next start scrubs them.
func TestErase_ScrubSurvivesARestart(t *testing.T) {
	boltOnly(t, "free pages are bbolt's")
	ts := startForScrub(t)
	ts.mustCreate(`{"customer_id":"GONE1","FirstName":"Yolanda","EmailAddress":["yolanda@restart.example"]}`)
	release, done := ts.holdReader()
	if res := ts.do("POST", "/profiles/GONE1/erase", nil); res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"free_pages_scrubbed":false`) {
		t.Fatalf("erase while a reader is open: %d %s", res.Status, res.Body)
	}
	// The process ends before the reader: the background scrub is cut off.
	go func() { time.Sleep(300 * time.Millisecond); close(release) }()
	ts.stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(mustRead(t, ts.data), []byte("yolanda@restart.example")) {
		t.Skip("the scrub completed before the stop; nothing to show")
	}
	ts = ts.restart()
	deadline := time.Now().Add(10 * time.Second)
	for bytes.Contains(mustRead(t, ts.data), []byte("yolanda@restart.example")) {
		if time.Now().After(deadline) {
			t.Fatal("the erased e-mail is still in the data file's free pages after a restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startForScrub starts a bbolt server whose erase waits 50 ms for readers,
// holding 30 customers besides those a test erases (so the erased ones
// share pages with data that stays).
func startForScrub(t *testing.T) *testServer {
	ts := mustStart(t)
	ts.App.EraseScrubWait = 50 * time.Millisecond
	keep := make([]string, 30)
	for i := range keep {
		keep[i] = fmt.Sprintf(`{"FirstName":"Keep%d","EmailAddress":["keep%d@keep.example"]}`, i, i)
	}
	ts.mustCreateAll(keep)
	return ts
}

// holdReader opens a read transaction, as a long hot backup would, and
// holds it until release is closed; done gets its error.
func (ts *testServer) holdReader() (release chan struct{}, done chan error) {
	reading := make(chan struct{})
	release, done = make(chan struct{}), make(chan error, 1)
	go func() {
		done <- ts.App.Store.View(context.Background(), "", func(profile.Tx) error {
			close(reading)
			<-release
			return nil
		})
	}()
	<-reading
	return release, done
}

// TestErase_BackupAfterAnUnfinishedScrub: an erase whose scrub waits for a
// long reader (an earlier hot backup) answers free_pages_scrubbed:false; a
// backup taken after that erase is a "backup made after" it
// (docs/privacy.md: only backups made before the erase keep its data), so
// it must not carry the erased values in the free pages it copies.
func TestErase_BackupAfterAnUnfinishedScrub(t *testing.T) {
	boltOnly(t, "free pages are bbolt's")
	ts := startForScrub(t)
	ts.mustCreate(`{"customer_id":"BACK1","FirstName":"Zelda","EmailAddress":["zelda@backup.example"]}`)
	release, done := ts.holdReader()
	if res := ts.do("POST", "/profiles/BACK1/erase", nil); res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"free_pages_scrubbed":false`) {
		close(release)
		t.Fatalf("erase while a reader is open: %d %s", res.Status, res.Body)
	}
	res := ts.do("GET", "/admin/backup", nil)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Status == http.StatusOK && bytes.Contains(res.Body, []byte("zelda@backup.example")) {
		t.Fatal("a backup taken after the erase holds the erased e-mail (in the free pages the erase has not yet overwritten)")
	}
	if res.Status != http.StatusOK { // the reader kept the scrub from running in time
		wantError(t, res, http.StatusServiceUnavailable, "ERASE_SCRUB_PENDING")
	}
	// Once the long reader has ended, a backup is served, without them.
	if res := ts.do("GET", "/admin/backup", nil); res.Status != http.StatusOK || bytes.Contains(res.Body, []byte("zelda@backup.example")) {
		t.Fatalf("backup after the reader ended: %d, holds the erased e-mail: %v", res.Status, bytes.Contains(res.Body, []byte("zelda@backup.example")))
	}
}

// TestErase_OfADeletedCustomer: a customer deleted through the API before
// its erasure request reached the data-protection team leaves its values
// in the data file's free pages (a DELETE does not scrub them); the erase
// the team then sends answers 404, and must still overwrite them, or
// nothing the team can do removes them (every hot backup copies them).
func TestErase_OfADeletedCustomer(t *testing.T) {
	boltOnly(t, "free pages are bbolt's")
	ts := startForScrub(t)
	ts.mustCreate(`{"customer_id":"DEL1","FirstName":"Deletedname","EmailAddress":["gone@deleted.example"]}`)
	if res := ts.do("DELETE", "/profiles/DEL1", nil); res.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if !bytes.Contains(mustRead(t, ts.data), []byte("gone@deleted.example")) {
		t.Skip("the deleted values were overwritten already; nothing to show")
	}
	wantError(t, ts.do("POST", "/profiles/DEL1/erase", nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
	for _, s := range []string{"gone@deleted.example", "Deletedname"} {
		if bytes.Contains(mustRead(t, ts.data), []byte(s)) {
			t.Errorf("%s is still in the data file after the erase of the deleted customer", s)
		}
	}
}
