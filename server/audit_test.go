package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/server"
)

type auditEntry struct {
	Op         string   `json:"op"`
	Actor      string   `json:"actor"`
	Client     string   `json:"client"`
	RequestID  string   `json:"request_id"`
	Customers  []string `json:"customer_ids"`
	Attributes []string `json:"attributes"`
	Extensions []string `json:"extensions"`
	Keys       []string `json:"keys"`
}

type auditPage struct {
	Entries []auditEntry `json:"entries"`
	Next    string       `json:"next"`
}

func (ts *testServer) audit(tb testing.TB, query string, headers ...string) auditPage {
	tb.Helper()
	res := ts.do("GET", "/admin/audit?"+query, nil, headers...)
	if res.Status != http.StatusOK {
		tb.Fatalf("GET /admin/audit?%s: %d %s", query, res.Status, res.Body)
	}
	var page auditPage
	res.JSON(tb, &page)
	return page
}

// TestAudit_BothAPIs: writes through the Genesys API, the eGain facade
// and the admin endpoints each leave one entry with the actor their
// credentials name, the customers and the names (never values) changed;
// GET /admin/audit filters and pages them; an export lists the customer's
// entries and is audited itself. Runs on both stores.
func TestAudit_BothAPIs(t *testing.T) {
	t.Parallel()
	cfg := authConfig(t, `      - {name: crm, key_sha256: "KEY(crm-key)", role: agent}`,
		`      - {name: ops, password_hash: "PW", role: administrator}`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	crm := []string{"X-API-Key", "crm-key", "X-Request-Id", "req-1"}

	id := ts.mustCreate(`{"FirstName":"Ann","LastName":"Secretname","EmailAddress":["ann@secret.example"],"Phone":[{"PhoneNumber":"5550100"}]}`, crm...)
	if res := ts.do("POST", "/profiles/"+id+"/extensions", `{"Phone":[{"PhoneNumber":"5550101"}]}`, crm...); res.Status >= 300 {
		t.Fatalf("insert records: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":7}`, crm...), http.StatusBadRequest, "INVALID_TYPE") // leaves nothing
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, egIndividual("Eve", "Gainer", "eve@secret.example", ""), "")
	if res := ts.do("POST", "/metadata/identification-keys", `{"name":"title_key","attributes":["Title"]}`, "Authorization", basicAuth("ops", testPassword)); res.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", res.Status, res.Body)
	}
	if res := ts.do("POST", "/server/mode", `{"mode":"production"}`); res.Status != http.StatusOK {
		t.Fatalf("mode: %d %s", res.Status, res.Body)
	}
	if res := ts.do("GET", "/profiles/"+id+"/export", nil); res.Status != http.StatusOK {
		t.Fatalf("export: %d %s", res.Status, res.Body)
	}

	res := ts.do("GET", "/admin/audit", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("audit: %d %s", res.Status, res.Body)
	}
	for _, value := range []string{"Secretname", "secret.example", "5550100", "Gainer"} {
		if strings.Contains(string(res.Body), value) {
			t.Errorf("the audit trail holds the value %q: %s", value, res.Body)
		}
	}
	var page auditPage
	res.JSON(t, &page)
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Op+" by "+e.Actor)
	}
	want := []string{
		"export by admin (loopback)",
		"server.mode.production by admin (loopback)",
		`schema.key.create by user "ops"`,
		`create by egain user "demo"`,
		`records.insert by api key "crm"`,
		`create by api key "crm"`,
		"schema.sync by profiled (start)", // a new store's indexes are built at start
	}
	if !slices.Equal(got, want) {
		t.Fatalf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range page.Entries { // every operation the trail records is one a query may name
		if p := ts.audit(t, "op="+url.QueryEscape(e.Op)); len(p.Entries) == 0 {
			t.Errorf("op=%s finds nothing", e.Op)
		}
	}
	// The listed operation server.mode finds its variants.
	if p := ts.audit(t, "op=server.mode"); len(p.Entries) != 1 || p.Entries[0].Op != "server.mode.production" {
		t.Errorf("op=server.mode finds %+v", p.Entries)
	}
	create := page.Entries[5]
	if !slices.Equal(create.Customers, []string{id}) || create.RequestID != "req-1" || create.Client == "" ||
		!slices.Equal(create.Attributes, []string{"EmailAddress", "FirstName", "LastName"}) || !slices.Equal(create.Extensions, []string{"Phone"}) {
		t.Errorf("create entry: %+v", create)
	}
	if k := page.Entries[2]; !slices.Equal(k.Keys, []string{"title_key"}) {
		t.Errorf("schema entry names keys %v", k.Keys)
	}

	// Filters.
	byCustomer := ts.audit(t, "customer_id="+id)
	if len(byCustomer.Entries) != 3 {
		t.Errorf("customer %s has %d entries, want create, insert, export", id, len(byCustomer.Entries))
	}
	if p := ts.audit(t, "actor="+url.QueryEscape(`egain user "demo"`)); len(p.Entries) != 1 || p.Entries[0].Customers[0] == id {
		t.Errorf("by the eGain user: %+v (eGain customer %s)", p.Entries, num)
	}
	if p := ts.audit(t, "op=create&limit=1"); len(p.Entries) != 1 || p.Next == "" {
		t.Fatalf("op=create, limit 1: %+v", p)
	} else if rest := ts.audit(t, "op=create&before="+p.Next); len(rest.Entries) != 1 || rest.Entries[0].Actor != `api key "crm"` {
		t.Errorf("the next page: %+v", rest)
	}
	// An upper bound before every entry lists none: the zero time too, which
	// the listing takes for "no bound", and a bound before the epoch.
	for _, q := range []string{"to=0001-01-01T00:00:00Z", "to=0001-01-01", "to=1969-07-20T20:17:00Z", "to=1970-01-01T00:00:00Z"} {
		if p := ts.audit(t, q); len(p.Entries) != 0 {
			t.Errorf("%s lists %d entries, want none", q, len(p.Entries))
		}
	}
	if p := ts.audit(t, "from=2000-01-01&to=2000-12-31"); len(p.Entries) != 0 {
		t.Errorf("a window without writes: %+v", p)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if p := ts.audit(t, "from="+today+"&to="+today); len(p.Entries) != len(page.Entries) {
		t.Errorf("from=to=today (the whole day) lists %d entries, want all %d", len(p.Entries), len(page.Entries))
	}

	// The export lists the customer's trail, its own entry first.
	res = ts.do("GET", "/profiles/"+id+"/export", nil)
	var export struct {
		Audit []auditEntry `json:"audit"`
	}
	res.JSON(t, &export)
	if len(export.Audit) != 4 || export.Audit[0].Op != "export" || export.Audit[3].Op != "create" {
		t.Errorf("export's audit: %+v", export.Audit)
	}
}

// TestAudit_BadQueries: each malformed listing answers 400 with the
// admin error shape.
func TestAudit_BadQueries(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	for _, q := range []string{"from=yesterday", "to=2026-13-01", "limit=0", "limit=1001", "limit=x", "before=zzz", "before=1.2.3",
		"colour=red", "op=a&op=b", "op=bogus", "from=2026-02-01&to=2026-01-01",
		"customer_id=", "actor=", "op=", "op=erase.anything", "op=server.mode.x"} {
		res := ts.do("GET", "/admin/audit?"+q, nil)
		var body map[string]any
		if res.Status != http.StatusBadRequest || json.Unmarshal(res.Body, &body) != nil || body["code"] == nil || body["message"] == nil {
			t.Errorf("%s: %d %s", q, res.Status, res.Body)
		}
	}
}

// TestAudit_Reads: reads are not audited by default; audit.reads: true
// counts them per actor in /metrics; every writes an entry per read.
func TestAudit_Reads(t *testing.T) {
	t.Parallel()
	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		ts := mustStart(t)
		id := ts.mustCreate(`{"FirstName":"R"}`)
		ts.do("GET", "/profiles/"+id, nil)
		if p := ts.audit(t, "op=read"); len(p.Entries) != 0 {
			t.Errorf("a read was audited by default: %+v", p)
		}
		if strings.Contains(string(ts.do("GET", "/metrics", nil).Body), "profiled_audit_reads_total") {
			t.Error("read counter without audit.reads")
		}
	})
	t.Run("Counted", func(t *testing.T) {
		t.Parallel()
		ts := mustStartWith(t, configWith(t, "  reads: false", "  reads: true"), t.TempDir()+"/p.db")
		id := ts.mustCreate(`{"FirstName":"R","EmailAddress":["r@x.dom"]}`)
		ts.do("GET", "/profiles/"+id, nil)
		ts.do("GET", "/profiles?EmailAddress=r@x.dom", nil)
		if !strings.Contains(string(ts.do("GET", "/metrics", nil).Body), `profiled_audit_reads_total{actor="anonymous"} 2`) {
			t.Error("two reads are not counted for the anonymous actor")
		}
		if p := ts.audit(t, "op=read"); len(p.Entries) != 0 {
			t.Errorf("counted reads wrote entries: %+v", p)
		}
	})
	t.Run("Every", func(t *testing.T) {
		t.Parallel()
		ts := mustStartWith(t, configWith(t, "  reads: false", "  reads: every"), t.TempDir()+"/p.db")
		id := ts.mustCreate(`{"FirstName":"R","EmailAddress":["r@x.dom"]}`)
		ts.do("GET", "/profiles/"+id, nil)
		ts.do("GET", "/profiles?EmailAddress=r@x.dom", nil)
		p := ts.audit(t, "op=read")
		if len(p.Entries) != 2 || !slices.Equal(p.Entries[0].Customers, []string{id}) {
			t.Errorf("read entries: %+v", p)
		}
	})
}

// startWithPrivacyRole starts profiled with an admin token, privacy_role
// administrator, the key dpo-key of an administrator bound to tenant acme
// and crm-key of an agent.
func startWithPrivacyRole(t *testing.T) *testServer {
	t.Helper()
	cfg := authConfig(t, `      - {name: dpo, key_sha256: "KEY(dpo-key)", role: administrator, tenants: [acme]}
      - {name: crm, key_sha256: "KEY(crm-key)", role: agent}`, "",
		`  token: ""`, `  token: "admin-secret"`,
		`  privacy_role: ""`, `  privacy_role: administrator`)
	return mustStartWith(t, cfg, t.TempDir()+"/p.db")
}

// TestAudit_PrivacyRole: with admin.privacy_role, Genesys credentials of
// that role reach export, erase and the audit trail for their tenants and
// are named as the actor; other roles need the admin token, and other
// tenants are 403.
func TestAudit_PrivacyRole(t *testing.T) {
	t.Parallel()
	ts := startWithPrivacyRole(t)
	dpo := []string{"X-API-Key", "dpo-key", "X-Genesys-TenantId", "acme"}
	id := ts.mustCreate(`{"FirstName":"Priv"}`, "X-API-Key", "crm-key", "X-Genesys-TenantId", "acme")
	if res := ts.do("GET", "/profiles/"+id+"/export", nil, dpo...); res.Status != http.StatusOK {
		t.Fatalf("export by the privacy role: %d %s", res.Status, res.Body)
	}
	page := ts.audit(t, "op=export", dpo...)
	if len(page.Entries) != 1 || page.Entries[0].Actor != `api key "dpo"` {
		t.Errorf("the export's entry: %+v", page.Entries)
	}
	for _, who := range [][]string{
		{"X-API-Key", "crm-key", "X-Genesys-TenantId", "acme"}, // another role
		{"X-Genesys-TenantId", "acme"},                         // nobody
	} {
		wantError(t, ts.do("GET", "/admin/audit", nil, who...), http.StatusUnauthorized, "UNAUTHORIZED")
		wantError(t, ts.do("POST", "/profiles/"+id+"/erase", nil, who...), http.StatusUnauthorized, "UNAUTHORIZED")
	}
	// The privacy role's credential for a tenant it is not bound to: 403,
	// as on every other route.
	for _, tenant := range [][]string{{"X-Genesys-TenantId", "other"}, nil} {
		who := append([]string{"X-API-Key", "dpo-key"}, tenant...)
		wantError(t, ts.do("GET", "/admin/audit", nil, who...), http.StatusForbidden, "FORBIDDEN")
		wantError(t, ts.do("POST", "/profiles/"+id+"/erase", nil, who...), http.StatusForbidden, "FORBIDDEN")
	}
	// The privacy role's credential with a malformed tenant header: 400, not 401.
	for _, tenant := range []string{"", "not a tenant!"} {
		wantError(t, ts.do("GET", "/admin/audit", nil, "X-API-Key", "dpo-key", "X-Genesys-TenantId", tenant), http.StatusBadRequest, "INVALID_TENANT")
	}
	if p := ts.audit(t, "", "Authorization", "Bearer admin-secret", "X-Genesys-TenantId", "acme"); len(p.Entries) != 2 {
		t.Errorf("the admin token reads %d entries, want create and export", len(p.Entries))
	}
}

// TestAudit_PrivacyRoleBesideTheAdminToken: a privacy-role credential's
// tenant binding gives way when the request also carries the admin token
// (docs/privacy.md, "Who may call these"), and the same key is judged alike
// whether it comes as X-API-Key or as Authorization: Bearer (security.md:
// either form is the API key).
func TestAudit_PrivacyRoleBesideTheAdminToken(t *testing.T) {
	t.Parallel()
	ts := startWithPrivacyRole(t)
	id := ts.mustCreate(`{"FirstName":"Acme"}`, "X-API-Key", "dpo-key", "X-Genesys-TenantId", "acme")
	other := ts.mustCreate(`{"FirstName":"Home"}`, "X-API-Key", "crm-key") // the default tenant
	both := []string{"X-API-Key", "dpo-key", "Authorization", "Bearer admin-secret"}
	if res := ts.do("GET", "/profiles/"+other+"/export", nil, both...); res.Status != http.StatusOK {
		t.Errorf("export of another tenant's customer with the admin token beside the dpo key: %d %s, want 200", res.Status, res.Body)
	}
	if res := ts.do("GET", "/admin/audit", nil, append(both, "X-Genesys-TenantId", "acme")...); res.Status != http.StatusOK {
		t.Errorf("audit with the admin token beside the dpo key: %d %s, want 200", res.Status, res.Body)
	}
	// The dpo key as a bearer credential for a tenant it is not bound to:
	// 403 FORBIDDEN, as with X-API-Key, not the admin guard's 401.
	for _, tenant := range [][]string{{"X-Genesys-TenantId", "other"}, nil} {
		who := append([]string{"Authorization", "Bearer dpo-key"}, tenant...)
		wantError(t, ts.do("GET", "/admin/audit", nil, who...), http.StatusForbidden, "FORBIDDEN")
		wantError(t, ts.do("POST", "/profiles/"+other+"/erase", nil, who...), http.StatusForbidden, "FORBIDDEN")
	}
	if res := ts.do("GET", "/profiles/"+id, nil, "X-API-Key", "dpo-key", "X-Genesys-TenantId", "acme"); res.Status != http.StatusOK {
		t.Errorf("the dpo key's own customer: %d", res.Status)
	}
}

// TestAudit_Backup: a hot backup, a copy of every customer, is recorded
// with who asked for it, before it streams.
func TestAudit_Backup(t *testing.T) {
	t.Parallel()
	boltOnly(t, "a PostgreSQL store is backed up with pg_dump")
	ts := mustStart(t)
	ts.mustCreate(`{"FirstName":"Copied"}`)
	if res := ts.do("GET", "/admin/backup", nil); res.Status != http.StatusOK {
		t.Fatalf("backup: %d", res.Status)
	}
	page := ts.audit(t, "op=backup")
	if len(page.Entries) != 1 || page.Entries[0].Actor != "admin (loopback)" {
		t.Errorf("backup entries %+v, want one by admin (loopback)", page.Entries)
	}
}

// TestAudit_PreconditionIsNoRead: the revision a conditional write reads
// (a list in If-Match, or If-None-Match) is not a read of the customer.
func TestAudit_PreconditionIsNoRead(t *testing.T) {
	t.Parallel()
	ts := mustStartWith(t, configWith(t, "  reads: false", "  reads: every"), t.TempDir()+"/p.db")
	id := ts.mustCreate(`{"FirstName":"R"}`)
	res := ts.do("PUT", "/profiles/"+id, `{"FirstName":"S"}`, "If-None-Match", `"9"`)
	if res.Status != http.StatusOK {
		t.Fatalf("PUT with If-None-Match: %d %s", res.Status, res.Body)
	}
	if res := ts.do("PUT", "/profiles/"+id, `{"FirstName":"T"}`, "If-Match", `"1", `+res.Header.Get("ETag")); res.Status != http.StatusOK {
		t.Fatalf("PUT with an If-Match list: %d %s", res.Status, res.Body)
	}
	if p := ts.audit(t, "op=read"); len(p.Entries) != 0 {
		t.Errorf("a precondition's revision read was audited as a read: %+v", p.Entries)
	}
}

// TestAudit_LongRetentionKeepsEntries: an operator who means "keep the
// trail for good" sets a large audit.retention_days; the sweep must never
// wipe the trail (days times 24 h overflowed time.Duration past 106,751
// days and put the cutoff in the future: retention_days 1000000 deleted
// every entry at every sweep). The config refuses such a value
// (config.TestLoad_Errors); an App given one anyway keeps its entries.
func TestAudit_LongRetentionKeepsEntries(t *testing.T) {
	t.Parallel()
	boltOnly(t, "the sweep's cutoff is computed before the store is asked")
	cfg, err := config.Load(configWith(t, "sweep_every: 1h", "sweep_every: 20ms"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Audit.RetentionDays = 1000000
	cfg.Store.Path = filepath.Join(t.TempDir(), "p.db")
	app, err := server.New(cfg, zerolog.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{tb: t, App: app, HTTP: httptest.NewServer(app.Echo), data: cfg.Store.Path}
	ts.URL = ts.HTTP.URL
	t.Cleanup(ts.stop)
	id := ts.mustCreate(`{"FirstName":"Kept"}`)
	time.Sleep(300 * time.Millisecond) // several sweeps
	if p := ts.audit(t, "customer_id="+id); len(p.Entries) != 1 || p.Entries[0].Op != "create" {
		t.Fatalf("with retention_days 1000000, the create's entry is gone after a sweep: %+v", p.Entries)
	}
}

// TestAudit_ReadsNameWhatWasAnswered: with audit.reads: every, an eGain
// read names the customers its answer holds, not every candidate it
// loaded: a customer of a department the user may not see (the search
// answers 204, the get 403) and customers past the page were not read by
// that user, and an entry saying so would put a read that never happened
// in their trail and in their export.
func TestAudit_ReadsNameWhatWasAnswered(t *testing.T) {
	t.Parallel()
	cfg := configWith(t, "  reads: false", "  reads: every",
		"departmentalization: false", "departmentalization: true",
		`    - {id: "1000", name: Service}`, `    - {id: "1000", name: Service}
    - {id: "2000", name: Sales}`,
		`      foreign_departments: ["*"]`, `      foreign_departments: ["*"]
    - name: service-agent
      password_hash: "`+testPasswordHash()+`"
      permissions: [view_agent_console]
      home_department: Service`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	demo := egLogin(t, ts)
	sales := `{"department":{"name":"Sales"},` + strings.TrimPrefix(egIndividual("Sal", "Sales", "sal@sales.example", ""), "{")
	num := egCreate(t, ts, demo, sales, "")
	res := ts.do("POST", "/ws/v12/authentication/user/login", `{"userName":"service-agent","password":"`+testPassword+`"}`, "Content-Type", "application/json")
	agent := res.Header.Get(egSession)
	if res.Status != http.StatusNoContent || agent == "" {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	asAgent := []string{egSession, agent, "Accept", "application/json"}
	if res := ts.do("GET", "/ws/v12/interaction/customer?email=sal@sales.example", nil, asAgent...); res.Status != http.StatusNoContent {
		t.Fatalf("search for another department's customer: %d %s, want 204", res.Status, res.Body)
	}
	if res := ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, asAgent...); res.Status != http.StatusForbidden {
		t.Fatalf("get of another department's customer: %d %s, want 403", res.Status, res.Body)
	}
	if p := ts.audit(t, "op=read"); len(p.Entries) != 0 {
		t.Errorf("reads the user was refused are in the trail: %+v", p.Entries)
	}

	var family []string
	for _, name := range []string{"One", "Two", "Three"} {
		family = append(family, ts.mustCreate(`{"FirstName":"`+name+`","EmailAddress":["family@shared.example"]}`))
	}
	res = ts.do("GET", "/ws/v12/interaction/customer?email=family@shared.example&$pagesize=1", nil, egSession, demo, "Accept", "application/json")
	if res.Status != http.StatusOK {
		t.Fatalf("search, a page of one: %d %s", res.Status, res.Body)
	}
	p := ts.audit(t, "op=read&actor="+url.QueryEscape(`egain user "demo"`))
	if len(p.Entries) != 1 || len(p.Entries[0].Customers) != 1 || !slices.Contains(family, p.Entries[0].Customers[0]) {
		t.Errorf("a page of one of %v is audited as %+v, want one entry naming the customer answered", family, p.Entries)
	}
	// A search answered whole, in one load, names all it answered.
	if res := ts.do("GET", "/ws/v12/interaction/customer?email=family@shared.example", nil, egSession, demo, "Accept", "application/json"); res.Status != http.StatusOK {
		t.Fatalf("search: %d %s", res.Status, res.Body)
	}
	p = ts.audit(t, "op=read&actor="+url.QueryEscape(`egain user "demo"`))
	if len(p.Entries) != 2 || len(p.Entries[0].Customers) != 3 {
		t.Errorf("a search answering %v is audited as %+v, want an entry naming the three", family, p.Entries)
	}
}

// TestAudit_NamesOnlyExtensionsWritten: an entry names the extensions
// whose records the write changed, through both APIs. An eGain create of
// a customer with one person and no contact point, custom attribute or
// phone hands the store empty sets of those; a Genesys create may send
// "Phone": []; a merge whose source has no Phone records leaves the
// destination's as they were. None of these wrote a record of them, and
// an auditor reading the entry must not be told that they did.
func TestAudit_NamesOnlyExtensionsWritten(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	egCreate(t, ts, session, egIndividual("Only", "Person", "", ""), "")
	if p := ts.audit(t, "op=create"); len(p.Entries) != 1 || !slices.Equal(p.Entries[0].Extensions, []string{"ContactPerson", "EgainCustomer"}) {
		t.Errorf("eGain create of a person without contact points: %+v, want extensions ContactPerson and EgainCustomer", p.Entries)
	}
	id := ts.mustCreate(`{"FirstName":"Empty","Phone":[],"Activity":[]}`)
	if p := ts.audit(t, "customer_id="+id); len(p.Entries) != 1 || len(p.Entries[0].Extensions) != 0 {
		t.Errorf("Genesys create with empty record sets: %+v, want no extension", p.Entries)
	}
	dest := ts.mustCreate(`{"FirstName":"Dest","Phone":[{"PhoneNumber":"5550100"}]}`)
	src := ts.mustCreate(`{"FirstName":"Src","EmailAddress":["src@x.dom"]}`)
	if res := ts.do("PUT", "/profiles/"+dest+"/merge/"+src, `{}`); res.Status != http.StatusNoContent {
		t.Fatalf("merge: %d %s", res.Status, res.Body)
	}
	if p := ts.audit(t, "op=merge"); len(p.Entries) != 1 || len(p.Entries[0].Extensions) != 0 ||
		!slices.Equal(p.Entries[0].Attributes, []string{"EmailAddress", "FirstName"}) {
		t.Errorf("merge of a source without records: %+v, want attributes EmailAddress and FirstName, no extension", p.Entries)
	}
}
