package ops

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGC: the service's collector target unless GOGC is set, the
// memory limit left to GOMEMLIMIT when set, and what is in effect reported
// either way. Not parallel: it changes the process's GC settings and
// environment.
func TestTuneGC(t *testing.T) {
	percentBefore, limitBefore := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() {
		debug.SetGCPercent(percentBefore)
		debug.SetMemoryLimit(limitBefore)
	})
	unset := func(name string) {
		t.Setenv(name, "") // restores it after the test
		os.Unsetenv(name)
	}

	unset("GOGC")
	unset("GOMEMLIMIT")
	t.Setenv("AUTOMEMLIMIT", "off") // whatever cgroup this test runs in
	if percent, limit := TuneGC(); percent != DefaultGCPercent || limit != math.MaxInt64 {
		t.Errorf("GOGC unset: TuneGC = %d, %d; want %d, no limit", percent, limit, DefaultGCPercent)
	}
	if got := debug.SetGCPercent(100); got != DefaultGCPercent {
		t.Errorf("GOGC unset: percent in effect %d, want %d", got, DefaultGCPercent)
	}

	// GOGC and GOMEMLIMIT set: the runtime applied them at start (here
	// SetGCPercent and SetMemoryLimit stand in for that); TuneGC leaves
	// them and reports them.
	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(100 << 20)
	for _, tc := range []struct {
		env     string
		percent int
	}{{"150", 150}, {"off", -1}} {
		t.Setenv("GOGC", tc.env)
		debug.SetGCPercent(tc.percent)
		if percent, limit := TuneGC(); percent != tc.percent || limit != 100<<20 {
			t.Errorf("GOGC=%s GOMEMLIMIT=100MiB: TuneGC = %d, %d", tc.env, percent, limit)
		}
		if got := debug.SetGCPercent(100); got != tc.percent {
			t.Errorf("GOGC=%s: percent changed to %d", tc.env, got)
		}
	}
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Errorf("GOMEMLIMIT set: limit changed to %d", got)
	}
}
