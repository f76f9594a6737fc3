package server_test

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// dieWithParent has the kernel kill a started profiled when the test
// binary that started it ends, however it ends: a panic or -timeout runs no
// Cleanup, and replicas left running held their database's connections.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// TestBinary_SIGTERMDuringAReload: a SIGTERM that arrives while a SIGHUP
// reload runs (one over a large store builds indexes for minutes) and a
// second SIGHUP waits must still stop the server gracefully once the
// reloads are done. The signal channel holds one signal and the loop runs
// the reload itself, so the SIGTERM found the channel full and was dropped:
// the server served on until the orchestrator killed it. Here the config
// file is a FIFO, so a reload waits for it as a slow one would.
func TestBinary_SIGTERMDuringAReload(t *testing.T) {
	t.Parallel()
	p, cfg, base := startOnConfigFile(t)
	if err := os.Remove(cfg); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	signal := func(s syscall.Signal) {
		t.Helper()
		if err := p.cmd.Process.Signal(s); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	signal(syscall.SIGHUP) // the reload waits on the FIFO
	signal(syscall.SIGHUP) // waits in the channel
	signal(syscall.SIGTERM)
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the config, as often as the reloads read it
		for {
			select {
			case <-stop:
				return
			case <-p.done:
				return
			default:
			}
			f, err := os.OpenFile(cfg, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write(base)
			f.Close()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second): // beyond shutdown_timeout (20 s); a dropped SIGTERM is forever
		t.Fatalf("profiled still serves 30 s after a SIGTERM sent during a reload; log:\n%s", p.logs)
	}
}
