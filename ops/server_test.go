package ops_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/contactcenter/profiled/ops"
)

func testConfig(addr string) ops.ServerConfig {
	return ops.ServerConfig{
		Addr:              addr,
		ReadHeaderTimeout: 2 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       5 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

func TestListenAndServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if s, err := ops.ListenAndServe(testConfig(ln.Addr().String()), http.NotFoundHandler()); err == nil {
		s.Shutdown(time.Second)
		t.Fatal("ListenAndServe on a busy port succeeded")
	}
}

func TestGracefulShutdown(t *testing.T) {
	entered := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("finished"))
	})
	s, err := ops.ListenAndServe(testConfig("127.0.0.1:0"), slow)
	if err != nil {
		t.Fatal(err)
	}

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		got <- resp.Status + " " + string(body)
	}()
	<-entered
	if _, err := s.Shutdown(5 * time.Second); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if r := <-got; r != "200 OK finished" {
		t.Errorf("in-flight request got %q", r)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Shutdown")
	}
	if s.Err() != nil {
		t.Errorf("Err after a clean Shutdown: %v", s.Err())
	}
	if _, err := http.Get("http://" + s.Addr() + "/"); err == nil {
		t.Error("server still accepts connections after Shutdown")
	}
}

func TestShutdownIsBounded(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	stuck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	s, err := ops.ListenAndServe(testConfig("127.0.0.1:0"), stuck)
	if err != nil {
		t.Fatal(err)
	}
	go http.Get("http://" + s.Addr() + "/")
	<-entered

	start := time.Now()
	if cut, err := s.Shutdown(100 * time.Millisecond); err == nil || cut != 1 {
		t.Errorf("Shutdown with a request still running = %d cut, %v; want 1 cut and an error", cut, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %s", d)
	}
}
