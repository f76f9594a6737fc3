package ops

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/contactcenter/profiled/errs"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
)

// Livez answers GET /livez: 200 {"status":"ok"} whenever the process serves
// HTTP at all. It checks nothing else, so an orchestrator restarts the
// container only when it is truly wedged.
func Livez(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz answers GET /readyz: 200 {"status":"ready"} when check returns nil,
// else 503 {"status":"unavailable","reason":...}; the fields of info (the
// live schema's hash and version, so ops can see that replicas agree) are
// added to both. check should confirm that the store answers and the schema
// is compiled; it runs on every probe.
func Readyz(check func() error, info func() map[string]string) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, status := map[string]string{"status": "ready"}, http.StatusOK
		if err := check(); err != nil {
			body, status = map[string]string{"status": "unavailable", "reason": readinessReason(err)}, http.StatusServiceUnavailable
		}
		if info != nil {
			for k, v := range info() {
				body[k] = v
			}
		}
		return c.JSON(status, body)
	}
}

// Healthcheck GETs url and fails unless the answer is 2xx within timeout. It
// backs `profiled healthcheck`, the Docker HEALTHCHECK: the image is FROM
// scratch, so there is no curl or shell to do it.
func Healthcheck(url string, timeout time.Duration) error {
	client := &http.Client{
		Timeout: timeout,
		// Never ask an HTTP_PROXY from the environment to reach our own port.
		Transport: &http.Transport{Proxy: nil},
	}
	resp, err := client.Get(url)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096)) // lets the connection close cleanly
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}

// HealthcheckURL turns the server's listen address (":8080", "0.0.0.0:8080",
// "[::]:8080", "host:8080") into the /readyz URL a process on the same host
// can reach: an empty or unspecified host becomes the loopback address.
func HealthcheckURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck address %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// readinessReason is what an unauthenticated probe is told: a classified
// error's message, written for clients, without the cause it wraps (a
// driver's error names the database, its user and its address).
func readinessReason(err error) string {
	if e := errs.As(err); e != nil && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

// Starting serves while the service starts, before its handler exists (the
// store opening, identification indexes being built: minutes over a large
// store on the first start of a release that indexes otherwise): /livez
// is 200, since the process is alive and a liveness probe that killed it
// would make the next start begin the build again; /readyz and every other
// request are 503, with Retry-After: /readyz with its own body, the others
// with errors of KindUnavailable and CodeStarting that render writes in the
// API's format, as the service's would. Requests are logged as ever
// (probesAtDebug as the service's own log has it).
func Starting(log zerolog.Logger, probesAtDebug bool, render echo.HTTPErrorHandler, clientIP echo.IPExtractor) http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIP // as the service's: remote_ip is the client it would log
	e.HTTPErrorHandler = render
	e.Use(RequestID, RequestLogger(log, func(string) string { return "ops" }, ProbesAtDebug(probesAtDebug), ChosenStates(CodeStarting)))
	e.GET("/livez", Livez)
	e.HEAD("/livez", Livez)
	readyz := func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderRetryAfter, "5")
		// Its own body, but logged as the others: a passing state, not an error.
		c.Set(handlerErrKey, errs.E(errs.KindUnavailable, CodeStarting, "the service is starting"))
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "starting"})
	}
	e.GET("/readyz", readyz)
	e.HEAD("/readyz", readyz)
	e.Any("/*", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderRetryAfter, "5")
		return errs.E(errs.KindUnavailable, CodeStarting, "the service is starting; retry later")
	})
	return e
}

// CodeStarting is the code of what a starting service refuses.
const CodeStarting = "STARTING"

// Swap is an http.Handler that serves whichever handler it was last set to:
// Starting until the service's own is ready.
type Swap struct{ h atomic.Pointer[http.Handler] }

// NewSwap serves h until Set.
func NewSwap(h http.Handler) *Swap {
	s := &Swap{}
	s.Set(h)
	return s
}

// Set serves h from now on.
func (s *Swap) Set(h http.Handler) { s.h.Store(&h) }

func (s *Swap) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }
