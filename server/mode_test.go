package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestServerMode: POST /server/mode as the vendor documents it (mode
// case-insensitive) → 200, Location /server/status, {"server changed":…}.
// In maintenance, profile data operations of both APIs answer 503 naming
// the mode while schema operations work; the mode survives a restart.
func TestServerMode(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Before"}`)
	session := egLogin(t, ts)
	res := ts.do("POST", "/server/mode", `{"mode":"MAINTENANCE"}`)
	if res.Status != http.StatusOK || res.Header.Get("Location") != "/server/status" || string(res.Body) != `{"server changed":"maintenance"}`+"\n" {
		t.Fatalf("switch: %d %q %s", res.Status, res.Header.Get("Location"), res.Body)
	}
	var status struct{ Mode string }
	ts.do("GET", "/server/status", nil).JSON(t, &status)
	if status.Mode != "maintenance" {
		t.Errorf("status %+v", status)
	}
	maintenance := func() {
		t.Helper()
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/profiles/" + id, ""},
			{"POST", "/profiles", `{"FirstName":"During"}`},
			{"GET", "/genesys/1/cs/profiles?EmailAddress=a@b.c", ""},
		} {
			res := ts.do(r.method, r.path, r.body)
			wantError(t, res, http.StatusServiceUnavailable, "MAINTENANCE_MODE")
			if !strings.Contains(string(res.Body), "maintenance") {
				t.Errorf("%s %s: the body does not name the mode: %s", r.method, r.path, res.Body)
			}
			if after := res.Header.Get("Retry-After"); after != "" { // the mode lasts as long as the operator needs
				t.Errorf("%s %s: Retry-After %s in maintenance", r.method, r.path, after)
			}
		}
		wantWSError(t, ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "Accept", "application/json"), http.StatusServiceUnavailable, "503-101", "application/json")
		if res := ts.do("POST", "/metadata/identification-keys", `{"name":"title","attributes":["Title"]}`); res.Status != http.StatusCreated {
			t.Errorf("a schema operation in maintenance: %d %s", res.Status, res.Body)
		}
		if res := ts.do("GET", "/metadata/profiles", nil); res.Status != http.StatusOK {
			t.Errorf("schema read in maintenance: %d", res.Status)
		}
	}
	maintenance()
	ts = ts.restart()
	session = egLogin(t, ts)
	ts.do("GET", "/server/status", nil).JSON(t, &status)
	if status.Mode != "maintenance" {
		t.Errorf("after a restart the mode is %q", status.Mode)
	}
	wantError(t, ts.do("GET", "/profiles/"+id, nil), http.StatusServiceUnavailable, "MAINTENANCE_MODE")
	for _, bad := range []string{`{"mode":"sleepy"}`, `{}`, `{"mode":"production","x":1}`, `nope`} {
		if res := ts.do("POST", "/server/mode", bad); res.Status != http.StatusBadRequest {
			t.Errorf("mode body %s: %d %s", bad, res.Status, res.Body)
		}
	}
	if res := ts.do("POST", "/server/mode", `{"mode":"Production"}`); res.Status != http.StatusOK {
		t.Fatalf("back to production: %d %s", res.Status, res.Body)
	}
	if res := ts.do("GET", "/profiles/"+id, nil); res.Status != http.StatusOK {
		t.Errorf("a read in production: %d %s", res.Status, res.Body)
	}
}

// TestNoParameters_AdminAndMetadata: the operator, export and metadata
// routes take no query parameter; one given is 400 BAD_PARAMETER and nothing is done
// (an operator's "dry run" of a mode switch must not stop every replica).
func TestNoParameters_AdminAndMetadata(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/server/mode?dryRun=true", `{"mode":"maintenance"}`},
		{"GET", "/server/status?verbose=1", ""},
		{"POST", "/admin/reload?dryRun=true", ""},
		{"GET", "/admin/schema?x=1", ""},
		{"POST", "/admin/check?x=1", ""},
		{"GET", "/metadata/profiles?x=1", ""},
		{"GET", "/metadata/profiles/extensions?x=1", ""},
		{"GET", "/metadata/profiles/extensions/Phone?x=1", ""},
		{"GET", "/metadata/identification-keys?x=1", ""},
		{"GET", "/metadata/identification-keys/email?x=1", ""},
		{"GET", "/profiles/nobody/export?x=1", ""},
		{"GET", "/admin/egain/customer/1/export?x=1", ""},
	} {
		res := ts.do(r.method, r.path, r.body)
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `"code":"BAD_PARAMETER"`) {
			t.Errorf("%s %s: %d %s, want 400 BAD_PARAMETER", r.method, r.path, res.Status, res.Body)
		}
	}
	var status struct{ Mode string }
	ts.do("GET", "/server/status", nil).JSON(t, &status)
	if status.Mode != "production" {
		t.Errorf("mode %q after the refused switch, want production", status.Mode)
	}
}

// TestServerMode_PrivacyWritesOfBothPaths: in maintenance an erase or an
// export is refused (503 MAINTENANCE_MODE) whichever path names the
// customer: POST /profiles/{id}/erase is, and POST
// /admin/egain/customer/{num}/erase, the same operation by eGain id, must
// be too, and must not delete the customer.
func TestServerMode_PrivacyWritesOfBothPaths(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	s := egLogin(t, ts)
	num := egCreate(t, ts, s, egIndividual("Mia", "Maint", "mia@maint.dom", ""), "")
	id := ts.mustCreate(`{"FirstName":"Other"}`)
	if res := ts.do("POST", "/server/mode", `{"mode":"maintenance"}`); res.Status != http.StatusOK {
		t.Fatalf("switch: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("POST", "/profiles/"+id+"/erase", nil), http.StatusServiceUnavailable, "MAINTENANCE_MODE")
	res := ts.do("POST", "/admin/egain/customer/"+num+"/erase", nil)
	if res.Status != http.StatusServiceUnavailable {
		t.Errorf("eGain-path erase in maintenance: %d %s, want 503 MAINTENANCE_MODE as on /profiles/{id}/erase", res.Status, res.Body)
	}
	ts.do("POST", "/server/mode", `{"mode":"production"}`)
	if res := ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, egSession, s, "Accept", "application/json"); res.Status != http.StatusOK {
		t.Errorf("the customer after a refused erase: %d %s", res.Status, res.Body)
	}
}

// TestAdminCheck_SchemaFileNotRead: POST /admin/check takes a config with
// its schema inline only: a schema.file would be the server's to read (any
// file it can open, its first characters quoted back in a problem).
func TestAdminCheck_SchemaFileNotRead(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("supersecret: [value"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := ts.do("POST", "/admin/check", "schema: {file: "+secret+"}\n")
	var answer struct {
		OK       bool `json:"ok"`
		Problems []struct {
			Message string `json:"message"`
		} `json:"problems"`
	}
	res.JSON(t, &answer)
	if res.Status != http.StatusOK || answer.OK || len(answer.Problems) != 1 || !strings.Contains(answer.Problems[0].Message, "separate file") {
		t.Errorf("a config naming a schema file: %d %s", res.Status, res.Body)
	}
	if strings.Contains(string(res.Body), "supersecret") {
		t.Errorf("the answer quotes the file: %s", res.Body)
	}
}

// TestServerMode_AfterAuthentication: in maintenance a caller without
// credentials gets the refusal it gets in production (401), not 503
// naming the mode: the mode says nothing to an unauthenticated caller.
// Authenticated, both APIs answer 503 as before.
func TestServerMode_AfterAuthentication(t *testing.T) {
	t.Parallel()
	cfg := authConfig(t, `      - {name: routing, key_sha256: "KEY(agent-key)", role: agent}`, "")
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	session := egLogin(t, ts)
	if res := ts.do("POST", "/server/mode", `{"mode":"maintenance"}`); res.Status != http.StatusOK {
		t.Fatalf("switch: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("GET", "/profiles?EmailAddress=a@b.c", nil), http.StatusUnauthorized, "UNAUTHENTICATED")
	wantError(t, ts.do("POST", "/profiles", `{"FirstName":"A"}`, "X-API-Key", "guess"), http.StatusUnauthorized, "UNAUTHENTICATED")
	wantError(t, ts.do("GET", "/profiles?EmailAddress=a@b.c", nil, "X-API-Key", "agent-key"), http.StatusServiceUnavailable, "MAINTENANCE_MODE")
	if res := ts.do("GET", "/ws/v12/interaction/customer/1", nil, "Accept", "application/json"); res.Status != http.StatusUnauthorized {
		t.Errorf("eGain read without a session in maintenance: %d %s, want 401", res.Status, res.Body)
	}
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "Accept", "application/json"), http.StatusServiceUnavailable, "503-101", "application/json")
}

// TestServerMode_RefusalsLogAtWarn: maintenance is a state an operator
// chose; the 503s it answers are logged at warn, not at error, where an
// alert on error lines would page for it.
func TestServerMode_RefusalsLogAtWarn(t *testing.T) {
	t.Parallel()
	first := mustStart(t) // on this pass's store
	first.stop()
	ts, logs := startLogged(t, first.config, first.data, first.storeURL)
	if res := ts.do("POST", "/server/mode", `{"mode":"maintenance"}`); res.Status != http.StatusOK {
		t.Fatalf("switch: %d %s", res.Status, res.Body)
	}
	session := egLogin(t, ts)
	wantError(t, ts.do("GET", "/profiles/ANY1", nil, echo.HeaderXRequestID, "maint-genesys"), http.StatusServiceUnavailable, "MAINTENANCE_MODE")
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "Accept", "application/json", echo.HeaderXRequestID, "maint-egain"),
		http.StatusServiceUnavailable, "503-101", "application/json")
	for _, rid := range []string{"maint-genesys", "maint-egain"} {
		lines := linesOf(t, logs, rid)
		if len(lines) != 1 || lines[0]["level"] != "warn" || lines[0]["code"] != "MAINTENANCE_MODE" {
			t.Errorf("%s: log lines %v, want one at warn with code MAINTENANCE_MODE", rid, lines)
		}
	}
}
