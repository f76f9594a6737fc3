package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/ops"
	"github.com/contactcenter/profiled/server"
	"github.com/contactcenter/profiled/store"
	"github.com/contactcenter/profiled/store/postgres/postgrestest"
)

// schemaHash reads the live schema hash from /admin/schema.
func (ts *testServer) schemaHash() string {
	ts.tb.Helper()
	var s struct{ Hash string }
	ts.do("GET", "/admin/schema", nil).JSON(ts.tb, &s)
	return s.Hash
}

func TestReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	schemaA := string(mustRead(t, "../config.yaml"))
	const titleLine = "    - {name: Title,        type: string, length: 64}\n"
	schemaB := strings.Replace(schemaA, titleLine, titleLine+"    - {name: Nickname, type: string, length: 32}\n", 1)
	invalid := strings.Replace(schemaB, "type: string, length: 32}", "type: text, length: 32}", 1)
	withoutTitle := strings.Replace(schemaB, titleLine, "", 1)
	writeFile := func(content string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(schemaA)
	ts := mustStartWith(t, cfgPath, filepath.Join(dir, "p.db"))
	id := ts.mustCreate(`{"FirstName":"Before","Title":"Dr"}`)
	wantError(t, ts.do("POST", "/profiles", `{"Nickname":"Hulk"}`), 400, "UNKNOWN_ATTRIBUTE")
	hashA := ts.schemaHash()

	t.Run("NewAttribute", func(t *testing.T) {
		writeFile(schemaB)
		if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
			t.Fatalf("reload: %d %s", res.Status, res.Body)
		}
		ts.mustCreate(`{"Nickname":"Hulk"}`)
		if ts.schemaHash() == hashA {
			t.Error("schema hash did not change")
		}
	})
	t.Run("InvalidRefused", func(t *testing.T) {
		hashB := ts.schemaHash()
		writeFile(invalid)
		res := ts.do("POST", "/admin/reload", nil)
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `unknown type \"text\"`) || !strings.Contains(string(res.Body), "Nickname") {
			t.Fatalf("reload of an invalid schema: %d %s", res.Status, res.Body)
		}
		if got := ts.schemaHash(); got != hashB {
			t.Errorf("schema changed to %s after a refused reload", got)
		}
		// An unknown setting does not hide the schema's problems.
		writeFile(strings.Replace(invalid, "log:\n", "log:\n  levle: info\n", 1))
		res = ts.do("POST", "/admin/reload", nil)
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `unknown type \"text\"`) || !strings.Contains(string(res.Body), "levle") {
			t.Fatalf("reload of a file with an unknown key and an invalid schema: %d %s, want both named", res.Status, res.Body)
		}
		ts.mustCreate(`{"Nickname":"Still"}`)
		if res := ts.do("GET", "/readyz", nil); res.Status != http.StatusOK {
			t.Errorf("readyz = %d after a refused reload", res.Status)
		}
		var p map[string]any
		ts.do("GET", "/profiles/"+id, nil).JSON(t, &p)
		if p["FirstName"] != "Before" {
			t.Errorf("profile lost: %v", p)
		}
	})
	t.Run("NonconformingCountedNotDropped", func(t *testing.T) {
		writeFile(withoutTitle)
		if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
			t.Fatalf("reload: %d %s", res.Status, res.Body)
		}
		var got struct {
			Conformance *struct{ Checked, Nonconforming int }
		}
		deadline := time.Now().Add(5 * time.Second)
		for got.Conformance == nil && time.Now().Before(deadline) {
			ts.do("GET", "/admin/schema", nil).JSON(t, &got)
			time.Sleep(10 * time.Millisecond)
		}
		if got.Conformance == nil || got.Conformance.Checked != 3 || got.Conformance.Nonconforming != 1 {
			t.Fatalf("conformance = %+v, want 3 checked, 1 nonconforming", got.Conformance)
		}
		var p map[string]any
		ts.do("GET", "/profiles/"+id, nil).JSON(t, &p)
		if p["FirstName"] != "Before" {
			t.Errorf("nonconforming profile not readable: %v", p)
		}
	})
	t.Run("ReloadBreakingEGainRefused", func(t *testing.T) {
		writeFile(strings.Replace(schemaA, "    - {name: EmailAddress, type: string, length: 256, multi_valued: true}\n", "", 1))
		res := ts.do("POST", "/admin/reload", nil)
		if res.Status != http.StatusBadRequest {
			t.Fatalf("a schema without EmailAddress breaks the eGain mapping, yet reload answered %d %s", res.Status, res.Body)
		}
	})
	// The file's own mapping is held to the schema too: reloaded, a
	// mapping naming an attribute that does not exist would stop the
	// next start.
	t.Run("ReloadOfABrokenMappingRefused", func(t *testing.T) {
		const number = "phone: {extension: Phone, number: PhoneNumber}"
		if !strings.Contains(schemaA, number) {
			t.Fatalf("config.yaml maps the phone number otherwise; the test proves nothing")
		}
		writeFile(strings.Replace(schemaB, number, "phone: {extension: Phone, number: PhoneNumbr}", 1))
		res := ts.do("POST", "/admin/reload", nil)
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "mapping.phone.number") {
			t.Fatalf("a mapping naming a missing attribute: reload answered %d %s", res.Status, res.Body)
		}
		// The pending edit is the reload's business only: a metadata
		// change meanwhile goes through.
		if res := ts.do("POST", "/metadata/profiles/extensions", `{"name":"Pending","type":"multi-valued","attributes":[{"name":"v","type":"string"}]}`); res.Status != http.StatusCreated {
			t.Errorf("a metadata change while the file holds a broken mapping: %d %s", res.Status, res.Body)
		}
	})
}

func TestMetrics_RouteTemplates(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	for i := 0; i < 5; i++ {
		ts.do("GET", fmt.Sprintf("/profiles/id%d", i), nil)
		ts.do("GET", fmt.Sprintf("/no/such/path/%d", i), nil)
	}
	res := ts.do("GET", "/metrics", nil)
	text := string(res.Body)
	routes := map[string]bool{}
	for _, m := range regexp.MustCompile(`profiled_http_requests_total\{[^}]*route="([^"]*)"`).FindAllStringSubmatch(text, -1) {
		routes[m[1]] = true
	}
	if !routes["/profiles/:id"] || !routes["unmatched"] {
		t.Fatalf("routes = %v, want /profiles/:id and unmatched", routes)
	}
	for r := range routes {
		if strings.Contains(r, "id0") || strings.Contains(r, "/no/such") {
			t.Errorf("raw path %q became a label", r)
		}
	}
	want := []string{"profiled_profiles ", "profiled_store_commits_total ", "profiled_schema_loaded_timestamp_seconds{hash=", "profiled_egain_sessions_open ", "go_memstats_heap_alloc_bytes "}
	engine, absent := "profiled_store_size_bytes ", "profiled_store_pool_acquired_conns "
	if onPostgres() {
		engine, absent = absent, engine
	}
	for _, want := range append(want, engine) {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, absent) {
		t.Errorf("metrics report %q, a figure of the other store engine", absent)
	}
}

// A schema change through /metadata makes a new live schema on the replica
// that made it as much as on the others: the schema metric must name its
// hash, as /readyz and /admin/schema do, or the alert scale-out.md suggests
// (more than one hash label across replicas) fires on replicas in sync, and
// a single server's metric names a schema that is no longer live.
func TestMetrics_SchemaHashAfterMetadataChange(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	if res := ts.do("POST", "/metadata/profiles/extensions", `{"name":"Loyalty","type":"single-valued","attributes":[{"name":"tier","type":"string"}]}`); res.Status != http.StatusCreated {
		t.Fatalf("create extension: %d %s", res.Status, res.Body)
	}
	hash := ts.schemaHash()
	text := string(ts.do("GET", "/metrics", nil).Body)
	labels := regexp.MustCompile(`profiled_schema_loaded_timestamp_seconds\{hash="([0-9a-f]*)"\}`).FindAllStringSubmatch(text, -1)
	if len(labels) != 1 || labels[0][1] != hash {
		t.Errorf("after a metadata change the live schema is %s, metrics name %v", hash, labels)
	}
}

func TestBackup_WhileWriting(t *testing.T) {
	t.Parallel()
	boltOnly(t, "copies the bbolt file; TestBackup_PostgresPointsToPgDump covers PostgreSQL")
	ts := mustStart(t)
	before := make([]string, 50)
	for i := range before {
		before[i] = fmt.Sprintf(`{"FirstName":"Before%d","EmailAddress":["b%d@x.dom"]}`, i, i)
	}
	acked := ts.mustCreateAll(before)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ts.do("POST", "/profiles", fmt.Sprintf(`{"FirstName":"During%d_%d"}`, w, i))
			}
		}(w)
	}
	res := ts.do("GET", "/admin/backup", nil)
	close(stop)
	wg.Wait()
	if res.Status != http.StatusOK {
		t.Fatalf("backup: %d %s", res.Status, res.Body)
	}
	if cl := res.Header.Get("Content-Length"); cl != fmt.Sprint(len(res.Body)) {
		t.Errorf("Content-Length %s, body %d bytes", cl, len(res.Body))
	}
	copyPath := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(copyPath, res.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := store.CheckFile(copyPath); err != nil {
		t.Fatalf("backup is not a consistent store: %v", err)
	}
	restored := mustStartWith(t, "../config.yaml", copyPath)
	for i, id := range acked {
		var p map[string]any
		res := restored.do("GET", "/profiles/"+id, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("profile %s acknowledged before the backup is missing: %d", id, res.Status)
		}
		res.JSON(t, &p)
		if p["FirstName"] != fmt.Sprintf("Before%d", i) {
			t.Errorf("profile %s = %v", id, p)
		}
	}
	var found []map[string]any
	restored.do("GET", "/profiles?EmailAddress=b7@x.dom", nil).JSON(t, &found)
	if len(found) != 1 {
		t.Errorf("identify on the restored copy: %v", found)
	}
}

func TestAdminGuard_Token(t *testing.T) {
	t.Parallel()
	cfg := configWith(t, `  token: ""`, `  token: "let-me-in"`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	if res := ts.do("GET", "/admin/schema", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("without token: %d, want 401", res.Status)
	}
	if res := ts.do("POST", "/admin/reload", nil, "Authorization", "Bearer nope"); res.Status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", res.Status)
	}
	res := ts.do("GET", "/admin/schema", nil, "Authorization", "Bearer let-me-in")
	var s map[string]any
	if res.Status != http.StatusOK {
		t.Fatalf("right token: %d", res.Status)
	}
	res.JSON(t, &s)
	if s["hash"] == "" {
		t.Errorf("schema: %v", s)
	}
}

// TestBackup_PostgresPointsToPgDump: a PostgreSQL store is backed up with
// its own tools; /admin/backup says so with 501 instead of a partial copy.
func TestBackup_PostgresPointsToPgDump(t *testing.T) {
	t.Parallel()
	ts := startOn(t, "../config.yaml", filepath.Join(t.TempDir(), "unused.db"), postgrestest.URL(t))
	res := ts.do("GET", "/admin/backup", nil)
	if res.Status != http.StatusNotImplemented || !strings.Contains(string(res.Body), "pg_dump") || !strings.Contains(string(res.Body), `"code":"BACKUP_NOT_SUPPORTED"`) {
		t.Errorf("GET /admin/backup on PostgreSQL = %d %s, want 501 pointing to pg_dump", res.Status, res.Body)
	}
	if _, err := os.Stat(ts.data); !os.IsNotExist(err) {
		t.Errorf("a PostgreSQL server created the bbolt file %s (%v)", ts.data, err)
	}
}

// TestProfiling: Go's runtime profiles are served behind the admin guard,
// for an operator's `go tool pprof` against a live server.
func TestProfiling(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	cfg := configWith(t, `  token: ""`, `  token: "let-me-in"`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	if res := ts.do("GET", "/admin/debug/pprof/heap", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("without token: %d, want 401", res.Status)
	}
	auth := []string{"Authorization", "Bearer let-me-in"}
	if res := ts.do("GET", "/admin/debug/pprof/", nil, auth...); res.Status != http.StatusOK || !strings.Contains(string(res.Body), "href='heap?debug=1'") {
		t.Errorf("index = %d %.200s", res.Status, res.Body)
	}
	// A profile is gzip-compressed protobuf; debug=1 is text.
	if res := ts.do("GET", "/admin/debug/pprof/heap", nil, auth...); res.Status != http.StatusOK || len(res.Body) < 2 || res.Body[0] != 0x1f || res.Body[1] != 0x8b {
		t.Errorf("heap profile = %d %q", res.Status, res.Body[:min(len(res.Body), 16)])
	}
	if res := ts.do("GET", "/admin/debug/pprof/goroutine?debug=1", nil, auth...); res.Status != http.StatusOK || !strings.Contains(string(res.Body), "goroutine profile: total") {
		t.Errorf("goroutine profile = %d %.100s", res.Status, res.Body)
	}
	switch res := ts.do("GET", "/admin/debug/pprof/profile?seconds=1", nil, auth...); {
	case res.Status == http.StatusInternalServerError && strings.Contains(string(res.Body), "already in use"):
		t.Log("CPU profile not checked: this test binary is being profiled (go test -cpuprofile)")
	case res.Status != http.StatusOK || len(res.Body) < 2 || res.Body[0] != 0x1f:
		t.Errorf("CPU profile = %d %q", res.Status, res.Body[:min(len(res.Body), 16)])
	}
	// A profile may not hold the profiler (and a shutdown) for long.
	for _, seconds := range []string{"61", "0", "x", "1e3"} {
		if res := ts.do("GET", "/admin/debug/pprof/profile?seconds="+seconds, nil, auth...); res.Status != http.StatusBadRequest ||
			!strings.Contains(string(res.Body), `"code":"BAD_PARAMETER"`) {
			t.Errorf("seconds=%s: %d %s, want 400 BAD_PARAMETER", seconds, res.Status, res.Body)
		}
	}
	if res := ts.do("GET", "/admin/debug/pprof/cmdline", nil, auth...); res.Status != http.StatusNotFound || !strings.Contains(string(res.Body), `"code":"NOT_FOUND"`) {
		t.Errorf("cmdline (may hold a store password) = %d %s, want 404", res.Status, res.Body)
	}
	if res := ts.do("HEAD", "/admin/debug/pprof/profile", nil, auth...); res.Status != http.StatusMethodNotAllowed {
		t.Errorf("HEAD of a CPU profile = %d, want 405", res.Status)
	}
}

// countlessStore is a store that cannot count its profiles right now, as
// the PostgreSQL store cannot while its database is down.
type countlessStore struct{ server.Backend }

func (countlessStore) ProfileCount() (int, error) {
	return 0, errs.E(errs.KindUnavailable, "STORE_UNAVAILABLE", "the profile store cannot be reached")
}

// TestMetrics_ProfileCountUnknown: profiled_profiles is what the store
// holds; when the store cannot say, the scrape must not report 0 customers
// (a dashboard would show every customer gone, an alert on a drop would
// page for lost data): the series is left out (or the scrape says it
// failed), never a made-up value.
func TestMetrics_ProfileCountUnknown(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	ts.mustCreate(`{"FirstName":"Counted"}`)
	ts.App.Store = countlessStore{ts.App.Store}
	defer func() { ts.App.Store = ts.App.Store.(countlessStore).Backend }()
	res := ts.do("GET", "/metrics", nil)
	text := string(res.Body)
	if m := regexp.MustCompile(`(?m)^profiled_profiles (\S+)$`).FindStringSubmatch(text); m != nil {
		t.Errorf("profiled_profiles shown while the store cannot count (1 profile stored): %q", m[0])
	}
	if res.Status != 200 || !strings.Contains(text, "profiled_http_requests_total") {
		t.Errorf("the rest of the scrape is lost: %d\n%.300s", res.Status, text)
	}
}

// TestStarting_AnswersInTheAPIsFormat: while the service starts (the store
// opening, indexes being built: minutes on a large store) every request but
// /livez is 503 with Retry-After, and the run contract's error formats
// hold from the first answer: a Genesys body with its code, a WSError in
// the format asked for; /readyz keeps its own body.
func TestStarting_AnswersInTheAPIsFormat(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(ops.Starting(zerolog.Nop(), false, server.RenderError, echo.ExtractIPDirect()))
	defer srv.Close()
	get := func(path string, headers ...string) response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.Header.Get("Retry-After") == "" || res.Header.Get(echo.HeaderXRequestID) == "" {
			t.Errorf("%s: Retry-After %q, X-Request-Id %q", path, res.Header.Get("Retry-After"), res.Header.Get(echo.HeaderXRequestID))
		}
		return response{Status: res.StatusCode, Header: res.Header, Body: body}
	}
	wantError(t, get("/profiles/abc"), http.StatusServiceUnavailable, ops.CodeStarting)
	wantWSError(t, get("/ws/v12/interaction/customer/1", "Accept", "application/xml"), http.StatusServiceUnavailable, "503-101", "application/xml")
	wantWSError(t, get("/system/ws/v12/interaction/customer/1", "Accept", "application/json"), http.StatusServiceUnavailable, "503-101", "application/json")
	if res := get("/readyz"); res.Status != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), `"reason":"starting"`) {
		t.Errorf("/readyz while starting: %d %s", res.Status, res.Body)
	}
}
