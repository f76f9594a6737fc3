package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: the master side to type on, and the
// terminal a command reads.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// TestHashPassword_AtATerminal: a password typed at a terminal is not
// echoed (it would stay on the screen, in scrollback and recordings), and
// its hash is printed as for one piped in. The command runs as a child (this
// test binary again) whose controlling terminal is a pseudo-terminal.
func TestHashPassword_AtATerminal(t *testing.T) {
	if os.Getenv("PROFILED_TEST_TTY_CHILD") == "1" {
		os.Exit(run([]string{"hash-password"}, os.Stdin, os.Stdout, os.Stderr))
	}
	t.Parallel()
	master, tty := openPTY(t)
	var stdout, stderr bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^TestHashPassword_AtATerminal$")
	child.Env = append(os.Environ(), "PROFILED_TEST_TTY_CHILD=1")
	child.Stdin, child.Stdout, child.Stderr = tty, &stdout, &stderr
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// Type once the command has turned echo off, as a person would after
	// its prompt.
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Since(start) > 10*time.Second {
			_ = child.Process.Kill()
			t.Fatalf("hash-password left echo on (stderr %q)", stderr.String())
		}
	}
	if _, err := master.WriteString("hunter2\n"); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("hash-password: %v\n%s", err, stderr.String())
	}
	hash := strings.TrimSpace(stdout.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("hunter2")); err != nil {
		t.Fatalf("hash %q: %v", hash, err)
	}
	// What the terminal shows: anything echoed is there by now.
	fd := int(master.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	echo := make([]byte, 4096)
	n, err := unix.Read(fd, echo)
	if err != nil { // EAGAIN: nothing shown
		n = 0
	}
	if bytes.Contains(echo[:n], []byte("hunter2")) {
		t.Errorf("the password was echoed to the terminal: %q", echo[:n])
	}
}
