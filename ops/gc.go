package ops

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// DefaultGCPercent is the collector's target (GOGC) the service runs with
// when the operator sets no GOGC. profiled's live heap is small (8 MiB
// after a run over 1M profiles) while each request allocates 15-30 KB, so
// at Go's default of 100 the collector ran dozens of times a second under
// load: in-process, a profile read on 2 CPUs took 23 µs at GOGC=100 and
// 11.4 µs at 400, an eGain search 125 µs and 89 µs (BenchmarkGetProfile,
// BenchmarkSearchByEmail with -cpu 2). The heap then peaks near five times
// the live heap, which many large requests at once make large.
const DefaultGCPercent = 400

// TuneGC sets DefaultGCPercent unless the environment sets GOGC (which
// the runtime applied at start). In a container with a memory limit
// (cgroup) it also sets the soft memory limit (GOMEMLIMIT) to 90 % of it
// unless GOMEMLIMIT is set, so that near the limit the collector works
// harder instead of the container being killed. It returns the GC
// percent in effect (-1: off) and the memory limit (math.MaxInt64: none).
func TuneGC() (percent int, memoryLimit int64) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(DefaultGCPercent)
	}
	// No cgroup or no limit leaves the limit as it is.
	_, _ = memlimit.Set()
	return gcPercent(), debug.SetMemoryLimit(-1)
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
