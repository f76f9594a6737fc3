package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// A data file that cannot be written when it is created (a full disk; here
// a file-size limit smaller than bbolt's first pages) must not be left
// behind empty: the next start, with room again, would refuse it as a
// truncated data file and tell the operator to restore a backup. The
// limit is a process's, so the open runs in a child process: the other
// tests' files must not meet it.
func TestOpen_FailedCreateLeavesNoFile(t *testing.T) {
	if path := os.Getenv("PROFILED_TEST_FSIZE_OPEN"); path != "" {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 4096, Max: 4096}); err != nil {
			t.Skip(err)
		}
		db, err := Open(path, Options{})
		if err == nil {
			db.Close()
			t.Fatal("the file-size limit did not stop the create")
		}
		return
	}
	path := filepath.Join(t.TempDir(), "profiles.db")
	child := exec.Command(os.Args[0], "-test.run=^TestOpen_FailedCreateLeavesNoFile$", "-test.count=1")
	child.Env = append(os.Environ(), "PROFILED_TEST_FSIZE_OPEN="+path)
	if out, err := child.CombinedOutput(); err != nil {
		t.Fatalf("the open under a file-size limit: %v\n%s", err, out)
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatalf("the open failed but left %s behind (stat: %v)", path, statErr)
	}
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("open after the failed create: %v", err)
	}
	db.Close()
}
