package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestGenesysAuth(t *testing.T) {
	t.Parallel()
	cfg := authConfig(t, `      - {name: routing, key_sha256: "KEY(agent-key)", role: agent}
      - {name: wallboard, key_sha256: "KEY(super-key)", role: supervisor}`,
		`      - {name: ops, password_hash: "PW", role: administrator}`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	agent := []string{"X-API-Key", "agent-key"}
	supervisor := []string{"Authorization", "Bearer super-key"}

	t.Run("ErrNoCredentials", func(t *testing.T) {
		res := ts.do("GET", "/profiles?EmailAddress=a@b.c", nil)
		wantError(t, res, http.StatusUnauthorized, "UNAUTHENTICATED")
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	})
	t.Run("ErrWrongKey", func(t *testing.T) {
		wantError(t, ts.do("POST", "/profiles", `{"FirstName":"A"}`, "X-API-Key", "guess"), http.StatusUnauthorized, "UNAUTHENTICATED")
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.HTTP.URL+"/metadata/profiles", nil)
		req.SetBasicAuth("ops", "wrong")
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", res.StatusCode)
		}
	})
	t.Run("ErrTwoCredentials", func(t *testing.T) {
		// Which would decide is a guess: a proxy appending its own key must
		// not make the request act as the first key's caller.
		for _, headers := range [][][2]string{
			{{"X-API-Key", "super-key"}, {"X-API-Key", "agent-key"}},
			{{"X-API-Key", "agent-key"}, {"Authorization", "Bearer super-key"}},
			{{"Authorization", "Bearer super-key"}, {"Authorization", "Bearer agent-key"}},
		} {
			req, _ := http.NewRequest("POST", ts.HTTP.URL+"/profiles", strings.NewReader(`{"FirstName":"Twice"}`))
			for _, h := range headers {
				req.Header.Add(h[0], h[1])
			}
			res, err := testClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%v: %d, want 401 with WWW-Authenticate", headers, res.StatusCode)
			}
		}
	})
	var id string
	t.Run("AgentWritesProfiles", func(t *testing.T) {
		id = ts.mustCreate(`{"FirstName":"A","EmailAddress":["a@b.c"]}`, agent...)
		if res := ts.do("GET", "/profiles/"+id, nil, agent...); res.Status != http.StatusOK {
			t.Fatalf("agent read: %d", res.Status)
		}
	})
	t.Run("ErrAgentChangesSchema", func(t *testing.T) {
		wantError(t, ts.do("POST", "/metadata/identification-keys", `{"name":"t","attributes":["Title"]}`, agent...), http.StatusForbidden, "ROLE_FORBIDDEN")
	})
	t.Run("SupervisorReads", func(t *testing.T) {
		if res := ts.do("GET", "/profiles?EmailAddress=a@b.c", nil, supervisor...); res.Status != http.StatusOK {
			t.Fatalf("supervisor identify: %d %s", res.Status, res.Body)
		}
	})
	t.Run("ErrSupervisorWrites", func(t *testing.T) {
		wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"B"}`, supervisor...), http.StatusForbidden, "ROLE_FORBIDDEN")
		wantError(t, ts.do("DELETE", "/profiles/"+id, nil, supervisor...), http.StatusForbidden, "ROLE_FORBIDDEN")
	})
	t.Run("AdministratorChangesSchema", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ts.HTTP.URL+"/metadata/identification-keys", strings.NewReader(`{"name":"t","attributes":["Title"]}`))
		req.SetBasicAuth("ops", testPassword)
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("administrator: status %d, want 201", res.StatusCode)
		}
	})
	t.Run("OpsEndpointsStayOpen", func(t *testing.T) {
		if res := ts.do("GET", "/readyz", nil); res.Status != http.StatusOK {
			t.Fatalf("readyz: %d", res.Status)
		}
	})
}

// TestGenesysAuth_Throttle: basic-auth failures are counted per user name
// and per client address as eGain logins are: after max_failures (5) wrong
// passwords the user gets 429 with Retry-After, even with the right
// password, also one verified in the last minute (the cache that spares
// bcrypt must not answer a guesser); others from that address are let in
// until it has max_failures_per_address (8) failures, when everyone from it
// gets 429 (one address is often a contact center behind NAT); API keys are
// not throttled.
func TestGenesysAuth_Throttle(t *testing.T) {
	t.Parallel()
	cfg := authConfig(t, `      - {name: routing, key_sha256: "KEY(agent-key)", role: agent}`,
		`      - {name: ops, password_hash: "PW", role: administrator}
      - {name: dev, password_hash: "PW", role: agent}
    throttle: {max_failures: 5, max_failures_per_address: 8, window: 1m}`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	get := func(auth ...string) response { return ts.do("GET", "/metadata/profiles", nil, auth...) }
	if res := get("Authorization", basicAuth("ops", testPassword)); res.Status != http.StatusOK {
		t.Fatalf("right password: %d %s", res.Status, res.Body)
	}
	for i := range 5 {
		if res := get("Authorization", basicAuth("ops", "guess")); res.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, res.Status)
		}
	}
	if res := get("Authorization", basicAuth("dev", testPassword)); res.Status != http.StatusOK {
		t.Errorf("another user from the address after 5 failures: %d %s, want 200", res.Status, res.Body)
	}
	for range 3 { // the address's 6th to 8th failures
		get("Authorization", basicAuth("ghost", "guess"))
	}
	for _, who := range [][]string{{"ops", "guess"}, {"ops", "s3cret2"}, {"dev", testPassword}} {
		res := get("Authorization", basicAuth(who[0], who[1]))
		wantError(t, res, http.StatusTooManyRequests, "TOO_MANY_REQUESTS")
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", who[0])
		}
	}
	if res := get("X-API-Key", "agent-key"); res.Status != http.StatusOK {
		t.Errorf("an API key while the address is throttled: %d %s", res.Status, res.Body)
	}
	wantError(t, get("Authorization", basicAuth("ops", testPassword)), http.StatusTooManyRequests, "TOO_MANY_REQUESTS") // cached, still throttled
}

// TestTrustedProxies_ThrottlePerClient: behind a load balancer listed in
// server.trusted_proxies, failed eGain logins count per client that its
// X-Forwarded-For names, not per balancer: one client's 50 wrong logins
// lock that client out, not every other client behind the same balancer
// (without the setting every client had the balancer's address). The audit
// trail names the client too. Without the setting the header is ignored.
func TestTrustedProxies_ThrottlePerClient(t *testing.T) {
	t.Parallel()
	login := func(ts *testServer, client, name, password string) response {
		return ts.do("POST", "/ws/v12/authentication/user/login", `{"userName":"`+name+`","password":"`+password+`"}`,
			"Content-Type", "application/json", "Accept", "application/json", "X-Forwarded-For", client)
	}
	guess := func(ts *testServer, client string) {
		for i := range 50 { // the address's bound: 10 x max_failures
			login(ts, client, fmt.Sprint("nobody", i), "wrong")
		}
	}
	t.Run("Trusted", func(t *testing.T) {
		t.Parallel()
		ts := mustStartWith(t, configWith(t, "# trusted_proxies: []  ", "trusted_proxies: [127.0.0.1]"), t.TempDir()+"/p.db")
		guess(ts, "203.0.113.7")
		wantWSError(t, login(ts, "203.0.113.7", "demo", "demo"), http.StatusTooManyRequests, "429-101", "application/json")
		res := login(ts, "198.51.100.2", "demo", "demo")
		if res.Status != http.StatusNoContent {
			t.Fatalf("another client behind the balancer: %d %s, want 204", res.Status, res.Body)
		}
		session := res.Header.Get("X-egain-session")
		create := ts.do("POST", "/ws/v12/interaction/customer", `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Via","lastName":"Proxy"}]}}`,
			"X-egain-session", session, "Content-Type", "application/json", "X-Forwarded-For", "198.51.100.2")
		if create.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", create.Status, create.Body)
		}
		entries := ts.audit(t, "op=create").Entries
		if len(entries) != 1 || entries[0].Client != "198.51.100.2" {
			t.Errorf("audit entries of the create = %+v, want one with client 198.51.100.2", entries)
		}
	})
	t.Run("NotTrusted", func(t *testing.T) {
		t.Parallel()
		ts := mustStart(t)
		guess(ts, "203.0.113.7")
		wantWSError(t, login(ts, "198.51.100.2", "demo", "demo"), http.StatusTooManyRequests, "429-101", "application/json")
	})
}

// TestTrustedProxies_LoopbackProxyIsNotAdmin: with a reverse proxy on the
// same host listed in server.trusted_proxies and no admin token, a request
// the proxy forwards for a remote client must not be admitted as the
// loopback operator: the server itself says (audit client, request log)
// the client is 203.0.113.5, and yet it served /admin/backup and an export.
func TestTrustedProxies_LoopbackProxyIsNotAdmin(t *testing.T) {
	t.Parallel()
	ts := mustStartWith(t, configWith(t, "# trusted_proxies: []  ", "trusted_proxies: [127.0.0.1]"), t.TempDir()+"/p.db")
	for _, path := range []string{"/admin/backup", "/admin/schema", "/server/status"} {
		if res := ts.do("GET", path, nil, "X-Forwarded-For", "203.0.113.5"); res.Status != http.StatusForbidden {
			t.Errorf("GET %s forwarded for 203.0.113.5 by the trusted loopback proxy: %d, want 403", path, res.Status)
		}
	}
	// The operator on the host itself (no forwarding header) stays admin.
	if res := ts.do("GET", "/server/status", nil); res.Status != http.StatusOK {
		t.Errorf("GET /server/status from loopback without X-Forwarded-For: %d, want 200", res.Status)
	}
}

// TestTrustedProxies_IPv6ClientCannotDodgeAddressThrottle: one IPv6 client
// holds a whole /64 (every home line gets one), so counting failed logins
// per full address lets it try names without end, one address each. The
// address bound must count the /64.
func TestTrustedProxies_IPv6ClientCannotDodgeAddressThrottle(t *testing.T) {
	t.Parallel()
	ts := mustStartWith(t, configWith(t, "# trusted_proxies: []  ", "trusted_proxies: [127.0.0.1]"), t.TempDir()+"/p.db")
	login := func(client, name, password string) response {
		return ts.do("POST", "/ws/v12/authentication/user/login", `{"userName":"`+name+`","password":"`+password+`"}`,
			"Content-Type", "application/json", "Accept", "application/json", "X-Forwarded-For", client)
	}
	for i := range 50 { // the address's bound: 10 x max_failures
		login(fmt.Sprintf("2001:db8:1:2::%x", i+1), fmt.Sprint("nobody", i), "wrong")
	}
	wantWSError(t, login("2001:db8:1:2::ffff", "demo", "demo"), http.StatusTooManyRequests, "429-101", "application/json")
}

// TestAdminGuard_LoopbackAdmitsNoBrowserPage: without admin.token the
// loopback peer is admin, meant for the operator's curl and check-config
// on the host. A browser on that host is a loopback peer too, driven by
// whatever page it shows: a page of any site can send it a "simple"
// cross-site POST (Content-Type text/plain, no preflight; neither API
// checks Content-Type), and a page whose name rebinds to 127.0.0.1 reads
// the answers as its own. That switched the server to maintenance,
// erased customers (by eGain number, counted up from 1) and downloaded
// the whole data file. A request a browser marks as coming from a page
// (Origin, Sec-Fetch-Site other than none) is not the operator's: 403,
// nothing done.
func TestAdminGuard_LoopbackAdmitsNoBrowserPage(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Victim"}`)
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, egIndividual("Victim", "Too", "victim@x.example", ""), "")
	page := []string{"Origin", "https://evil.example", "Content-Type", "text/plain", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}
	for _, path := range []string{"/server/mode", "/profiles/" + id + "/erase", "/admin/egain/customer/" + num + "/erase", "/admin/reload"} {
		body := ""
		if path == "/server/mode" {
			body = `{"mode":"maintenance"}`
		}
		res := ts.do("POST", path, body, page...)
		if res.Status != http.StatusForbidden {
			t.Errorf("POST %s from a page of https://evil.example: %d %.200s, want 403", path, res.Status, res.Body)
			continue
		}
		wantError(t, res, http.StatusForbidden, "FORBIDDEN")
	}
	if res := ts.do("GET", "/server/status", nil); !strings.Contains(string(res.Body), `"production"`) {
		t.Errorf("mode after a cross-site switch: %s", res.Body)
	}
	if res := ts.do("GET", "/profiles/"+id, nil); res.Status != http.StatusOK {
		t.Errorf("profile after a cross-site erase: %d %s", res.Status, res.Body)
	}
	if res := ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, egSession, session); res.Status != http.StatusOK {
		t.Errorf("eGain customer after a cross-site erase: %d %s", res.Status, res.Body)
	}
	// DNS rebinding: the page's own name, now resolving to 127.0.0.1, is
	// the Host; the request is same-origin for the browser, which says so
	// (a current one; an older one sends no Sec-Fetch-Site: the Host alone
	// tells it from the operator's).
	for i, path := range []string{"/admin/backup", "/admin/audit", "/admin/schema", "/profiles/" + id + "/export", "/admin/backup"} {
		req, err := http.NewRequest("GET", ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "rebind.evil.example:" + u.Port()
		if i < 4 {
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s with Host %s: %d (%d bytes), want 403", path, req.Host, res.StatusCode, len(data))
		}
	}
	// The operator on the host stays admin: curl sends neither header, and
	// names the host as localhost or a loopback address.
	own, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"", "localhost:8080", "127.0.0.1", "[::1]:8080", own + ":8080"} {
		req, err := http.NewRequest("GET", ts.URL+"/server/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET /server/status from loopback, Host %q: %d, want 200", host, res.StatusCode)
		}
	}
	if res := ts.do("POST", "/server/mode", `{"mode":"production"}`, "Sec-Fetch-Site", "none"); res.Status != http.StatusOK {
		t.Errorf("POST /server/mode typed by the operator (Sec-Fetch-Site: none): %d %s, want 200", res.Status, res.Body)
	}
	// An HTTP/1.0 request without a Host (a script over nc, an old
	// monitoring probe) is no browser page: every browser sends Host, so a
	// rebound page can never send none.
	if res := rawRequest(t, ts, "GET /server/status HTTP/1.0\r\n\r\n"); res.Status != http.StatusOK {
		t.Errorf("GET /server/status over HTTP/1.0 without Host from loopback: %d %s, want 200", res.Status, res.Body)
	}
}
