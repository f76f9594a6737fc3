package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/internal/safebuf"
)

// startLogged starts profiled as startOn does, with its log kept.
func startLogged(tb testing.TB, configPath, dataPath, storeURL string) (*testServer, *safebuf.Buffer) {
	tb.Helper()
	logs := &safebuf.Buffer{}
	return startLoggingTo(tb, configPath, dataPath, storeURL, logs), logs
}

// linesOf returns the log lines that carry request id rid.
func linesOf(tb testing.TB, logs *safebuf.Buffer, rid string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatalf("a log line is not JSON: %q", l)
		}
		if m["request_id"] == rid {
			out = append(out, m)
		}
	}
	return out
}

// TestRequestLog_OneLinePerFailedRequest: a request that fails with a 500
// is one line of the request log (CONTRACT: "logs one zerolog JSON line per
// request"; deploy.md: "Errors (5xx) log at error level with the error
// message"), not that line plus a copy of it: an error-rate alert on the
// log, or an on-call engineer counting failures, sees each failure once.
func TestRequestLog_OneLinePerFailedRequest(t *testing.T) {
	t.Parallel()
	first := mustStart(t)
	bad := first.mustCreate(`{"FirstName":"Broken","EmailAddress":["broken@log.dom"]}`)
	damage(t, first, "profiles", bad)
	first.stop()
	ts, logs := startLogged(t, first.config, first.data, first.storeURL)

	res := ts.do("GET", "/profiles/"+bad, nil, echo.HeaderXRequestID, "corrupt-read-1")
	wantError(t, res, http.StatusInternalServerError, "DATA_CORRUPT")
	lines := linesOf(t, logs, "corrupt-read-1")
	if len(lines) != 1 {
		t.Errorf("a 500 DATA_CORRUPT read logged %d lines, want 1 (the request line):\n%s", len(lines), logs)
	}
	for _, l := range lines {
		if l["level"] != "error" || l["error"] == nil {
			t.Errorf("the failed request's line is not at error level with its error: %v", l)
		}
	}
}

// TestRequestLog_PanicHasItsStack: a handler that panics answers 500
// INTERNAL and the process serves on; the log says where it panicked (a
// stack), once, so the fault can be found from the log alone.
func TestRequestLog_PanicHasItsStack(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	ts, logs := startLogged(t, configWith(t), t.TempDir()+"/profiles.db", "")
	ts.App.Echo.GET("/profiles/:id/boom", func(echo.Context) error {
		var m map[string]int
		m["x"]++ // a nil map: the kind of bug a release may carry
		return nil
	})
	res := ts.do("GET", "/profiles/1/boom", nil, echo.HeaderXRequestID, "panic-1")
	wantError(t, res, http.StatusInternalServerError, "INTERNAL")
	lines := linesOf(t, logs, "panic-1")
	if len(lines) > 2 {
		t.Errorf("one panic logged %d lines, want the panic and the request line:\n%s", len(lines), logs)
	}
	stack := false
	for _, l := range lines {
		for _, v := range l {
			if s, ok := v.(string); ok && strings.Contains(s, "errorlog_test.go") {
				stack = true
			}
		}
	}
	if !stack {
		t.Errorf("no log line of the panic shows where it happened (no stack):\n%s", logs)
	}
	if res := ts.do("GET", "/livez", nil); res.Status != http.StatusOK {
		t.Errorf("after a panic /livez answers %d", res.Status)
	}
}
