package pgtest

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBothStoresChild is the suite of the test binary TestRunOnBothStores
// runs: it says which store it ran on, and fails on the one named by
// PGTEST_FAIL_ON.
func TestBothStoresChild(t *testing.T) {
	if os.Getenv("PGTEST_BOTH_STORES_CHILD") != "1" {
		t.Skip("run by TestRunOnBothStores")
	}
	store := os.Getenv(EnvStore)
	if store == "" {
		store = "bbolt"
	}
	t.Logf("ran on %s", store)
	if os.Getenv("PGTEST_FAIL_ON") == store {
		t.Fatalf("failing on %s as asked", store)
	}
	if os.Getenv("PGTEST_HANG_ON") == store {
		if err := os.WriteFile(os.Getenv("PGTEST_PIDFILE"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
	}
	if os.Getenv("PGTEST_PANIC_ON") == store {
		for i := 0; i < 600 && !fileExists(os.Getenv("PGTEST_PIDFILE")); i++ {
			time.Sleep(50 * time.Millisecond) // until the other run is in its test
		}
		panic("panicking on " + store + " as asked")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A suite's TestMain with RunOnBothStores runs it on bbolt and again, from
// the same binary, on PostgreSQL; a failure of either fails the binary,
// and the second run's output comes after the first's, marked.
func TestRunOnBothStores(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, env ...string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBothStoresChild$", "-test.v", "-test.count=1")
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, EnvStore+"=") }),
			append(env, "PGTEST_BOTH_STORES_CHILD=1")...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Run("both pass", func(t *testing.T) {
		out, err := run(t)
		if err != nil || !strings.Contains(out, "ran on bbolt") || !strings.Contains(out, "[postgres]     bothstores_test.go") ||
			strings.Index(out, "ran on postgres") < strings.Index(out, "ran on bbolt") {
			t.Fatalf("exit %v, output:\n%s\nwant a pass on bbolt, then one on postgres marked [postgres]", err, out)
		}
	})
	for _, store := range []string{"bbolt", "postgres"} {
		t.Run("fails on "+store, func(t *testing.T) {
			out, err := run(t, "PGTEST_FAIL_ON="+store)
			if err == nil || !strings.Contains(out, "failing on "+store) {
				t.Fatalf("exit %v, output:\n%s\nwant a failure", err, out)
			}
		})
	}
	t.Run("the PostgreSQL run ends with the first", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pid")
		out, err := run(t, "PGTEST_PANIC_ON=bbolt", "PGTEST_HANG_ON=postgres", "PGTEST_PIDFILE="+pidFile)
		if err == nil || !strings.Contains(out, "panicking on bbolt") {
			t.Fatalf("exit %v, output:\n%s\nwant the panic", err, out)
		}
		data, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(string(data))
		deadline := time.Now().Add(10 * time.Second)
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("the PostgreSQL run (pid %d) still runs 10 s after the bbolt run ended", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("one store named", func(t *testing.T) {
		out, err := run(t, EnvStore+"=bbolt")
		if err != nil || strings.Contains(out, "postgres") {
			t.Fatalf("exit %v, output:\n%s\nwant the bbolt run alone", err, out)
		}
	})
}

// testFlags parses args as the testing package's flags of these names.
func testFlags(t *testing.T, args string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	for _, name := range []string{"bench", "fuzz", "list", "run", "testlogfile", "coverprofile", "cpuprofile", "timeout"} {
		fs.String("test."+name, "", "")
	}
	fs.Bool("test.v", false, "")
	fs.Bool("test.paniconexit0", false, "")
	fs.Int("test.parallel", 2, "")
	if err := fs.Parse(strings.Fields(args)); err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestSecondRunWanted(t *testing.T) {
	for args, want := range map[string]bool{
		"-test.v=true -test.run=X -test.paniconexit0": true,
		"-test.run=^$ -test.bench=.":                  false,
		"-test.run ^$ -test.bench .":                  false, // a binary run by hand
		"-test.bench= -test.run=X":                    true,
		"-test.fuzz=FuzzX -test.run=FuzzX":            false,
		"-test.list=.":                                false,
	} {
		if got := secondRunWanted(testFlags(t, args)); got != want {
			t.Errorf("secondRunWanted(%s) = %v, want %v", args, got, want)
		}
	}
}

func TestChildArgs_DropsFilesTheFirstRunWrites(t *testing.T) {
	for _, args := range []string{
		"-test.v=true -test.testlogfile=/tmp/x -test.coverprofile=c.out -test.run=A -test.cpuprofile=p -test.timeout=10m",
		"-test.v -test.testlogfile /tmp/x -test.coverprofile c.out -test.run A -test.cpuprofile p -test.timeout 10m",
	} {
		got := childArgs(testFlags(t, args))
		if want := []string{"-test.run=A", "-test.timeout=10m", "-test.v=true"}; !slices.Equal(got, want) {
			t.Errorf("childArgs(%s) = %q, want %q", args, got, want)
		}
	}
}

func TestChildArgs_BoundsParallel(t *testing.T) {
	for given, want := range map[string]string{"-test.parallel=8": "-test.parallel=4", "-test.parallel=2": "-test.parallel=2"} {
		if got := childArgs(testFlags(t, given)); !slices.Equal(got, []string{want}) {
			t.Errorf("childArgs(%s) = %q, want %s", given, got, want)
		}
	}
}
