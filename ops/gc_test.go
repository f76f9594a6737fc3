package ops

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGC: the service's collector target unless GOGC is set, and the
// percent in effect reported either way. Not parallel: it changes the
// process's GC percent and environment.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	t.Setenv("GOGC", "") // restores GOGC after the test
	os.Unsetenv("GOGC")
	if got := TuneGC(); got != DefaultGCPercent {
		t.Errorf("GOGC unset: TuneGC = %d, want %d", got, DefaultGCPercent)
	}
	if got := debug.SetGCPercent(100); got != DefaultGCPercent {
		t.Errorf("GOGC unset: percent in effect %d, want %d", got, DefaultGCPercent)
	}

	// GOGC set: the runtime applied it at start (here SetGCPercent stands
	// in for that); TuneGC leaves it and reports it.
	for _, tc := range []struct {
		env     string
		percent int
	}{{"150", 150}, {"off", -1}} {
		t.Setenv("GOGC", tc.env)
		debug.SetGCPercent(tc.percent)
		if got := TuneGC(); got != tc.percent {
			t.Errorf("GOGC=%s: TuneGC = %d, want %d", tc.env, got, tc.percent)
		}
		if got := debug.SetGCPercent(100); got != tc.percent {
			t.Errorf("GOGC=%s: percent changed to %d", tc.env, got)
		}
	}
}
