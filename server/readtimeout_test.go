package server_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/contactcenter/profiled/ops"
)

// TestSlowBody_IsATimeoutNotAMalformedBody: a body that has not all
// arrived when server.read_timeout ends (a slow uplink, a client stalled
// mid-upload) is 408 Request Timeout (RFC 9110 §15.5.9), which clients and
// proxies may retry, not 400 "malformed body", which tells the client its
// JSON is wrong and not to send it again.
func TestSlowBody_IsATimeoutNotAMalformedBody(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	ts := mustStart(t)
	// read_timeout 1 s; the answer has write_timeout (5 s) to go out.
	srv, err := ops.ListenAndServe(ops.ServerConfig{
		Addr:              "127.0.0.1:0",
		ReadHeaderTimeout: time.Second,
		ReadTimeout:       time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}, ts.App.Echo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = srv.Shutdown(2 * time.Second) })
	addr := srv.Addr()
	session := egLogin(t, ts)
	for _, tc := range []struct{ name, path, headers string }{
		{"Genesys", "/profiles", ""},
		{"EGain", "/ws/v12/interaction/customer", "Accept: application/json\r\nX-egain-session: " + session + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n%sContent-Length: 100\r\n\r\n{\"FirstName\":", tc.path, tc.headers)
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: "POST"})
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusRequestTimeout {
				t.Errorf("status %d %s, want 408", res.StatusCode, body)
			}
		})
	}
}
