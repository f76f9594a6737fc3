package pgtest

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// EnvStore names the store engine a suite that runs on both (the HTTP
// suites of server and egain) runs on in this process: "postgres", or
// "bbolt"; unset, RunOnBothStores runs both.
const EnvStore = "PROFILED_TEST_STORE"

// RunOnBothStores is a TestMain body for a suite that must pass on both
// store engines: it runs the tests here on bbolt while the same test
// binary runs them again beside it with EnvStore=postgres, and prints that
// run's output after this one's, each line marked "[postgres] ". It
// returns the exit code for os.Exit: failing if either run failed.
//
// Why one binary: go test ./... then runs both passes of every suite, and
// make test no longer links the two largest test binaries twice (5 s of
// CPU of a 2-core run). With EnvStore set it runs only that engine; the
// second run is not made for benchmarks, fuzzing or -list, which are
// about this process. Its output is this package's output, not events of
// its own under go test -json, and it writes no coverage profile.
func RunOnBothStores(m *testing.M) int {
	flag.Parse() // read as the testing package reads them, in every form ("-test.bench X" too)
	if os.Getenv(EnvStore) != "" || !secondRunWanted(flag.CommandLine) {
		if os.Getenv(envWatchParent) == "1" {
			go exitWithParent()
		}
		return m.Run()
	}
	var out bytes.Buffer
	child := exec.Command(os.Args[0], childArgs(flag.CommandLine)...)
	child.Env = append(os.Environ(), EnvStore+"=postgres", envWatchParent+"=1")
	child.Stdout, child.Stderr = &out, &out
	// The child's stdin is a pipe held open by this process alone: when
	// this process ends, however it ends (a panic, -test.timeout), the
	// child reads EOF and exits instead of running on unseen.
	parentAlive, pipeErr := child.StdinPipe()
	startErr := pipeErr
	if startErr == nil {
		startErr = child.Start()
	}
	code := m.Run()
	if startErr != nil {
		fmt.Printf("[postgres] could not start the PostgreSQL run: %v\n", startErr)
		return 1
	}
	waitErr := child.Wait()
	_ = parentAlive.Close()
	for line := range bytes.Lines(out.Bytes()) {
		fmt.Printf("[postgres] %s", line)
	}
	if waitErr != nil {
		fmt.Printf("\n[postgres] FAIL: %v\n", waitErr)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// envWatchParent tells the PostgreSQL run that its stdin stays open for as
// long as the run that started it lives.
const envWatchParent = "PGTEST_WATCH_PARENT"

// exitWithParent ends this process once the run that started it has ended.
func exitWithParent() {
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Println("[pgtest] the bbolt run that started this one has ended: stopping")
	DropShared() // TestMain will not run on
	os.Exit(2)
}

// secondRunWanted reports whether the flags go test gave the binary ask for
// tests to be run, not benchmarks alone, a fuzz target or a listing; fs
// holds them parsed.
func secondRunWanted(fs *flag.FlagSet) bool {
	for _, name := range []string{"test.bench", "test.fuzz", "test.list"} {
		if f := fs.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// childParallel bounds the tests the PostgreSQL run runs at once: they
// share one server, and beyond 4 more only add its connections and
// migrated schemas (make test on 2 cores: -parallel 8 cost the server 6 s
// more CPU than 4, for no shorter run).
const childParallel = 4

// childArgs are the flags given to this run (parsed in fs), as -name=value, without those
// that make the test binary write a file, which the two runs would
// otherwise write at once (this run writes them), and with -test.parallel
// bounded by childParallel.
func childArgs(fs *flag.FlagSet) []string {
	var kept []string
	fs.Visit(func(f *flag.Flag) {
		value := f.Value.String()
		switch f.Name {
		case "test.testlogfile", "test.coverprofile", "test.cpuprofile", "test.memprofile",
			"test.blockprofile", "test.mutexprofile", "test.trace", "test.outputdir":
			return
		case "test.parallel":
			if n, err := strconv.Atoi(value); err == nil && n > childParallel {
				value = strconv.Itoa(childParallel)
			}
		}
		kept = append(kept, "-"+f.Name+"="+value)
	})
	return append(kept, fs.Args()...)
}
