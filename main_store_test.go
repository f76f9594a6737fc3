package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/server"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/transfer"
)

// serveOn starts the application on the store at where (a file or a URL).
func serveOn(t *testing.T, where string) (*server.App, *httptest.Server) {
	t.Helper()
	cfg, err := config.Load("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(where, "postgres") {
		cfg.Store.URL, cfg.Store.MaxConns = where, 4 // tests share one server's connections
	} else {
		cfg.Store.Path = where
	}
	app, err := server.New(cfg, zerolog.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	return app, httptest.NewServer(app.Echo)
}

func send(t *testing.T, base, method, path, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, string(data)
}

// dump reads everything a bbolt file holds, in a stable order.
func dump(t *testing.T, path string) (transfer.Header, []transfer.Item) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := transfer.ReadHeader(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	var items []transfer.Item
	if err := db.Export(context.Background(), func(it transfer.Item) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(items, func(a, b transfer.Item) int {
		key := func(it transfer.Item) string {
			return it.Tenant + "\x00" + it.Name + "\x00" + it.ID + "\x00" + string(it.Value) + "\x00" + it.Created.Format(time.RFC3339Nano)
		}
		return strings.Compare(key(a), key(b))
	})
	return h, items
}

// TestCopyStore_RoundTrip copies a bbolt file written through both APIs to
// PostgreSQL and back: every profile, record, index entry, numeric id,
// session, audit entry and the stored schema arrive unchanged, the PostgreSQL copy
// serves them, and a non-empty target is refused.
func TestCopyStore_RoundTrip(t *testing.T) {
	dir := t.TempDir()
	original, back := filepath.Join(dir, "original.db"), filepath.Join(dir, "back.db")
	pgURL := pgtest.URL(t)

	app, srv := serveOn(t, original)
	res, _ := send(t, srv.URL, "POST", "/metadata/profiles/extensions", `{"name":"Loyalty","type":"single-valued","attributes":[{"name":"tier","type":"string"}]}`)
	if res.StatusCode >= 300 {
		t.Fatalf("create extension: %d", res.StatusCode)
	}
	var ids []string
	for _, c := range []struct{ body, tenant string }{
		{`{"FirstName":"Bruce","EmailAddress":["b@x.dom"],"Phone":[{"PhoneNumber":"555"}],"Loyalty":{"tier":"gold"}}`, ""},
		{`{"customer_id":"chosen_id-1","LastName":"Ross"}`, ""},
		{`{"FirstName":"Acme","EmailAddress":["a@acme.dom"]}`, "acme"},
	} {
		var tenant []string
		if c.tenant != "" {
			tenant = []string{"X-Genesys-TenantId", c.tenant}
		}
		res, body := send(t, srv.URL, "POST", "/profiles", c.body, tenant...)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, body)
		}
		ids = append(ids, strings.Split(body, `"`)[3])
	}
	res, body := send(t, srv.URL, "POST", "/ws/v12/authentication/user/login", `{"userName":"demo","password":"demo"}`)
	session := res.Header.Get("X-egain-session")
	if session == "" {
		t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	res, body = send(t, srv.URL, "POST", "/ws/v12/interaction/customer",
		`{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Eg","lastName":"Ain","contactPoints":{"contactPoint":[{"type":{"value":"email","email":{"emailAddress":"eg@x.dom"}}}]}}]}}`,
		"X-egain-session", session)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("eGain create: %d %s", res.StatusCode, body)
	}
	egainPath := strings.TrimPrefix(res.Header.Get("Location"), "/system")
	if res, body := send(t, srv.URL, "POST", "/profiles/erased_id-9/erase", ""); res.StatusCode != http.StatusNotFound {
		t.Fatalf("erase of a customer that does not exist: %d %s", res.StatusCode, body)
	}
	send(t, srv.URL, "POST", "/profiles", `{"customer_id":"erased_id-9","FirstName":"Gone"}`)
	if res, body := send(t, srv.URL, "POST", "/profiles/erased_id-9/erase", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("erase: %d %s", res.StatusCode, body)
	}
	res, body = send(t, srv.URL, "POST", "/ws/v12/interaction/customer",
		`{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Er","lastName":"Ased"}]}}`, "X-egain-session", session)
	erasedNum := res.Header.Get("Location")[strings.LastIndexByte(res.Header.Get("Location"), '/')+1:]
	if res, body := send(t, srv.URL, "POST", "/admin/egain/customer/"+erasedNum+"/erase", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("erase by eGain number: %d %s", res.StatusCode, body)
	}
	_, before := send(t, srv.URL, "GET", "/profiles/"+ids[0]+"?extensions=Phone,Loyalty", "")
	trail := func(base string) string { // the whole trail, sequence numbers included: a copy keeps them
		_, body := send(t, base, "GET", "/admin/audit?limit=1000", "")
		return body
	}
	trailBefore := trail(srv.URL)
	srv.Close()
	app.Close()

	copyStore := func(from, to string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		// No -config: copy-store needs none (run from a directory without one).
		code := run([]string{"copy-store", "-config", filepath.Join(dir, "absent.yaml"), "-from", from, "-to", to}, nil, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	// A source is only read: an empty database is refused, not migrated
	// and read as empty, and a source file stays byte for byte as it was.
	empty := pgtest.URL(t)
	if code, _, stderr := copyStore(empty, back); code != 1 || !strings.Contains(stderr, "does not hold this release's profiled tables") {
		t.Fatalf("copy from an empty database: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := runCLI(t, "check", "-config", "config.yaml", "-store", empty); code != 1 || !strings.Contains(stdout+stderr, "does not hold this release's profiled tables") {
		t.Fatalf("check of an empty database: exit %d\n%s%s", code, stdout, stderr)
	}
	conn, err := pgx.Connect(t.Context(), empty)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var tables int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("the empty database has %d tables after being read (%v)", tables, err)
	}
	sourceBytes := mustReadFile(t, original)
	if code, stdout, stderr := copyStore(original, pgURL); code != 0 || !strings.Contains(stdout, "counts match") || !strings.Contains(stdout, "tenant acme: 1 profiles") {
		t.Fatalf("copy to PostgreSQL: exit %d\n%s%s", code, stdout, stderr)
	}
	if !bytes.Equal(mustReadFile(t, original), sourceBytes) {
		t.Error("copy-store changed its source file")
	}
	if code, _, stderr := copyStore(original, pgURL); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Fatalf("copy into a non-empty store: exit %d, %s; want 1 and a refusal", code, stderr)
	}
	if code, _, stderr := copyStore(filepath.Join(dir, "missing.db"), back); code != 1 || !strings.Contains(stderr, "no source data file") {
		t.Fatalf("copy from a missing file: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := copyStore(pgURL, back); code != 0 || !strings.Contains(stdout, "counts match") {
		t.Fatalf("copy back to bbolt: exit %d\n%s%s", code, stdout, stderr)
	}

	h1, items1 := dump(t, original)
	h2, items2 := dump(t, back)
	if !reflect.DeepEqual(h1, h2) {
		t.Errorf("header after the round trip = %+v, want %+v", h2, h1)
	}
	if len(items1) < 10 || !reflect.DeepEqual(items1, items2) {
		t.Errorf("round trip changed the data: %d items before, %d after", len(items1), len(items2))
	}

	// The PostgreSQL copy serves everything, and hands out new ids only.
	app, srv = serveOn(t, pgURL)
	defer func() { srv.Close(); app.Close() }()
	if _, after := send(t, srv.URL, "GET", "/profiles/"+ids[0]+"?extensions=Phone,Loyalty", ""); after != before {
		t.Errorf("profile on PostgreSQL = %s, want %s", after, before)
	}
	if res, body := send(t, srv.URL, "GET", "/profiles?EmailAddress=a@acme.dom", "", "X-Genesys-TenantId", "acme"); !strings.Contains(body, ids[2]) {
		t.Errorf("identify in tenant acme on PostgreSQL: %d %s", res.StatusCode, body)
	}
	if res, body := send(t, srv.URL, "GET", egainPath, "", "X-egain-session", session, "Accept", "application/json"); res.StatusCode != http.StatusOK {
		t.Errorf("eGain customer with the copied session on PostgreSQL: %d %s", res.StatusCode, body)
	}
	if after := trail(srv.URL); after != trailBefore || !strings.Contains(after, `"op":"erase"`) {
		t.Errorf("audit trail on PostgreSQL:\n%s\nwant:\n%s", after, trailBefore)
	}
	// The tombstone came along: the erased customer cannot come back.
	if res, body := send(t, srv.URL, "POST", "/profiles", `{"customer_id":"erased_id-9","FirstName":"Back"}`); res.StatusCode != http.StatusConflict || !strings.Contains(body, "PROFILE_ERASED") {
		t.Errorf("re-create of an erased customer on the copy: %d %s", res.StatusCode, body)
	}
	// So did the erased eGain number's: an erase sent again by it hears so.
	if res, body := send(t, srv.URL, "POST", "/admin/egain/customer/"+erasedNum+"/erase", ""); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "PROFILE_ERASED") {
		t.Errorf("erase by an erased eGain number on the copy: %d %s", res.StatusCode, body)
	}
	res, _ = send(t, srv.URL, "POST", "/ws/v12/interaction/customer",
		`{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"New","lastName":"One"}]}}`, "X-egain-session", session)
	num := func(path string) int { n, _ := strconv.Atoi(path[strings.LastIndexByte(path, '/')+1:]); return n }
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusCreated || num(loc) <= num(egainPath) {
		t.Errorf("new eGain customer after the copy: %d at %q, want a number after %q", res.StatusCode, loc, egainPath)
	}
}

// TestCheckConfig_ReadsThePostgresOverlay: check-config with -store checks
// the candidate config against the schema stored in the database, so a
// config that the replicas would refuse is never reported OK.
func TestCheckConfig_ReadsThePostgresOverlay(t *testing.T) {
	pgURL := pgtest.URL(t)
	check := func(cfg string) (int, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"check-config", "-config", cfg, "-store", pgURL}, nil, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	if code, out := check("config.yaml"); code != 0 || strings.Contains(out, "note:") {
		t.Fatalf("check-config on a new database: exit %d\n%s", code, out)
	}
	loyaltyThroughAPI(t, pgURL)
	data, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clash := filepath.Join(t.TempDir(), "config.yaml")
	const anchor = "  extensions:\n"
	edited := strings.Replace(string(data), anchor, anchor+"    - {name: Loyalty, type: single-valued, attributes: [{name: tier, type: string}]}\n", 1)
	if err := os.WriteFile(clash, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := check(clash); code != 1 || !strings.Contains(out, "Loyalty") {
		t.Errorf("check-config with a config that defines the stored extension again: exit %d\n%s", code, out)
	}
}

// TestStoreFlag_RefusesWhatIsNotPostgres: -store (like PROFILED_STORE)
// takes a PostgreSQL URL only, and the refusal does not echo a password.
func TestStoreFlag_RefusesWhatIsNotPostgres(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "-store", "mysql://u:secret@db/x"},
		{"check-config", "-store", "profiles.db"},
		{"check-config", "-store", "mysql://u:secret@db/x"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, nil, &stdout, &stderr)
		out := stdout.String() + stderr.String() // check-config lists it with the file's problems
		if code != 1 || !strings.Contains(out, "postgres://") || strings.Contains(out, "secret") {
			t.Errorf("%q: exit %d, %s", args, code, out)
		}
	}
}

// TestCopyStore_UniqueKeyWithAnEmptyValue: a unique key of two attributes
// holds entries with one of them unset as not unique (a relational unique
// index never takes two rows with a NULL for equal), so two customers on
// bbolt may share them; the copy to PostgreSQL must carry them as such.
func TestCopyStore_UniqueKeyWithAnEmptyValue(t *testing.T) {
	dir := t.TempDir()
	original := filepath.Join(dir, "original.db")
	pgURL := pgtest.URL(t)
	app, srv := serveOn(t, original)
	if res, body := send(t, srv.URL, "POST", "/metadata/identification-keys", `{"name":"fullname","attributes":["LastName","FirstName"],"unique":true}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("create key: %d %s", res.StatusCode, body)
	}
	for range 2 {
		if res, body := send(t, srv.URL, "POST", "/profiles", `{"LastName":"Smith"}`); res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, body)
		}
	}
	srv.Close()
	app.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"copy-store", "-config", filepath.Join(dir, "absent.yaml"), "-from", original, "-to", pgURL}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("copy to PostgreSQL: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestDataFlag_BeatsStoreEnv: precedence is flag > environment > file, so an
// explicit -data FILE names the store even where PROFILED_STORE is set (a
// PostgreSQL replica's environment, an operator's shell): an import goes
// into that file and check checks it, not the database of the environment.
func TestDataFlag_BeatsStoreEnv(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "profiles.db")
	in := writeFile(t, dir, "one.ndjson", `{"customer_id":"C1","FirstName":"One"}`+"\n")
	// A database no test server answers: were it used, the command fails.
	t.Setenv("PROFILED_STORE", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")

	code, out, errOut := runCLI(t, "import", "-config", "config.yaml", "-data", data, "-in", in)
	if code != 0 {
		t.Fatalf("import -data %s with PROFILED_STORE set: exit %d\n%s%s", data, code, out, errOut)
	}
	if n := profileCount(t, data); n != 1 {
		t.Errorf("the -data file holds %d profiles, want 1", n)
	}
	code, out, errOut = runCLI(t, "check", "-config", "config.yaml", "-data", data)
	if code != 0 || !strings.Contains(out, "checking the data file "+data) {
		t.Errorf("check -data %s with PROFILED_STORE set: exit %d\n%s%s", data, code, out, errOut)
	}
}

// TestCopyStore_DamagedSourceExitsOne: copy-store from a data file with a
// page of profiles overwritten, on which bbolt panics by design, stops
// with exit 1 and says the source is damaged (it panicked, exit 2).
func TestCopyStore_DamagedSourceExitsOne(t *testing.T) {
	t.Parallel()
	from, _ := damagedDataFile(t)
	to := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, stderr := runCatching(t, "copy-store", "-from", from, "-to", to)
	if code != 1 || !strings.Contains(stderr, "data file is damaged") || !strings.Contains(stderr, "backup") {
		t.Errorf("copy-store from a damaged page: exit %d, want 1 saying the data file is damaged\n%s%s", code, stdout, stderr)
	}
}
