package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// corsPage is a browser client of the eGain API, as the public ones are:
// it logs in, reads X-egain-session, creates, searches and edits a customer
// from its own origin, and writes what it saw into #out.
const corsPage = `<!doctype html><html><body><pre id="out">running</pre><script>
const api = new URLSearchParams(location.search).get("api");
(async () => {
  const r = {};
  try {
    let res = await fetch(api + "/ws/v12/authentication/user/login", {method: "POST",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({userName: "demo", password: "demo"})});
    r.login = res.status;
    const session = res.headers.get("X-egain-session");
    r.session = !!session;
    const h = {"Content-Type": "application/json", "Accept": "application/json", "X-egain-session": session};
    res = await fetch(api + "/ws/v12/interaction/customer", {method: "POST", headers: h, body: JSON.stringify({
      type: {value: "individual"}, contactPersons: {contactPerson: [{firstName: "Web", lastName: "Page",
      contactPoints: {contactPoint: [{type: {value: "email", email: {emailAddress: "web@page.example"}}}]}}]}})});
    r.create = res.status;
    r.location = res.headers.get("Location");
    res = await fetch(api + "/ws/v12/interaction/customer?email=web@page.example", {headers: h});
    r.search = res.status;
    r.found = (await res.json()).customer[0].id;
    res = await fetch(api + "/ws/v12/interaction/customer", {method: "PUT", headers: h,
      body: JSON.stringify({id: r.found, marketSegment: "Retail"})});
    r.edit = res.status;
  } catch (e) {
    r.error = String(e);
  }
  document.getElementById("out").textContent = JSON.stringify(r);
})();
</script></body></html>`

// pageResult is what corsPage reports.
type pageResult struct {
	Login, Create, Search, Edit int
	Session                     bool
	Location, Found, Error      string
}

// TestCORS_Browser loads corsPage in headless Chromium from an origin in
// server.cors.allow_origins and from one that is not: the first logs in,
// reads the session header, creates, searches and edits; the browser
// refuses the second's calls.
func TestCORS_Browser(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (.ci/run installs it)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); CI runs this test")
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(corsPage))
	})
	allowed, other := httptest.NewServer(page), httptest.NewServer(page)
	defer allowed.Close()
	defer other.Close()
	cfg := configWith(t, "    allow_origins: []", `    allow_origins: ["`+allowed.URL+`"]`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")

	run := func(origin string) pageResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--user-data-dir="+t.TempDir(), "--virtual-time-budget=20000", "--dump-dom", origin+"/page.html?api="+ts.URL).Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		m := regexp.MustCompile(`<pre id="out">([^<]*)</pre>`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("no result in the page:\n%s", out)
		}
		var r pageResult
		if err := json.Unmarshal(m[1], &r); err != nil {
			t.Fatalf("page reported %s: %v", m[1], err)
		}
		return r
	}
	r := run(allowed.URL)
	if r.Error != "" || r.Login != 204 || !r.Session || r.Create != 201 || !strings.HasPrefix(r.Location, "/system/ws/v12/interaction/customer/") ||
		r.Search != 200 || r.Found == "" || r.Edit != 204 {
		t.Errorf("the page of an allowed origin reported %+v", r)
	}
	r = run(other.URL)
	if r.Error == "" || r.Session {
		t.Errorf("the page of another origin was not stopped by the browser: %+v", r)
	}

	// What the browser relied on, and what a server without CORS sends.
	pre := ts.do("OPTIONS", "/ws/v12/interaction/customer", nil, "Origin", allowed.URL, "Access-Control-Request-Method", "PUT",
		"Access-Control-Request-Headers", "content-type,x-egain-session")
	if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != allowed.URL || pre.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight: %d %v", pre.Status, pre.Header)
	}
	get := ts.do("GET", "/livez", nil, "Origin", allowed.URL)
	if expose := strings.ToLower(get.Header.Get("Access-Control-Expose-Headers")); !strings.Contains(expose, "x-egain-session") || !strings.Contains(expose, "location") || !strings.Contains(expose, "etag") {
		t.Errorf("Access-Control-Expose-Headers = %q", expose)
	}
	plain := mustStart(t)
	if h := plain.do("GET", "/livez", nil, "Origin", allowed.URL).Header; h.Get("Access-Control-Allow-Origin") != "" || h.Get("Vary") == "Origin" {
		t.Errorf("CORS headers without allow_origins: %v", h)
	}
}

// TestCORS_ExposesActionableHeaders: a browser page reads only the response
// headers CORS exposes; identify's X-Result-Truncated (the answer was cut at
// 1000), Retry-After of a 429 and WWW-Authenticate of a 401 are not
// CORS-safelisted, so without them a page cannot tell a partial answer
// from a whole one.
func TestCORS_ExposesActionableHeaders(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	cfg := configWith(t, "    allow_origins: []", `    allow_origins: ["https://agent.example.com"]`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	res := ts.do("GET", "/profiles?EmailAddress=nobody@example.com", nil, "Origin", "https://agent.example.com")
	expose := strings.ToLower(res.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"x-result-truncated", "retry-after", "www-authenticate", "etag", "location"} {
		if !strings.Contains(expose, h) {
			t.Errorf("Access-Control-Expose-Headers = %q lacks %s", expose, h)
		}
	}
}
