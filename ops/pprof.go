package ops

import (
	"net/http/pprof"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/httpin"
)

// maxProfileSeconds bounds a CPU profile or trace: net/http/pprof extends
// the response's write deadline itself, so without a bound one request
// could hold the profiler (a second gets 500) and a graceful shutdown
// for as long as it asked.
const maxProfileSeconds = 60

// ProfilingHandler serves Go's runtime profiles (net/http/pprof) by the
// route's parameter "name": none lists them, "profile?seconds=N" samples
// the CPU and "trace?seconds=N" traces (N at most 60), "heap", "allocs",
// "goroutine" and "threadcreate" are snapshots ("mutex" and "block" are
// empty: their sampling is off). "cmdline" is not served. Mount it behind
// the admin guard: profiles reveal code paths, and a CPU profile or trace
// costs the server a little while it runs.
func ProfilingHandler() echo.HandlerFunc {
	return func(c echo.Context) error {
		w, r := c.Response(), c.Request()
		if s := c.QueryParam("seconds"); s != "" {
			if n, err := strconv.Atoi(s); err != nil || n < 1 || n > maxProfileSeconds {
				return errs.Invalid(httpin.CodeBadParameter, "seconds", "seconds must be a whole number from 1 to %d", maxProfileSeconds)
			}
		}
		switch name := c.Param("name"); name {
		case "":
			// Its links are relative: they work from .../pprof/ as the
			// browser sent it (the server strips the slash only inside).
			pprof.Index(w, r)
		case "cmdline":
			// The command line may hold a -store URL with its password,
			// which the service never shows (its log redacts it).
			return echo.ErrNotFound
		case "profile":
			pprof.Profile(w, r)
		case "symbol":
			pprof.Symbol(w, r)
		case "trace":
			pprof.Trace(w, r)
		default:
			pprof.Handler(name).ServeHTTP(w, r)
		}
		return nil
	}
}
