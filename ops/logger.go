package ops

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
)

// Unmatched is the route recorded for requests that matched no route, so
// that scanners probing random paths add no log or metric cardinality.
const Unmatched = "unmatched"

// handlerErrKey is where runHandled keeps a handler's error for the
// middleware further out.
const handlerErrKey = "ops.handler_error"

// runHandled calls next and, when it fails, renders the error through Echo's
// HTTPErrorHandler at once, so the status the client gets is known to the
// calling middleware. The error is kept in the context because the request
// log wants its message even when Metrics sits between them; the caller
// returns nil so the error handler runs only once.
func runHandled(c echo.Context, next echo.HandlerFunc) {
	if err := next(c); err != nil {
		c.Set(handlerErrKey, err)
		c.Error(err)
	}
}

func handlerError(c echo.Context) error {
	err, _ := c.Get(handlerErrKey).(error)
	return err
}

// routeOf returns the route template Echo matched (e.g. /profiles/:id), never
// the raw path, which would carry profile ids.
func routeOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return Unmatched
}

// APIOf returns a classifier for the api log field and metric label. It maps
// a request path to "genesys", "egain", "ops" or "other"; genesysBase is the
// optional genesys.base_path prefix ("" when none). Any classifier passed to
// RequestLogger or Metrics must likewise return a small fixed set of values.
func APIOf(genesysBase string) func(path string) string {
	genesysBase = strings.TrimSuffix(genesysBase, "/")
	return func(path string) string {
		if genesysBase != "" {
			if rest, ok := strings.CutPrefix(path, genesysBase); ok && strings.HasPrefix(rest, "/") {
				path = rest
			}
		}
		switch {
		case underPrefix(path, "/profiles"), underPrefix(path, "/metadata"):
			return "genesys"
		case underPrefix(path, "/ws/v12"), underPrefix(path, "/system/ws/v12"):
			return "egain"
		case underPrefix(path, "/livez"), underPrefix(path, "/readyz"), underPrefix(path, "/metrics"),
			underPrefix(path, "/admin"), underPrefix(path, "/docs"), underPrefix(path, "/server"):
			return "ops"
		}
		return "other"
	}
}

// underPrefix reports whether path is prefix or lies below it, so that
// /profilesX is not taken for /profiles.
func underPrefix(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '/')
}

// RequestLogger is middleware that writes exactly one JSON line per request
// once it has completed, with request_id, method, route (template or
// "unmatched"), status, latency_ms, bytes_in, bytes_out, api (apiOf of the
// path), tenant (X-Genesys-TenantId, when sent) and remote_ip.
//
// It deliberately logs no raw path, query string, body or credential header
// (Authorization, X-egain-session): paths carry profile ids and queries carry
// search terms, both customer data. With ProbesAtDebug, probes (/livez,
// /readyz, /metrics) log at debug level unless they fail. 5xx responses log at error level with the
// handler's error; for an *errs.Error the stable code is logged on any status.
//
// remote_ip is c.RealIP(): set e.IPExtractor (echo.ExtractIPDirect() unless a
// trusted proxy is in front) so that clients cannot forge it.
func RequestLogger(logger zerolog.Logger, apiOf func(path string) string, opts ...LogOption) echo.MiddlewareFunc {
	var o logOptions
	for _, opt := range opts {
		opt(&o)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			req := c.Request()
			var body *countingReader // only a body of unknown length is counted
			if req.ContentLength < 0 && req.Body != nil {
				// On a copy: net/http judges by the body of the request it
				// holds whether one was left unread (it answers a client
				// waiting for 100 Continue at once, and one over 256 KiB
				// without reading it) and would otherwise read the rest of
				// a body it never asked for before answering.
				body = &countingReader{r: req.Body}
				counted := *req
				counted.Body = body
				c.SetRequest(&counted)
				defer c.SetRequest(req)
			}

			runHandled(c, next)

			res := c.Response()
			err := handlerError(c)
			ev := logger.Info()
			if o.probesAtDebug && isProbe(routeOf(c)) && res.Status < http.StatusInternalServerError {
				ev = logger.Debug() // polled every few seconds: they would drown the log
			}
			var e *errs.Error
			coded := errors.As(err, &e) && e.Code != ""
			if res.Status >= http.StatusInternalServerError {
				if coded && slices.Contains(o.chosenStates, e.Code) {
					ev = logger.Warn().Err(err)
				} else {
					ev = logger.Error().Err(err) // Err(nil) adds nothing
				}
			}
			if coded {
				ev = ev.Str("code", e.Code)
			}
			bytesIn := req.ContentLength
			if body != nil { // chunked: count what the handler read
				bytesIn = body.n
			}
			bytesOut := res.Size
			if req.Method == http.MethodHead { // the handler wrote a GET's body; net/http sent none
				bytesOut = 0
			}
			tenant := req.Header.Get(httpin.TenantHeader)
			if tenant == "" {
				tenant = req.Header.Get(httpin.ContactCenterHeader) // the 8.5 clients' name for it
			}
			if tenant != "" {
				// As sent, before anything checked it: a value no tenant
				// can have (up to the whole header block) is cut.
				if httpin.CheckTenant(tenant) != nil {
					tenant = httpin.Shorten(strings.ToValidUTF8(tenant, "?"))
				}
				ev = ev.Str("tenant", tenant)
			}
			ev.Str("request_id", RequestIDFrom(c)).
				Str("method", req.Method).
				Str("route", routeOf(c)).
				Int("status", res.Status).
				Float64("latency_ms", float64(time.Since(start))/float64(time.Millisecond)).
				Int64("bytes_in", bytesIn).
				Int64("bytes_out", bytesOut).
				Str("api", apiOf(req.URL.Path)).
				Str("remote_ip", c.RealIP()).
				Msg("request")
			return nil
		}
	}
}

// LogOption tunes RequestLogger.
type LogOption func(*logOptions)

type logOptions struct {
	probesAtDebug bool
	chosenStates  []string
}

// ProbesAtDebug logs successful probe requests at debug level.
func ProbesAtDebug(on bool) LogOption { return func(o *logOptions) { o.probesAtDebug = on } }

// ChosenStates logs 5xx answers with these error codes at warn level, not
// error: they refuse requests in a state an operator chose (maintenance)
// or the process passes through (its start), which an alert on error
// lines must not page for.
func ChosenStates(codes ...string) LogOption {
	return func(o *logOptions) { o.chosenStates = append(o.chosenStates, codes...) }
}

// isProbe reports whether route is one that monitors poll.
func isProbe(route string) bool {
	return route == "/livez" || route == "/readyz" || route == "/metrics"
}

// countingReader counts the request body bytes a handler reads.
type countingReader struct {
	r io.ReadCloser
	n int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	return n, err
}

func (cr *countingReader) Close() error { return cr.r.Close() }
