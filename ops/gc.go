package ops

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
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
// the runtime applied at start), and returns the percent in effect, -1
// when the collector is off.
func TuneGC() int {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(DefaultGCPercent)
	}
	return gcPercent()
}

// gcPercent reads the percent in effect from the runtime, which parsed
// GOGC itself.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if v := s[0].Value.Uint64(); v <= math.MaxInt32 {
		return int(v)
	}
	return -1 // off: the runtime reports -1 as an unsigned number
}
