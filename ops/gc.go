package ops

import (
	"os"
	"runtime/debug"
	"strconv"
)

// DefaultGCPercent is the collector's target (GOGC) the service runs with
// when the operator sets no GOGC. profiled's live heap is small (8 MiB
// after a run over 1M profiles) while each request allocates 15-30 KB, so
// at Go's default of 100 the collector ran dozens of times a second under
// load: in-process, a profile read on 2 CPUs took 23 µs at GOGC=100 and
// 11.4 µs at 400, an eGain search 125 µs and 89 µs (BenchmarkGetProfile,
// BenchmarkSearchByEmail with -cpu 2). The heap then peaks near five times
// the live heap; GOMEMLIMIT bounds it where memory is tight.
const DefaultGCPercent = 400

// TuneGC sets DefaultGCPercent unless the environment sets GOGC (which
// the runtime has applied already), and returns the percent in effect, -1
// for GOGC=off.
func TuneGC() int {
	if v, set := os.LookupEnv("GOGC"); set {
		if v == "off" {
			return -1
		}
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return 100 // the runtime ignores a malformed GOGC
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}
