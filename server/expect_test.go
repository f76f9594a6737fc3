package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestExpectContinue_RefusalBeforeTheBody: a client that sends
// "Expect: 100-continue" (curl for large bodies, .NET Framework's
// HttpWebRequest on every POST, Apache HttpClient and Java's
// HttpURLConnection when asked to) waits for "100 Continue" before it
// sends the body. A request refused before its body is read (over
// server.max_body_bytes by its Content-Length, no eGain session, an
// unknown route, a query parameter a write takes none of) must get its
// final answer at once, without the body (RFC 9110 §10.1.1): the client
// need not upload a body that is refused anyway, nor wait out its own
// timeout (curl 1 s, Apache 3 s, Java 5 s) on every refusal.
func TestExpectContinue_RefusalBeforeTheBody(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	ts := mustStart(t)
	addr := realServer(t, ts, 2*time.Second)
	limit := ts.App.Config.Server.MaxBodyBytes
	for _, tc := range []struct {
		name, method, path string
		length             int64
		status             int
	}{
		{"GenesysOverLimit", "POST", "/profiles", 5 * limit, http.StatusRequestEntityTooLarge},
		{"EGainOverLimit", "POST", "/ws/v12/interaction/customer", 5 * limit, http.StatusRequestEntityTooLarge},
		{"EGainNoSession", "POST", "/ws/v12/interaction/customer", 100, http.StatusUnauthorized},
		{"GenesysQueryParameter", "POST", "/profiles?dryRun=true", 100, http.StatusBadRequest},
		{"UnknownRoute", "POST", "/nowhere", 100, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"+
				"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n", tc.method, tc.path, tc.length)
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			// The body is never sent: a client waiting for 100 Continue
			// must get the refusal instead, well before the server's
			// read timeout (5 s) would end the wait the wrong way.
			_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			start := time.Now()
			res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: tc.method})
			if err != nil {
				t.Fatalf("no answer %s after the headers, the server waits for a body it did not ask for: %v", time.Since(start), err)
			}
			defer res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
		})
	}
}
