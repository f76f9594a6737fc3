package ops

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records each write it gets; it refuses the first
// failures ones.
type countingWriter struct {
	mu       sync.Mutex
	failures int
	writes   []string
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failures > 0 {
		w.failures--
		return 0, errors.New("no space left on device")
	}
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *countingWriter) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

// TestBatchWriter: lines written together reach the device in one write,
// in order, within the delay; a lone line goes out on its own within the
// delay; Close writes what waits.
func TestBatchWriter(t *testing.T) {
	dev := &countingWriter{}
	b := NewBatchWriter(dev, 200*time.Millisecond) // long enough that the three writes below are one batch
	for _, line := range []string{"a\n", "b\n", "c\n"} {
		b.Write([]byte(line))
	}
	if got := dev.got(); len(got) != 0 {
		t.Fatalf("written before the delay: %q", got)
	}
	waitFor(t, func() bool { return len(dev.got()) == 1 })
	if got := dev.got(); got[0] != "a\nb\nc\n" {
		t.Fatalf("writes %q, want the three lines in one", got)
	}
	b.Write([]byte("d\n"))
	waitFor(t, func() bool { return len(dev.got()) == 2 })
	b.Write([]byte("e\n"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(dev.got(), ""); got != "a\nb\nc\nd\ne\n" {
		t.Fatalf("device got %q", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatchWriter_AfterAFailedWrite: a batch the device refuses is lost,
// and the lines after it are written (one failure must not end logging).
func TestBatchWriter_AfterAFailedWrite(t *testing.T) {
	dev := &countingWriter{failures: 1}
	b := NewBatchWriter(dev, time.Millisecond)
	b.Write([]byte("lost\n"))
	waitFor(t, func() bool { dev.mu.Lock(); defer dev.mu.Unlock(); return dev.failures == 0 }) // the failed flush
	b.Write([]byte("kept\n"))
	waitFor(t, func() bool { return len(dev.got()) == 1 })
	b.Write([]byte("closed\n"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(dev.got(), ""); got != "kept\nclosed\n" {
		t.Fatalf("device got %q", got)
	}
}
