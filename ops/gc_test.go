package ops

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGC: the service's collector target unless GOGC says otherwise.
// Not parallel: it changes the process's GC percent and environment.
func TestTuneGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	for _, tc := range []struct {
		env  string // "" leaves GOGC unset
		want int
		set  int // the percent in effect afterwards
	}{
		{"", DefaultGCPercent, DefaultGCPercent},
		{"150", 150, 100}, // the runtime applied GOGC at start; TuneGC leaves it
		{"off", -1, 100},
		{"junk", 100, 100},
	} {
		debug.SetGCPercent(100)
		if tc.env == "" {
			t.Setenv("GOGC", "") // restores GOGC after the test
			os.Unsetenv("GOGC")
		} else {
			t.Setenv("GOGC", tc.env)
		}
		if got := TuneGC(); got != tc.want {
			t.Errorf("GOGC=%q: TuneGC = %d, want %d", tc.env, got, tc.want)
		}
		if got := debug.SetGCPercent(100); got != tc.set {
			t.Errorf("GOGC=%q: percent in effect %d, want %d", tc.env, got, tc.set)
		}
	}
}
