package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/internal/pgtest"
)

// TestStoreOutage_OneErrorLinePerRequest: while the database is down, a
// request that fails logs its failure once, on its request line (CONTRACT:
// "one zerolog JSON line per request"), and no line at error level that
// names no request: an eGain login and a Genesys basic-auth read each
// added error lines of the login throttle, without a request_id, so the
// log of an outage held two or three errors per request, of which the
// extra ones could not be tied to any request.
func TestStoreOutage_OneErrorLinePerRequest(t *testing.T) {
	t.Parallel()
	if onPostgres() {
		t.Skip("runs on a PostgreSQL cluster of its own: the bbolt pass runs it")
	}
	cluster := pgtest.StartCluster(t)
	cfg := authConfig(t, "", `      - {name: ops, password_hash: "PW", role: administrator}`)
	ts, logs := startLogged(t, cfg, "", cluster.URL())
	if res := ts.do("GET", "/profiles?EmailAddress=a@b.c", nil, "Authorization", basicAuth("ops", testPassword)); res.Status != http.StatusOK {
		t.Fatalf("identify before the outage: %d %s", res.Status, res.Body)
	}
	cluster.Stop("immediate")
	defer cluster.Start()

	for _, tc := range []struct {
		name, method, path, body string
		headers                  []string
		code                     string
	}{
		{"eGain login", "POST", "/ws/v12/authentication/user/login", `{"userName":"demo","password":"demo"}`,
			[]string{"Accept", "application/json"}, "503-101"},
		{"Genesys basic auth", "GET", "/profiles?EmailAddress=a@b.c", "",
			[]string{"Authorization", basicAuth("ops", testPassword)}, "STORE_UNAVAILABLE"},
	} {
		rid := strings.ReplaceAll(tc.name, " ", "-")
		before := len(logs.String())
		var body any
		if tc.body != "" {
			body = tc.body
		}
		res := ts.do(tc.method, tc.path, body, append(tc.headers, echo.HeaderXRequestID, rid)...)
		if res.Status != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), tc.code) {
			t.Errorf("%s while the database is down: %d %s, want 503 %s", tc.name, res.Status, res.Body, tc.code)
		}
		var errorLines []string
		for _, l := range strings.Split(strings.TrimSpace(logs.String()[before:]), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["level"] == "error" {
				errorLines = append(errorLines, l)
				if m["request_id"] != rid {
					t.Errorf("%s: an error line that names no request (or another): %s", tc.name, l)
				}
			}
		}
		if len(errorLines) != 1 {
			t.Errorf("%s: %d error lines for one failed request, want 1:\n%s", tc.name, len(errorLines), strings.Join(errorLines, "\n"))
		}
	}
}
