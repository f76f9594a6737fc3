package ops_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/profiled/internal/safebuf"
)

// waitLines waits until the buffer holds n lines: the log line is written
// after the handler, so it may land just after the client has its answer.
func waitLines(t *testing.T, b *safebuf.Buffer, n int) []string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		if b.String() == "" {
			lines = nil
		}
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) != n {
				t.Fatalf("got %d log lines, want %d:\n%s", len(lines), n, b.String())
			}
			return lines
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, method, url string, body io.Reader, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
