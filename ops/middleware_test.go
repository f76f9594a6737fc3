package ops_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/safebuf"
	"github.com/contactcenter/profiled/ops"
)

// newServer runs an Echo app wired the way the lead is told to wire it.
func newServer(t *testing.T, logBuf *safebuf.Buffer, logOpts ...ops.LogOption) (*httptest.Server, *ops.Metrics) {
	t.Helper()
	m := ops.NewMetrics()
	apiOf := ops.APIOf("")
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	// Stands in for the lead's handler, which maps errs kinds to statuses.
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var ee *errs.Error
		if errors.As(err, &ee) && ee.Kind == errs.KindNotFound && !c.Response().Committed {
			c.JSON(http.StatusNotFound, map[string]string{"message": ee.Message, "code": ee.Code})
			return
		}
		e.DefaultHTTPErrorHandler(err, c)
	}
	e.Use(ops.RequestID, ops.RequestLogger(zerolog.New(logBuf), apiOf, logOpts...), m.Middleware(apiOf))
	e.GET("/profiles/:id", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id"), "request_id": ops.RequestIDFrom(c)})
	})
	e.POST("/profiles/:id/fail", func(c echo.Context) error {
		return errors.New("bbolt: database not open")
	})
	e.GET("/profiles/:id/missing", func(c echo.Context) error {
		return errs.NotFound("PROFILE_NOT_FOUND", "no such profile")
	})
	e.GET("/metrics", m.Handler())
	e.HEAD("/profiles/:id", func(c echo.Context) error { // writes a body, as the server's HEAD-as-GET does
		return c.JSON(http.StatusOK, map[string]string{"id": c.Param("id")})
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, m
}

func TestRequestID(t *testing.T) {
	srv, _ := newServer(t, &safebuf.Buffer{})
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)

	resp, body := do(t, "GET", srv.URL+"/profiles/p1", nil, map[string]string{"X-Request-Id": "desk-42.call_7"})
	if got := resp.Header.Get("X-Request-Id"); got != "desk-42.call_7" {
		t.Errorf("echoed id = %q", got)
	}
	if !strings.Contains(body, `"request_id":"desk-42.call_7"`) {
		t.Errorf("RequestIDFrom did not see the id: %s", body)
	}

	for _, sent := range []string{"", "has space", "<script>", strings.Repeat("a", 65)} {
		resp, body := do(t, "GET", srv.URL+"/profiles/p1", nil, map[string]string{"X-Request-Id": sent})
		got := resp.Header.Get("X-Request-Id")
		if !hex32.MatchString(got) {
			t.Errorf("sent %q: generated id %q is not 16 hex bytes", sent, got)
		}
		if !strings.Contains(body, got) {
			t.Errorf("sent %q: handler saw another id than the header: %s", sent, body)
		}
	}
}

func TestRequestLogger(t *testing.T) {
	logs := &safebuf.Buffer{}
	srv, _ := newServer(t, logs)
	secrets := map[string]string{
		"Authorization":      "Bearer top-secret-token",
		"X-egain-session":    "sess-secret-xyz",
		"X-Genesys-TenantId": "tenant-a",
		"X-Request-Id":       "req-1",
	}

	do(t, "GET", srv.URL+"/profiles/cust-4711?password=hunter2&q=secret-search", nil, secrets)
	lines := waitLines(t, logs, 1)
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("log line is not JSON: %v\n%s", err, lines[0])
	}
	want := map[string]any{
		"level": "info", "request_id": "req-1", "method": "GET", "route": "/profiles/:id",
		"status": 200.0, "bytes_in": 0.0, "api": "genesys", "tenant": "tenant-a", "remote_ip": "127.0.0.1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["latency_ms"].(float64); !ok {
		t.Errorf("latency_ms missing: %v", got)
	}
	if n, _ := got["bytes_out"].(float64); n <= 0 {
		t.Errorf("bytes_out = %v", got["bytes_out"])
	}

	// HEAD: the handler's body is not sent, nor counted.
	do(t, "HEAD", srv.URL+"/profiles/cust-4711", nil, nil)
	lines = waitLines(t, logs, 2)
	var head map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &head); err != nil {
		t.Fatal(err)
	}
	if head["method"] != "HEAD" || head["bytes_out"] != 0.0 {
		t.Errorf("HEAD line: %v", head)
	}

	// A failing handler, a 4xx with an errs code, and an unmatched path.
	do(t, "POST", srv.URL+"/profiles/cust-4711/fail", strings.NewReader(`{"password":"hunter2"}`), secrets)
	do(t, "GET", srv.URL+"/profiles/cust-4711/missing", nil, nil)
	do(t, "GET", srv.URL+"/nope/cust-4711?password=hunter2", nil, secrets)
	lines = waitLines(t, logs, 5)

	var failed, missing, unmatched map[string]any
	for i, dst := range []*map[string]any{&failed, &missing, &unmatched} {
		if err := json.Unmarshal([]byte(lines[i+2]), dst); err != nil {
			t.Fatal(err)
		}
	}
	if failed["level"] != "error" || failed["status"] != 500.0 || failed["error"] != "bbolt: database not open" ||
		failed["route"] != "/profiles/:id/fail" || failed["bytes_in"] != 22.0 {
		t.Errorf("5xx line: %v", failed)
	}
	if missing["level"] != "info" || missing["status"] != 404.0 || missing["code"] != "PROFILE_NOT_FOUND" || missing["error"] != nil {
		t.Errorf("4xx line: %v", missing)
	}
	if unmatched["route"] != ops.Unmatched || unmatched["status"] != 404.0 || unmatched["api"] != "other" {
		t.Errorf("unmatched line: %v", unmatched)
	}

	all := logs.String()
	for _, leak := range []string{"cust-4711", "hunter2", "secret-search", "top-secret-token", "sess-secret-xyz", "Bearer", "/nope"} {
		if strings.Contains(all, leak) {
			t.Errorf("log leaks %q:\n%s", leak, all)
		}
	}
}

func TestMetricsRouteLabels(t *testing.T) {
	srv, m := newServer(t, &safebuf.Buffer{})
	if err := m.RegisterCountFunc("profiled_profiles", "Stored profiles.", func() (float64, error) { return 42, nil }); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterCountFunc("profiled_profiles", "again", func() (float64, error) { return 0, nil }); err == nil {
		t.Error("registering a metric name twice succeeded")
	}

	for _, id := range []string{"a1", "b2", "c3"} {
		do(t, "GET", srv.URL+"/profiles/"+id, nil, nil)
	}
	for _, p := range []string{"/random/1", "/random/2", "/.env"} {
		do(t, "GET", srv.URL+p, nil, nil)
	}
	do(t, "BREW", srv.URL+"/coffee/pot-9", nil, nil)
	_, text := do(t, "GET", srv.URL+"/metrics", nil, nil)

	label := regexp.MustCompile(`(?m)^profiled_http_requests_total\{api="([^"]*)",method="([^"]*)",route="([^"]*)",status="([^"]*)"\} (\S+)$`)
	got := map[string]string{}
	for _, s := range label.FindAllStringSubmatch(text, -1) {
		got[strings.Join(s[1:5], " ")] = s[5]
	}
	want := map[string]string{
		"genesys GET /profiles/:id 200": "3",
		"other GET unmatched 404":       "3",
		"other OTHER unmatched 404":     "1",
	}
	if len(got) != len(want) {
		t.Errorf("series = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	for _, leak := range []string{"a1", "/random", ".env", "BREW", "pot-9"} {
		if strings.Contains(text, `"`+leak) || strings.Contains(text, leak+`"`) {
			t.Errorf("metrics leak %q", leak)
		}
	}
	for _, name := range []string{
		`profiled_http_request_duration_seconds_count{api="genesys",method="GET",route="/profiles/:id"} 3`,
		"profiled_profiles 42", "go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(text, name) {
			t.Errorf("metrics lack %q", name)
		}
	}
}

func TestHealth(t *testing.T) {
	var notReady error = errors.New("store closed")
	e := echo.New()
	e.GET("/livez", ops.Livez)
	e.GET("/readyz", ops.Readyz(func() error { return notReady }, nil))
	srv := httptest.NewServer(e)
	defer srv.Close()

	if resp, body := do(t, "GET", srv.URL+"/livez", nil, nil); resp.StatusCode != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("livez: %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "GET", srv.URL+"/readyz", nil, nil); resp.StatusCode != 503 ||
		strings.TrimSpace(body) != `{"reason":"store closed","status":"unavailable"}` {
		t.Errorf("readyz not ready: %d %s", resp.StatusCode, body)
	}
	if err := ops.Healthcheck(srv.URL+"/readyz", time.Second); err == nil {
		t.Error("Healthcheck passed on 503")
	}
	// A store's classified error says its client message, not the driver's
	// cause, which names the database, its user and its address.
	notReady = &errs.Error{Kind: errs.KindUnavailable, Code: "STORE_UNAVAILABLE", Message: "the profile store is unavailable; retry later",
		Err: errors.New("failed to connect to `user=postgres database=prod`: 10.0.0.5:5432")}
	if resp, body := do(t, "GET", srv.URL+"/readyz", nil, nil); resp.StatusCode != 503 ||
		strings.TrimSpace(body) != `{"reason":"the profile store is unavailable; retry later","status":"unavailable"}` {
		t.Errorf("readyz with the store down: %d %s", resp.StatusCode, body)
	}

	notReady = nil
	if resp, body := do(t, "GET", srv.URL+"/readyz", nil, nil); resp.StatusCode != 200 || strings.TrimSpace(body) != `{"status":"ready"}` {
		t.Errorf("readyz ready: %d %s", resp.StatusCode, body)
	}
	if err := ops.Healthcheck(srv.URL+"/readyz", time.Second); err != nil {
		t.Errorf("Healthcheck on 200: %v", err)
	}
	srv.Close()
	if err := ops.Healthcheck(srv.URL+"/readyz", time.Second); err == nil {
		t.Error("Healthcheck passed with the server down")
	}
}

func TestHealthcheckURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/readyz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/readyz",
		"[::]:8080":      "http://[::1]:8080/readyz",
		"10.1.2.3:8080":  "http://10.1.2.3:8080/readyz",
		"localhost:8081": "http://localhost:8081/readyz",
	} {
		if got, err := ops.HealthcheckURL(addr); err != nil || got != want {
			t.Errorf("HealthcheckURL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := ops.HealthcheckURL("8080"); err == nil {
		t.Error("HealthcheckURL accepted an address without a port")
	}
}

func TestAdminGuard(t *testing.T) {
	ok := func(c echo.Context) error { return c.String(http.StatusOK, "admin") }
	newApp := func(token string) *echo.Echo {
		e := echo.New()
		e.GET("/admin/ping", ok, ops.AdminGuard(token))
		return e
	}

	withToken := httptest.NewServer(newApp("s3cret"))
	defer withToken.Close()
	for _, tc := range []struct {
		auth string
		want int
	}{
		{"Bearer s3cret", 200},
		{"bearer s3cret", 200},
		{"Bearer wrong", 401},
		{"Bearer s3cret2", 401},
		{"Basic s3cret", 401},
		{"", 401},
	} {
		resp, body := do(t, "GET", withToken.URL+"/admin/ping", nil, map[string]string{"Authorization": tc.auth})
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
		if tc.want == 401 && (!strings.Contains(body, `"code":"UNAUTHORIZED"`) || resp.Header.Get("WWW-Authenticate") != "Bearer") {
			t.Errorf("401 answer: %v %s", resp.Header, body)
		}
	}

	noToken := httptest.NewServer(newApp(""))
	defer noToken.Close()
	if resp, _ := do(t, "GET", noToken.URL+"/admin/ping", nil, nil); resp.StatusCode != 200 {
		t.Errorf("loopback without token: %d", resp.StatusCode)
	}

	// A crafted request stands for a remote peer; no traffic leaves the test.
	remote := func(e *echo.Echo, auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/admin/ping", nil)
		req.RemoteAddr = "10.0.0.1:1234"
		req.Header.Set("X-Forwarded-For", "127.0.0.1")
		req.Header.Set("X-Real-IP", "127.0.0.1")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	if rec := remote(newApp(""), ""); rec.Code != 403 || !strings.Contains(rec.Body.String(), `"code":"FORBIDDEN"`) {
		t.Errorf("remote without token: %d %s", rec.Code, rec.Body)
	}
	if rec := remote(newApp("s3cret"), "Bearer s3cret"); rec.Code != 200 {
		t.Errorf("remote with token: %d", rec.Code)
	}
}

func TestAPIOf(t *testing.T) {
	apiOf := ops.APIOf("/genesys/1/cs/")
	for path, want := range map[string]string{
		"/profiles":                     "genesys",
		"/profiles/abc/extensions":      "genesys",
		"/metadata/profiles":            "genesys",
		"/genesys/1/cs/profiles/abc":    "genesys",
		"/ws/v12/customers":             "egain",
		"/system/ws/v12/authentication": "egain",
		"/livez":                        "ops",
		"/admin/backup":                 "ops",
		"/docs/openapi.yaml":            "ops",
		"/server/mode":                  "ops",
		"/server/status":                "ops",
		"/serverX":                      "other",
		"/profilesX":                    "other",
		"/":                             "other",
	} {
		if got := apiOf(path); got != want {
			t.Errorf("APIOf(%q) = %q, want %q", path, got, want)
		}
	}
}

// TestRequestLogger_ProbesAtDebug: monitors poll /metrics (and the health
// probes) every few seconds; with log.probes_at_debug those requests log at
// debug level (not shown at info), other requests at info.
func TestRequestLogger_ProbesAtDebug(t *testing.T) {
	logs := &safebuf.Buffer{}
	srv, _ := newServer(t, logs, ops.ProbesAtDebug(true))
	do(t, "GET", srv.URL+"/metrics", nil, nil)
	do(t, "GET", srv.URL+"/profiles/p1", nil, nil)
	var levels []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry struct{ Level, Route string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		levels = append(levels, entry.Route+":"+entry.Level)
	}
	if strings.Join(levels, " ") != "/metrics:debug /profiles/:id:info" {
		t.Errorf("request log levels = %v", levels)
	}
}

// TestStarting_LogsThePeer: while the service starts, requests are logged
// as every request is, with remote_ip the connection's peer: a client must
// not write another address into the log with X-Forwarded-For or X-Real-IP
// (the service's own Echo uses echo.ExtractIPDirect for that reason).
func TestStarting_LogsThePeer(t *testing.T) {
	logs := &safebuf.Buffer{}
	srv := httptest.NewServer(ops.Starting(zerolog.New(logs), false, func(err error, c echo.Context) { _ = c.String(http.StatusServiceUnavailable, err.Error()) }, echo.ExtractIPDirect()))
	t.Cleanup(srv.Close)
	do(t, "GET", srv.URL+"/readyz", nil, map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8"})
	lines := waitLines(t, logs, 1)
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got["remote_ip"] != "127.0.0.1" {
		t.Errorf("remote_ip = %v, want the peer 127.0.0.1 (not a header the client wrote)", got["remote_ip"])
	}
}

// TestRequestLogger_TenantHeaderBounded: the tenant header is logged as
// sent, before anything checks it, so one unauthenticated request with a
// 60 KB header of 0xFF bytes (each escaped to \ufffd, 6 bytes) wrote a
// 360 KB log line (1.5 MB with a header net/http still reads past
// max_header_bytes). A value no tenant can have must not reach the log
// whole.
func TestRequestLogger_TenantHeaderBounded(t *testing.T) {
	logs := &safebuf.Buffer{}
	srv, _ := newServer(t, logs)
	do(t, "GET", srv.URL+"/profiles/p1", nil, map[string]string{"X-Genesys-TenantId": strings.Repeat("\xff", 60000)})
	lines := waitLines(t, logs, 1)
	if n := len(lines[0]); n > 2048 {
		t.Errorf("log line of a request with a 60 KB tenant header is %d bytes", n)
	}
}

// TestRequestLogger_ContactCenterIdTenant: ContactCenterId (the tenant
// header of Context Services 8.5 clients) names the tenant as
// X-Genesys-TenantId does, so the request log names it as well.
func TestRequestLogger_ContactCenterIdTenant(t *testing.T) {
	logs := &safebuf.Buffer{}
	srv, _ := newServer(t, logs)
	do(t, "GET", srv.URL+"/profiles/p1", nil, map[string]string{"ContactCenterId": "tenant-b"})
	lines := waitLines(t, logs, 1)
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	if got["tenant"] != "tenant-b" {
		t.Errorf("tenant = %v, want tenant-b: %s", got["tenant"], lines[0])
	}
}

// TestStarting_LogsAtWarn: a start is a state the process passes through,
// so what it refuses meanwhile (probes included) is logged at warn, with
// its code, not at error, where an alert would page for every restart.
func TestStarting_LogsAtWarn(t *testing.T) {
	logs := &safebuf.Buffer{}
	srv := httptest.NewServer(ops.Starting(zerolog.New(logs), false, func(err error, c echo.Context) { _ = c.String(http.StatusServiceUnavailable, err.Error()) }, echo.ExtractIPDirect()))
	t.Cleanup(srv.Close)
	do(t, "GET", srv.URL+"/readyz", nil, nil)
	do(t, "GET", srv.URL+"/profiles/p1", nil, nil)
	for _, line := range waitLines(t, logs, 2) {
		var entry struct{ Level, Route, Code string }
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if entry.Level != "warn" || entry.Code != ops.CodeStarting {
			t.Errorf("%s while starting: level %q, code %q; want warn, %s", entry.Route, entry.Level, entry.Code, ops.CodeStarting)
		}
	}
}
