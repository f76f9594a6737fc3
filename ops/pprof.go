package ops

import (
	"net/http/pprof"

	"github.com/labstack/echo/v4"
)

// ProfilingHandler serves Go's runtime profiles (net/http/pprof) by the
// route's parameter "name": none lists them, "profile?seconds=N" samples the CPU,
// "heap", "goroutine", "allocs", "mutex", "block" and "trace?seconds=N".
// Mount it behind the admin guard: profiles reveal code paths, and a CPU
// profile or trace costs the server a little while it runs. N must stay
// below server.write_timeout. "cmdline" is not served.
func ProfilingHandler() echo.HandlerFunc {
	return func(c echo.Context) error {
		w, r := c.Response(), c.Request()
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
