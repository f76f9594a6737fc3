package server_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
)

// TestStoreFault_RetryAfter: a write the store cannot make now (here a
// full disk) answers 503 STORE_UNAVAILABLE, in both APIs, with
// Retry-After (RFC 9110 §10.2.3), as the starting server's 503 STARTING
// and ERASE_SCRUB_PENDING do: the body says "retry later", and a client
// or proxy that backs off by the header gets no hint without it, so it
// retries at once into the same failure.
func TestStoreFault_RetryAfter(t *testing.T) {
	t.Parallel()
	boltOnly(t, "injects bbolt commit faults")
	ts := mustStart(t)
	session := egLogin(t, ts)
	ts.injectCommitFault(func() error { return errors.New("write /data/profiles.db: no space left on device") })
	defer ts.injectCommitFault(nil)

	for _, tc := range []struct {
		name string
		res  response
		code string
	}{
		{"Genesys create", ts.do("POST", "/profiles", `{"FirstName":"Full","EmailAddress":["full@disk.dom"]}`), "STORE_UNAVAILABLE"},
		{"eGain create", ts.do("POST", "/ws/v12/interaction/customer", egIndividual("Full", "Disk", "full.eg@disk.dom", ""),
			egSession, session, "Content-Type", "application/json", "Accept", "application/json"), "503-101"},
	} {
		if tc.res.Status != http.StatusServiceUnavailable {
			t.Errorf("%s on a full disk: %d %s, want 503 %s", tc.name, tc.res.Status, tc.res.Body, tc.code)
			continue
		}
		if s, err := strconv.Atoi(tc.res.Header.Get("Retry-After")); err != nil || s <= 0 {
			t.Errorf("%s: 503 %s without a Retry-After of whole seconds (%q)", tc.name, tc.res.Body, tc.res.Header.Get("Retry-After"))
		}
	}
}
