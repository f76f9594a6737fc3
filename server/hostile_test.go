package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/contactcenter/profiled/ops"
	"github.com/contactcenter/profiled/server"
)

// eGain helpers, shared by the tests of this package.

const (
	egSession = "X-egain-session"
	egTenant  = "X-Genesys-TenantId"
)

// egLogin logs the shipped demo user in and returns the session id.
func egLogin(tb testing.TB, ts *testServer) string {
	tb.Helper()
	res := ts.do("POST", "/ws/v12/authentication/user/login", `{"userName":"demo","password":"demo"}`)
	if res.Status != http.StatusNoContent || res.Header.Get(egSession) == "" {
		tb.Fatalf("login: %d %v %s", res.Status, res.Header, res.Body)
	}
	return res.Header.Get(egSession)
}

var egLocation = regexp.MustCompile(`^/system/ws/v12/interaction/customer/([0-9]+)$`)

// egCreate posts an eGain customer (JSON or XML by its first byte) and
// returns its eGain id.
func egCreate(tb testing.TB, ts *testServer, session, body, tenant string) string {
	tb.Helper()
	ct := "application/json"
	if strings.HasPrefix(strings.TrimSpace(body), "<") {
		ct = "application/xml"
	}
	hdr := []string{"Content-Type", ct, egSession, session}
	if tenant != "" {
		hdr = append(hdr, egTenant, tenant)
	}
	res := ts.do("POST", "/ws/v12/interaction/customer", body, hdr...)
	m := egLocation.FindStringSubmatch(res.Header.Get("Location"))
	if res.Status != http.StatusCreated || m == nil {
		tb.Fatalf("eGain create: %d %v %s", res.Status, res.Header, res.Body)
	}
	return m[1]
}

// egIndividual is an eGain JSON create body for one person.
func egIndividual(first, last, email, phone string) string {
	var points []string
	if email != "" {
		points = append(points, `{"type":{"value":"email","email":{"emailAddress":"`+email+`"}}}`)
	}
	if phone != "" {
		points = append(points, `{"type":{"value":"phone","phone":{"type":{"value":"office"},"phoneNo":"`+phone+`"}}}`)
	}
	return `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"` + first + `","lastName":"` + last +
		`","contactPoints":{"contactPoint":[` + strings.Join(points, ",") + `]}}]}}`
}

// wantWSError checks status and an eGain WSError body in the format asked
// for ("application/json" or "application/xml").
func wantWSError(tb testing.TB, res response, status int, code, format string) {
	tb.Helper()
	if res.Status != status {
		tb.Fatalf("status = %d, want %d; body %s", res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, format) {
		tb.Errorf("Content-Type = %q, want %s", ct, format)
	}
	var body struct {
		XMLName          xml.Name
		Code             string `json:"code" xml:"code"`
		DeveloperMessage string `json:"developerMessage" xml:"developerMessage"`
	}
	var err error
	if format == "application/json" {
		err = json.Unmarshal(res.Body, &body)
	} else {
		err = xml.Unmarshal(res.Body, &body)
		if err == nil && body.XMLName.Local != "error" {
			err = fmt.Errorf("root element %q, want error", body.XMLName.Local)
		}
	}
	if err != nil || body.DeveloperMessage == "" {
		tb.Fatalf("not a WSError in %s (%v): %s", format, err, res.Body)
	}
	if body.Code != code {
		tb.Errorf("code = %q, want %q; body %s", body.Code, code, res.Body)
	}
}

// realServer serves ts's handler through ops.ListenAndServe, the server
// main uses, with the default config's limits and a short
// ReadHeaderTimeout, and points ts.do at it. It returns the address.
func realServer(t *testing.T, ts *testServer, readHeaderTimeout time.Duration) string {
	t.Helper()
	cfg := ts.App.Config.Server
	srv, err := ops.ListenAndServe(ops.ServerConfig{
		Addr:              "127.0.0.1:0",
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       5 * time.Second,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
	}, ts.App.Echo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = srv.Shutdown(2 * time.Second) })
	// ts.do sends to ts.URL; the httptest server stays up for cleanup.
	orig := ts.URL
	ts.URL = "http://" + srv.Addr()
	t.Cleanup(func() { ts.URL = orig }) // runs before the shutdown above and ts.stop
	return srv.Addr()
}

// stillServes checks that the process is unaffected: a normal create and
// read succeed.
// manyMembers is n distinct unknown members: "x0":1,"x1":1,...
func manyMembers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"x` + strconv.Itoa(i) + `":1`
	}
	return strings.Join(parts, ",")
}

// storeState is one profile as read, and the number of profiles: what a
// group of refused requests must leave as it was.
type storeState struct {
	id      string
	profile []byte
	count   int
}

func snapshot(ts *testServer, id string) storeState {
	return storeState{id, ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).Body, ts.profileCount()}
}

// unchanged fails unless the profile reads as it did and the store holds
// created more profiles than it did; then the server must still serve.
func (s storeState) unchanged(t *testing.T, ts *testServer, created int) {
	t.Helper()
	if after := ts.do("GET", "/profiles/"+s.id+"?extensions=Phone", nil).Body; !bytes.Equal(s.profile, after) {
		t.Errorf("profile changed:\n%s\n%s", s.profile, after)
	}
	if n := ts.profileCount(); n != s.count+created {
		t.Errorf("%d profiles, want %d: a refused request stored one", n, s.count+created)
	}
	stillServes(t, ts)
}

func stillServes(tb testing.TB, ts *testServer) {
	tb.Helper()
	id := ts.mustCreate(`{"FirstName":"After"}`)
	if res := ts.do("GET", "/profiles/"+id, nil); res.Status != http.StatusOK {
		tb.Fatalf("a normal request after hostile input: %d %s", res.Status, res.Body)
	}
}

// chunked hides the length of body, so it is sent without Content-Length
// and only the reading limit can stop it.
type chunked struct{ io.Reader }

func TestHostile_BodySize(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	realServer(t, ts, 2*time.Second)
	id := ts.mustCreate(exampleProfile(t))
	session := egLogin(t, ts)
	limit := int(ts.App.Config.Server.MaxBodyBytes)
	bigJSON := `{"FirstName":"A","LastName":"` + strings.Repeat("x", limit) + `"}`
	bigXML := `<customer xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/customer"><type><value>` + strings.Repeat("x", limit) + `</value></type></customer>`
	count := ts.profileCount()
	for _, stream := range []bool{false, true} {
		mode := "ContentLength"
		if stream {
			mode = "Chunked"
		}
		body := func(s string) io.Reader {
			if stream {
				return chunked{strings.NewReader(s)}
			}
			return strings.NewReader(s)
		}
		t.Run(mode, func(t *testing.T) {
			for _, tc := range []struct{ name, method, path string }{
				{"Create", "POST", "/profiles"},
				{"Replace", "PUT", "/profiles/" + id},
				{"InsertRecords", "POST", "/profiles/" + id + "/extensions"},
				{"UpdateRecord", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique"},
				{"Merge", "PUT", "/profiles/" + id + "/merge/" + id},
				{"CreateExtension", "POST", "/metadata/profiles/extensions"},
			} {
				t.Run("Genesys"+tc.name, func(t *testing.T) {
					wantError(t, ts.do(tc.method, tc.path, body(bigJSON)), http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE")
				})
			}
			for _, tc := range []struct{ name, method, path, body, ct, accept string }{
				{"CreateJSON", "POST", "/ws/v12/interaction/customer", bigJSON, "application/json", "application/json"},
				{"CreateXML", "POST", "/ws/v12/interaction/customer", bigXML, "application/xml", "application/xml"},
				{"Edit", "PUT", "/system/ws/v12/interaction/customer", bigJSON, "application/json", "application/xml"},
				{"Login", "POST", "/ws/v12/authentication/user/login", bigJSON, "application/json", "application/json"},
			} {
				t.Run("EGain"+tc.name, func(t *testing.T) {
					res := ts.do(tc.method, tc.path, body(tc.body), "Content-Type", tc.ct, "Accept", tc.accept, egSession, session)
					wantWSError(t, res, http.StatusRequestEntityTooLarge, "413-101", tc.accept)
				})
			}
		})
	}
	if n := ts.profileCount(); n != count {
		t.Errorf("profiles = %d, want %d", n, count)
	}
	stillServes(t, ts)
}

// deep nests open around inner, closing with close.
func deep(n int, open, inner, close string) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// hostileBody is a body built to exhaust a parser, and the error code
// that refuses it.
type hostileBody struct{ name, body, code string }

// hostileEGainBodies are refused by POST /ws/v12/interaction/customer.
func hostileEGainBodies() []hostileBody {
	const ns = `xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/customer"`
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>` +
		`<customer ` + ns + `><type><value>&lol4;</value></type></customer>`
	external := `<?xml version="1.0"?><!DOCTYPE customer [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><customer ` + ns + `><type><value>&xxe;</value></type></customer>`
	undeclared := `<customer ` + ns + `><type><value>&xxe;</value></type></customer>`
	manyXML := `<customer ` + ns + `><type><value>individual</value></type>` + strings.Repeat(`<customerName>x</customerName>`, 10001) + `</customer>`
	manyJSON := `{"type":{"value":"individual"},"customerName":[` + strings.Repeat(`"x",`, 10001) + `"x"]}`
	return []hostileBody{
		{"BillionLaughs", laughs, "400-101"},
		{"ExternalEntity", external, "400-101"},
		{"UndeclaredEntity", undeclared, "400-101"},
		{"ProcessingInstructionOnly", `<?xml version="1.0"?>`, "400-101"},
		{"DeepXML", `<customer ` + ns + `>` + deep(100, "<a>", "x", "</a>") + `</customer>`, "400-105"},
		{"VeryDeepXML", `<customer ` + ns + `>` + deep(100000, "<a>", "", "</a>") + `</customer>`, "400-105"},
		{"ManyXMLElements", manyXML, "400-105"},
		{"DeepJSON", deep(100, `{"a":`, "1", "}"), "400-105"},
		{"VeryDeepJSONArrays", `{"type":` + deep(200000, "[", "", "]") + `}`, "400-105"},
		{"ManyJSONValues", manyJSON, "400-105"},
	}
}

// hostileGenesysBodies are refused by POST /profiles.
func hostileGenesysBodies() []hostileBody {
	return []hostileBody{
		// encoding/json stops at 10000 levels.
		{"VeryDeepArray", `{"FirstName":` + deep(100000, "[", "", "]") + `}`, "MALFORMED_JSON"},
		{"VeryDeepObject", deep(100000, `{"a":`, "1", "}"), "MALFORMED_JSON"},
		// Under the decoder's bound, the schema refuses the shape.
		{"DeepCoreValue", `{"FirstName":` + deep(5000, "[", "", "]") + `}`, "INVALID_TYPE"},
		{"DeepMultiValue", `{"EmailAddress":` + deep(5000, "[", `"a@b.c"`, "]") + `}`, "INVALID_TYPE"},
		{"DeepRecord", `{"Phone":[{"PhoneNumber":"1","description":` + deep(5000, `{"a":`, "1", "}") + `}]}`, "INVALID_TYPE"},
		{"DeepExtension", `{"Phone":` + deep(5000, "[", "", "]") + `}`, "INVALID_TYPE"},
		{"ManyRecords", `{"Phone":[` + strings.TrimSuffix(strings.Repeat(`{"PhoneNumber":"1"},`, 20000), ",") + `]}`, "TOO_MANY_RECORDS"}, // over the 1000 one write may bring
		{"ManyUnknownMembers", `{` + manyMembers(50000) + `}`, "UNKNOWN_ATTRIBUTE"},
	}
}

// postHostile posts a hostile body where it belongs.
func postHostile(ts *testServer, api, session string, tc hostileBody) (res response, accept string) {
	if api == "Genesys" {
		return ts.do("POST", "/profiles", tc.body), "application/json"
	}
	ct, accept := "application/json", "application/json"
	if strings.HasPrefix(tc.body, "<") {
		ct, accept = "application/xml", "application/xml"
	}
	return ts.do("POST", "/ws/v12/interaction/customer", tc.body, "Content-Type", ct, "Accept", accept, egSession, session), accept
}

// TestHostile_Structure: bodies built to exhaust a parser are refused with
// the API's error and change nothing; how long a refusal takes is
// BenchmarkHostile_Refusal's (make bench).
func TestHostile_Structure(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	realServer(t, ts, 2*time.Second)
	session := egLogin(t, ts)
	count := ts.profileCount()
	for api, cases := range map[string][]hostileBody{"EGain": hostileEGainBodies(), "Genesys": hostileGenesysBodies()} {
		t.Run(api, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					res, accept := postHostile(ts, api, session, tc)
					if api == "Genesys" {
						wantError(t, res, http.StatusBadRequest, tc.code)
						return
					}
					wantWSError(t, res, http.StatusBadRequest, tc.code, accept)
					if strings.Contains(string(res.Body), "root:") {
						t.Errorf("an entity was expanded: %s", res.Body)
					}
				})
			}
		})
	}
	if n := ts.profileCount(); n != count {
		t.Errorf("profiles = %d, want %d", n, count)
	}
	stillServes(t, ts)
}

// BenchmarkHostile_Refusal measures how long each hostile body takes to be
// refused (each should cost about what reading it costs).
func BenchmarkHostile_Refusal(b *testing.B) {
	ts := mustStart(b)
	session := egLogin(b, ts)
	for api, cases := range map[string][]hostileBody{"EGain": hostileEGainBodies(), "Genesys": hostileGenesysBodies()} {
		for _, tc := range cases {
			b.Run(api+"/"+tc.name, func(b *testing.B) {
				b.SetBytes(int64(len(tc.body)))
				for b.Loop() {
					if res, _ := postHostile(ts, api, session, tc); res.Status != http.StatusBadRequest {
						b.Fatalf("%d %s", res.Status, res.Body)
					}
				}
			})
		}
	}
}

func TestHostile_InvalidUTF8(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	realServer(t, ts, 2*time.Second)
	id := ts.mustCreate(exampleProfile(t))
	session := egLogin(t, ts)
	before := snapshot(ts, id)
	const bad = "\xff\xfe\xc3\x28"
	t.Run("GenesysBodies", func(t *testing.T) {
		for _, tc := range []struct{ name, method, path, body string }{
			{"Create", "POST", "/profiles", `{"FirstName":"` + bad + `"}`},
			{"CreateInName", "POST", "/profiles", `{"First` + bad + `":"A"}`},
			{"Replace", "PUT", "/profiles/" + id, `{"FirstName":"` + bad + `"}`},
			{"InsertRecords", "POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"` + bad + `"}]}`},
			{"UpdateRecord", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","description":"` + bad + `"}`},
			{"CreateExtension", "POST", "/metadata/profiles/extensions", `{"name":"X` + bad + `","type":"multi-valued"}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, ts.do(tc.method, tc.path, tc.body), http.StatusBadRequest, "INVALID_UTF8")
			})
		}
	})
	t.Run("GenesysQueries", func(t *testing.T) {
		for _, tc := range []struct{ name, path, code string }{
			// Identify refuses what is not UTF-8 once decoded, as a body.
			{"IdentifyName", "/profiles?Email%FFAddress=a", "INVALID_UTF8"},
			{"IdentifyExtensionName", "/profiles?Ph%FFone.PhoneNumber=a", "INVALID_UTF8"},
			{"IdentifyKey", "/profiles?EmailAddress=a&id_key=e%FF", "INVALID_UTF8"},
			{"IdentifyValue", "/profiles?EmailAddress=%FF%FE", "INVALID_UTF8"},
			{"IdentifyExtensionValue", "/profiles?Phone.PhoneNumber=65%FF43210", "INVALID_UTF8"},
			{"IdentifySecondValue", "/profiles?LastName=Banner&FirstName=Br%FFuce", "INVALID_UTF8"},
			{"GetExtensions", "/profiles/" + id + "?extensions=Ph%FFone", "UNKNOWN_EXTENSION"},
			{"Tenant", "/profiles/" + id, "INVALID_TENANT"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := ts.do("GET", tc.path, nil, egTenant, "t"+bad)
				if tc.name != "Tenant" {
					res = ts.do("GET", tc.path, nil)
				}
				wantError(t, res, http.StatusBadRequest, tc.code)
				if !utf8.Valid(res.Body) {
					t.Errorf("error body is not UTF-8: %q", res.Body)
				}
			})
		}
	})
	t.Run("EGain", func(t *testing.T) {
		for _, tc := range []struct{ name, method, path, body, ct, code string }{
			{"CreateJSON", "POST", "/ws/v12/interaction/customer", egIndividual("A"+bad, "B", "", ""), "application/json", "400-101"},
			{"CreateXML", "POST", "/ws/v12/interaction/customer", `<customer xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/customer"><type><value>` + bad + `</value></type></customer>`, "application/xml", "400-101"},
			{"Edit", "PUT", "/ws/v12/interaction/customer", `{"id":"1","level":{"value":"` + bad + `"}}`, "application/json", "400-101"},
			{"Login", "POST", "/ws/v12/authentication/user/login", `{"userName":"demo` + bad + `","password":"demo"}`, "application/json", "400-101"},
			{"SearchName", "GET", "/ws/v12/interaction/customer?em%FFail=a@b.c", "", "", "400-102"},
			{"SearchValue", "GET", "/ws/v12/interaction/customer?email=a%FF@b.c", "", "", "400-103"},
			{"Tenant", "GET", "/ws/v12/interaction/customer?email=a@b.c", "", "", "400-109"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				hdr := []string{"Accept", "application/json", egSession, session}
				if tc.ct != "" {
					hdr = append(hdr, "Content-Type", tc.ct)
				}
				if tc.name == "Tenant" {
					hdr = append(hdr, egTenant, "t"+bad)
				}
				var body any
				if tc.body != "" {
					body = tc.body
				}
				res := ts.do(tc.method, tc.path, body, hdr...)
				wantWSError(t, res, http.StatusBadRequest, tc.code, "application/json")
				if !utf8.Valid(res.Body) {
					t.Errorf("error body is not UTF-8: %q", res.Body)
				}
			})
		}
	})
	before.unchanged(t, ts, 0)
}

func TestHostile_QueryStrings(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	realServer(t, ts, 2*time.Second)
	id := ts.mustCreate(exampleProfile(t))
	session := egLogin(t, ts)
	limit := ts.App.Config.Server.MaxHeaderBytes
	many := func(n int, format string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(format, i)
		}
		return strings.Join(parts, "&")
	}
	t.Run("OverHeaderLimit", func(t *testing.T) {
		// Answered in each API's format (a client parses it) up to a few
		// times the limit; beyond, net/http cuts the read with a plain 431.
		for _, tc := range []struct{ path, code string }{
			{"/profiles?EmailAddress=", `"code":"HEADERS_TOO_LARGE"`},
			{"/ws/v12/interaction/customer?email=", `"code":"431-101"`},
		} {
			res := ts.do("GET", tc.path+strings.Repeat("x", limit+8192), nil, egSession, session, "Accept", "application/json")
			if res.Status != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(res.Body), tc.code) {
				t.Errorf("%s: %d %s, want 431 with %s", tc.path, res.Status, res.Body, tc.code)
			}
			res = ts.do("GET", tc.path+strings.Repeat("x", 5*limit), nil, egSession, session)
			if res.Status != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%s, 5 times the limit: status %d, want 431", tc.path, res.Status)
			}
		}
		// A header counts as the URL does.
		res := ts.do("GET", "/profiles?EmailAddress=a", nil, "X-Padding", strings.Repeat("p", limit))
		if res.Status != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(string(res.Body), `"code":"HEADERS_TOO_LARGE"`) {
			t.Errorf("a header over the limit: %d %s, want 431 HEADERS_TOO_LARGE", res.Status, res.Body)
		}
	})
	justUnder := limit - 2048
	t.Run("GenesysJustUnderLimit", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			status     int
			code       string
		}{
			{"UnknownParameter", "/profiles?x" + strings.Repeat("x", justUnder) + "=1", 400, "UNKNOWN_ATTRIBUTE"},
			{"GetParameter", "/profiles/" + id + "?extensions=" + strings.Repeat("x", justUnder), 400, "UNKNOWN_EXTENSION"},
			{"LongID", "/profiles/" + strings.Repeat("x", justUnder), 404, "PROFILE_NOT_FOUND"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, ts.do("GET", tc.path, nil), tc.status, tc.code)
			})
		}
		t.Run("LongValueFindsNothing", func(t *testing.T) {
			// A value longer than the attribute can hold matches no one.
			res := ts.do("GET", "/profiles?EmailAddress="+strings.Repeat("x", justUnder), nil)
			if res.Status != http.StatusOK || string(res.Body) != "[]" {
				t.Fatalf("got %d %s, want 200 []", res.Status, res.Body)
			}
		})
	})
	t.Run("EGainJustUnderLimit", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			status     int
			code       string
		}{
			{"UnknownParameter", "/ws/v12/interaction/customer?x" + strings.Repeat("x", justUnder) + "=1", 400, "400-102"},
			{"LongIDs", "/ws/v12/interaction/customer/" + strings.Repeat("1", justUnder), 400, "400-103"},
			{"ManyIDs", "/ws/v12/interaction/customer/" + strings.TrimSuffix(strings.Repeat("1,", justUnder/2), ","), 400, "400-105"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantWSError(t, ts.do("GET", tc.path, nil, egSession, session, "Accept", "application/json"), tc.status, tc.code, "application/json")
			})
		}
		t.Run("LongEmailFindsNothing", func(t *testing.T) {
			res := ts.do("GET", "/ws/v12/interaction/customer?email="+strings.Repeat("x", justUnder), nil, egSession, session)
			if res.Status != http.StatusNoContent && res.Status != http.StatusBadRequest {
				t.Fatalf("got %d %s, want 204 or 400", res.Status, res.Body)
			}
		})
	})
	t.Run("ThousandsOfParameters", func(t *testing.T) {
		// Up to 10000 parameters reach the handlers; beyond that net/url
		// refuses the query and so does the server, before any handler.
		for _, tc := range []struct {
			name, query string
			code        string // Genesys identify
			egCode      string // eGain search
		}{
			{"DistinctNames", many(3000, "p%d=1"), "BAD_PARAMETER", "400-102"},
			{"DistinctFilters", many(3000, "EmailAddress%d=1"), "BAD_PARAMETER", "400-102"},
			{"RepeatedName", many(2500, "EmailAddress=a%d@b.c"), "BAD_PARAMETER", "400-102"},
			{"OverNetURLLimit", many(10500, "a%d"), "BAD_PARAMETER", "400-103"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if len(tc.query) > limit {
					t.Fatalf("query of %d bytes is over the header limit", len(tc.query))
				}
				wantError(t, ts.do("GET", "/profiles?"+tc.query, nil), http.StatusBadRequest, tc.code)
				res := ts.do("GET", "/ws/v12/interaction/customer?"+tc.query, nil, egSession, session, "Accept", "application/json")
				wantWSError(t, res, http.StatusBadRequest, tc.egCode, "application/json")
			})
		}
		t.Run("GetOverNetURLLimit", func(t *testing.T) {
			// A read takes only "extensions"; unparsed parameters must not pass as none.
			res := ts.do("GET", "/profiles/"+id+"?"+many(10500, "a%d"), nil)
			wantError(t, res, http.StatusBadRequest, "BAD_PARAMETER")
		})
	})
	stillServes(t, ts)
}

func TestHostile_IDs(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	realServer(t, ts, 2*time.Second)
	id := ts.mustCreate(exampleProfile(t))
	session := egLogin(t, ts)
	before := snapshot(ts, id)
	ids := []struct{ name, raw string }{
		{"EncodedTraversal", "..%2F..%2Fetc"},
		{"EncodedTraversalPasswd", "..%2F..%2F..%2Fetc%2Fpasswd"},
		{"DotDot", ".."},
		{"NUL", "%00"},
		{"NULInside", "a%00b"},
		{"InvalidUTF8", "%FF"},
		{"InvalidUTF8Inside", "ab%C3"},
		{"Backslash", "..%5C..%5Cwindows"},
		{"Newline", "a%0D%0ASet-Cookie:%20x=1"},
		{"VeryLong", strings.Repeat("a", 8000)},
		{"Unicode", url.PathEscape("ÿ客户😀")},
		{"UnicodeLookalike", url.PathEscape(id[:len(id)-1] + "\u0430")},
		{"Percent", "%25"},
		{"Space", "a%20b"},
	}
	t.Run("Genesys", func(t *testing.T) {
		for _, tc := range ids {
			t.Run(tc.name, func(t *testing.T) {
				for _, op := range []struct{ method, path, body string }{
					{"GET", "/profiles/" + tc.raw, ""},
					{"PUT", "/profiles/" + tc.raw, `{"FirstName":"X"}`},
					{"DELETE", "/profiles/" + tc.raw, ""},
					{"POST", "/profiles/" + tc.raw + "/extensions", `{"Phone":[{"PhoneNumber":"9"}]}`},
					{"PUT", "/profiles/" + tc.raw + "/extensions/Phone/by/unique", `{"PhoneNumber":"6543210"}`},
					{"PUT", "/profiles/" + id + "/merge/" + tc.raw, `{}`},
					{"PUT", "/profiles/" + tc.raw + "/merge/" + id, `{}`},
				} {
					var body any
					if op.body != "" {
						body = op.body
					}
					res := ts.do(op.method, op.path, body)
					// Ids are store keys, never file names: no such profile, whatever the bytes.
					wantError(t, res, http.StatusNotFound, "PROFILE_NOT_FOUND")
				}
			})
		}
	})
	t.Run("GenesysCreateWithHostileID", func(t *testing.T) {
		for _, tc := range ids {
			raw, _ := url.PathUnescape(tc.raw)
			body, _ := json.Marshal(map[string]string{"customer_id": raw, "FirstName": "X"})
			t.Run(tc.name, func(t *testing.T) {
				code := "INVALID_CUSTOMER_ID"
				if strings.Contains(raw, "\x00") {
					code = "INVALID_UTF8" // an escaped NUL is refused in any value, before the id is read
				}
				wantError(t, ts.do("POST", "/profiles", body), http.StatusBadRequest, code)
			})
		}
	})
	t.Run("EGain", func(t *testing.T) {
		for _, tc := range ids {
			t.Run(tc.name, func(t *testing.T) {
				res := ts.do("GET", "/ws/v12/interaction/customer/"+tc.raw, nil, egSession, session, "Accept", "application/json")
				wantWSError(t, res, http.StatusBadRequest, "400-103", "application/json")
				body := `{"id":"` + strings.NewReplacer(`"`, ``, `\`, ``).Replace(tc.raw) + `","level":{"value":"Gold"}}`
				res = ts.do("PUT", "/ws/v12/interaction/customer", body, egSession, session, "Accept", "application/json")
				wantWSError(t, res, http.StatusBadRequest, "400-103", "application/json")
			})
		}
	})
	before.unchanged(t, ts, 0)
}

// TestHostile_SlowClient: a client that never finishes its header is cut
// off after ReadHeaderTimeout and does not keep the server from serving.
func TestHostile_SlowClient(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	ts := mustStart(t)
	const timeout = 300 * time.Millisecond
	addr := realServer(t, ts, timeout)
	for _, partial := range []string{
		"",
		"GET /profiles?EmailAddress=a HTTP/1.1\r\n",
		"POST /profiles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
	} {
		t.Run(fmt.Sprintf("%dBytes", len(partial)), func(t *testing.T) {
			// The server's clock starts when it accepts, which may be before
			// Dial returns here: under load this goroutine can resume
			// 150 ms later (make test once saw a close 136 ms after it).
			start := time.Now()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, partial); err != nil {
				t.Fatal(err)
			}
			// Keep trickling a header byte now and then, as a slowloris would.
			stop := make(chan struct{})
			defer close(stop)
			if partial != "" {
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
							if _, err := io.WriteString(conn, "X"); err != nil {
								return
							}
						}
					}
				}()
			}
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			answer := make([]byte, 1024)
			n, err := bufio.NewReader(conn).Read(answer)
			elapsed := time.Since(start)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %s", elapsed)
			}
			if elapsed < timeout/2 || elapsed > timeout+2*time.Second {
				t.Errorf("closed after %s (read %q, %v), want about %s", elapsed, answer[:n], err, timeout)
			}
		})
	}
	stillServes(t, ts)
}

// TestHostile_EGainTenantIsolation covers every eGain customer endpoint
// across tenants (the egain package tests get and e-mail search): edit,
// get of several ids, each search criterion, and that e-mail uniqueness is
// per tenant.
func TestHostile_EGainTenantIsolation(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	s := egLogin(t, ts)
	mine := egCreate(t, ts, s, egIndividual("Tess", "Seven", "t@seven.dom", "5557777"), "7")
	readMine := func() string {
		res := ts.do("GET", "/ws/v12/interaction/customer/"+mine+"?$attribute=all", nil, egSession, s, egTenant, "7", "Accept", "application/json")
		if res.Status != http.StatusOK {
			t.Fatalf("owner's get: %d %s", res.Status, res.Body)
		}
		return string(res.Body)
	}
	before := readMine()
	for _, other := range []string{"", "8"} {
		name := "Tenant8"
		if other == "" {
			name = "NoTenant"
		}
		// Another tenant has a customer of its own, so searches have something to find.
		theirs := egCreate(t, ts, s, egIndividual("Olga", "Other"+other, "o"+other+"@other.dom", "5558888"), other)
		hdr := []string{egSession, s, "Accept", "application/json"}
		if other != "" {
			hdr = append(hdr, egTenant, other)
		}
		t.Run(name, func(t *testing.T) {
			for _, p := range []string{"/ws/v12/interaction/customer/", "/system/ws/v12/interaction/customer/"} {
				wantWSError(t, ts.do("GET", p+mine, nil, hdr...), http.StatusNotFound, "404-101", "application/json")
			}
			// Several ids: only the caller's own customer comes back.
			res := ts.do("GET", "/ws/v12/interaction/customer/"+mine+","+theirs, nil, hdr...)
			if res.Status != http.StatusOK || strings.Contains(string(res.Body), "Seven") || !strings.Contains(string(res.Body), "Olga") {
				t.Errorf("get of both ids: %d %s", res.Status, res.Body)
			}
			for _, q := range []string{"email=t@seven.dom", "phone=5557777", "email=T@Seven.dom"} {
				if res := ts.do("GET", "/ws/v12/interaction/customer?"+q, nil, hdr...); res.Status != http.StatusNoContent {
					t.Errorf("search %s: %d %s", q, res.Status, res.Body)
				}
			}
			res = ts.do("GET", "/ws/v12/interaction/customer?created=[2000-01-01,]", nil, hdr...)
			if res.Status != http.StatusOK || strings.Contains(string(res.Body), "Seven") {
				t.Errorf("search by creation time crossed tenants: %d %s", res.Status, res.Body)
			}
			edit := `{"id":"` + mine + `","level":{"value":"Gold"}}`
			res = ts.do("PUT", "/ws/v12/interaction/customer", edit, append(hdr, "Content-Type", "application/json")...)
			wantWSError(t, res, http.StatusNotFound, "404-101", "application/json")
			// The same e-mail address is free in another tenant.
			egCreate(t, ts, s, egIndividual("Twin", "Seven", "t@seven.dom", ""), other)
		})
	}
	if after := readMine(); after != before {
		t.Errorf("the owner's customer changed:\n%s\n%s", before, after)
	}
	// Genesys ids of the other tenants never reach tenant 7 either.
	var found []map[string]any
	ts.do("GET", "/profiles?EmailAddress=t@seven.dom", nil, egTenant, "7").JSON(t, &found)
	if len(found) != 1 {
		t.Errorf("tenant 7 identifies %v, want its one customer", found)
	}
}

// TestHostile_DotSegmentIDs: "." and ".." are dot segments in a URL path.
// Clients and proxies that normalise paths (RFC 3986 §5.2.4: curl, browsers,
// nginx) turn PUT /profiles/{dest}/merge/.. into PUT /profiles/{dest}, a
// replace that wipes dest's core attributes, and cannot address such a
// profile at all. The id pattern ("safe in URLs") must refuse them.
func TestHostile_DotSegmentIDs(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	for _, id := range []string{".", ".."} {
		t.Run(id, func(t *testing.T) {
			res := ts.do("POST", "/profiles", `{"customer_id":"`+id+`","FirstName":"Dot"}`)
			wantError(t, res, http.StatusBadRequest, "INVALID_CUSTOMER_ID")
		})
	}
}

// TestQueryCheck_BadEscapes: a query net/url cannot parse is refused before
// any handler, in each API's own error format, instead of being read as empty.
func TestQueryCheck_BadEscapes(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Esc"}`)
	wantError(t, ts.do("GET", "/profiles/"+id+"?extensions=%zz", nil), http.StatusBadRequest, "BAD_PARAMETER")
	wantError(t, ts.do("GET", "/profiles?EmailAddress=%zz", nil), http.StatusBadRequest, "BAD_PARAMETER")
	res := ts.do("GET", "/ws/v12/interaction/customer?email=%zz", nil, "Accept", "application/json")
	if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `"code":"400-`) {
		t.Errorf("eGain search with a bad escape: %d %s, want a 400 WSError", res.Status, res.Body)
	}
}

// TestHostile_NumbersAndEscapes: number literals no attribute can hold
// (a million digits; an exponent of a billion, which once panicked inside
// the JSON Schema validator) and escapes that decoding would alter or let
// through (a lone surrogate, NUL) are refused with 400 on both APIs before
// anything parses them, and change nothing.
func TestHostile_NumbersAndEscapes(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	session := egLogin(t, ts)
	before := snapshot(ts, id)
	long := strings.Repeat("9", 1_000_000)
	t.Run("Genesys", func(t *testing.T) {
		for _, tc := range []struct{ name, method, path, body, code string }{
			{"CreateHugeExponent", "POST", "/profiles", `{"Phone":[{"PhoneNumber":"9","PhoneType":1e1000000000}]}`, "INVALID_TYPE"},
			{"InsertHugeExponent", "POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"9","PhoneType":1e1000000000}]}`, "INVALID_TYPE"},
			{"UpdateHugeExponent", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","PhoneType":1E-1000000000}`, "INVALID_TYPE"},
			{"CreateLongNumber", "POST", "/profiles", `{"Phone":[{"PhoneNumber":"9","PhoneType":` + long + `}]}`, "INVALID_TYPE"},
			// The same as numeric strings (taken for integers, spec §10 Q7).
			{"CreateHugeExponentString", "POST", "/profiles", `{"Phone":[{"PhoneNumber":"9","PhoneType":"1e999999"}]}`, "INVALID_TYPE"},
			{"CreateLongNumberString", "POST", "/profiles", `{"Phone":[{"PhoneNumber":"9","PhoneType":"` + long + `"}]}`, "INVALID_TYPE"},
			{"ReplaceLongNumber", "PUT", "/profiles/" + id, `{"FirstName":` + long + `}`, "INVALID_TYPE"},
			{"CreateLoneSurrogate", "POST", "/profiles", `{"FirstName":"a\ud800b"}`, "INVALID_UTF8"},
			{"CreateLowSurrogate", "POST", "/profiles", `{"FirstName":"a\udfffb"}`, "INVALID_UTF8"},
			{"CreateNUL", "POST", "/profiles", `{"EmailAddress":["a\u0000@b.c"]}`, "INVALID_UTF8"},
			{"InsertNUL", "POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"5\u00005"}]}`, "INVALID_UTF8"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, ts.do(tc.method, tc.path, tc.body), http.StatusBadRequest, tc.code)
			})
		}
		// A surrogate pair is one character, and stays one.
		pair := ts.mustCreate(`{"FirstName":"a\ud83d\ude00b"}`)
		var got struct{ FirstName string }
		ts.do("GET", "/profiles/"+pair, nil).JSON(t, &got)
		if got.FirstName != "a😀b" {
			t.Errorf("surrogate pair stored as %q", got.FirstName)
		}
	})
	t.Run("EGain", func(t *testing.T) {
		for _, tc := range []struct{ name, method, body, code string }{
			{"CreateLongNumber", "POST", `{"type":{"value":"individual"},"pin":` + long + `}`, "400-103"},
			{"CreateHugeExponent", "POST", `{"type":{"value":"individual"},"pin":1e1000000000}`, "400-103"},
			{"CreateLoneSurrogate", "POST", egIndividual(`A\ud800`, "B", "", ""), "400-101"},
			{"EditNUL", "PUT", `{"id":"1","level":{"value":"a\u0000"}}`, "400-101"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := ts.do(tc.method, "/ws/v12/interaction/customer", tc.body, "Accept", "application/json", "Content-Type", "application/json", egSession, session)
				wantWSError(t, res, http.StatusBadRequest, tc.code, "application/json")
			})
		}
	})
	before.unchanged(t, ts, 1) // the surrogate pair's profile
}

// TestHead: HEAD is answered wherever GET is, with GET's status and
// headers and no body, in both APIs.
func TestHead(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	session := egLogin(t, ts)
	for _, tc := range []struct {
		path    string
		headers []string
	}{
		{"/profiles/" + id + "?extensions=Phone", nil},
		{"/profiles/nosuch", nil},
		{"/metadata/profiles", nil},
		{"/livez", nil},
		{"/ws/v12/interaction/customer/1", []string{egSession, session, "Accept", "application/json"}},
		{"/ws/v12/interaction/customer/1", nil}, // no session: 401 as GET
	} {
		get := ts.do("GET", tc.path, nil, tc.headers...)
		head := rawHead(t, ts, tc.path, tc.headers...)
		if head.StatusCode != get.Status {
			t.Errorf("HEAD %s: %d; GET: %d", tc.path, head.StatusCode, get.Status)
		}
		for _, h := range []string{"Content-Type", "ETag"} {
			if head.Header.Get(h) != get.Header.Get(h) {
				t.Errorf("HEAD %s: %s %q, GET's %q", tc.path, h, head.Header.Get(h), get.Header.Get(h))
			}
		}
		if cl := head.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(get.Body)) {
			t.Errorf("HEAD %s: Content-Length %s, GET's body is %d bytes", tc.path, cl, len(get.Body))
		}
	}
	// OPTIONS lists HEAD beside GET.
	req, _ := http.NewRequest("OPTIONS", ts.URL+"/profiles", nil)
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.Contains(res.Header.Get("Allow"), "GET, HEAD") {
		t.Errorf("OPTIONS /profiles: Allow %q", res.Header.Get("Allow"))
	}
	// A GET that does more than read (an audited export) is not run for HEAD.
	exports := len(ts.audit(t, "op=export").Entries)
	for _, path := range []string{"/profiles/" + id + "/export", "/admin/egain/customer/1/export", "/admin/backup"} {
		if res := rawHead(t, ts, path); res.StatusCode != http.StatusMethodNotAllowed || strings.Contains(res.Header.Get("Allow"), "HEAD") {
			t.Errorf("HEAD %s: %d Allow %q, want 405 without HEAD", path, res.StatusCode, res.Header.Get("Allow"))
		}
	}
	if n := len(ts.audit(t, "op=export").Entries); n != exports {
		t.Errorf("HEAD on the exports left %d export entries, want %d", n, exports)
	}
}

// rawHead sends HEAD on its own connection and reads the answer as bytes,
// so a body the server sent (which Go's client would not read) is seen.
func rawHead(t *testing.T, ts *testServer, path string, headers ...string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", ts.HTTP.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "HEAD " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
	for i := 0; i+1 < len(headers); i += 2 {
		req += headers[i] + ": " + headers[i+1] + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	header, body, _ := strings.Cut(string(raw), "\r\n\r\n")
	if body != "" {
		t.Errorf("HEAD %s: the server sent a body: %q", path, body)
	}
	res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(header+"\r\n\r\n")), &http.Request{Method: "HEAD"})
	if err != nil {
		t.Fatalf("HEAD %s: %v in %q", path, err, raw)
	}
	return res
}

// TestWrongMethod_405WithAllow: a known path asked with a method it does
// not serve answers 405 with Allow, in the API's error format, on every
// route family (the admin routes once answered 404).
func TestWrongMethod_405WithAllow(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	for _, tc := range []struct{ method, path, allow string }{
		{"GET", "/admin/reload", "POST"},
		{"POST", "/admin/schema", "GET, HEAD"},
		{"DELETE", "/profiles", "GET, HEAD, POST"},
		{"PATCH", "/profiles/x", "DELETE, GET, HEAD, PUT"},
		{"PUT", "/metadata/profiles", "GET, HEAD"},
		{"POST", "/livez", "GET, HEAD"},
		{"DELETE", "/ws/v12/interaction/customer", "GET, HEAD, POST, PUT"},
		{"GET", "/ws/v12/authentication/user/login", "POST"},
	} {
		res := ts.do(tc.method, tc.path, nil)
		if res.Status != http.StatusMethodNotAllowed || !strings.Contains(res.Header.Get("Allow"), tc.allow) {
			t.Errorf("%s %s: %d Allow %q, want 405 with %s", tc.method, tc.path, res.Status, res.Header.Get("Allow"), tc.allow)
			continue
		}
		if strings.HasPrefix(tc.path, "/ws/") {
			wantWSError(t, res, http.StatusMethodNotAllowed, "405-101", "application/xml")
		} else {
			wantError(t, res, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		}
	}
}

// TestHead_RefusedRoutesExist: each route HEAD may not run names a GET
// route the server registers. headless is a list of route templates, and
// an entry a rename left behind would let HEAD run an audited export.
func TestHead_RefusedRoutesExist(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	ts := mustStart(t)
	routes := map[string]bool{}
	for _, r := range ts.App.Echo.Routes() {
		if r.Method == http.MethodGet {
			routes[r.Path] = true
		}
	}
	for path := range server.Headless {
		if !routes[path] {
			t.Errorf("headless names %s, which is no GET route", path)
		}
	}
}

// TestHostile_CompressedBodies: a body sent with a content coding is 415 in
// each API's format, with Accept-Encoding: identity, and nothing is
// written (neither API decodes one).
func TestHostile_CompressedBodies(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte(`{"FirstName":"Zipped","EmailAddress":["zip@x.dom"]}`))
	_ = zw.Close()
	before := ts.profileCount()
	res := ts.do("POST", "/profiles", zipped.Bytes(), "Content-Encoding", "gzip")
	if res.Status != http.StatusUnsupportedMediaType || res.Header.Get("Accept-Encoding") != "identity" ||
		!strings.Contains(string(res.Body), `"code":"UNSUPPORTED_MEDIA_TYPE"`) || !strings.Contains(string(res.Body), "gzip") {
		t.Errorf("Genesys create, gzip: %d %v %s, want 415 UNSUPPORTED_MEDIA_TYPE with Accept-Encoding: identity", res.Status, res.Header, res.Body)
	}
	res = ts.do("POST", "/ws/v12/interaction/customer", zipped.Bytes(), "Content-Encoding", "gzip", egSession, session,
		"Content-Type", "application/json", "Accept", "application/json")
	if res.Status != http.StatusUnsupportedMediaType || !strings.Contains(string(res.Body), `"code":"415-101"`) {
		t.Errorf("eGain create, gzip: %d %s, want 415 with 415-101", res.Status, res.Body)
	}
	if after := ts.profileCount(); after != before {
		t.Errorf("profiles %d -> %d after refused compressed creates", before, after)
	}
	// Identity is no coding at all.
	if res := ts.do("POST", "/profiles", `{"FirstName":"Plain"}`, "Content-Encoding", "identity"); res.Status != http.StatusCreated {
		t.Errorf("Content-Encoding: identity: %d %s, want 201", res.Status, res.Body)
	}
	// Every header line counts.
	req, err := http.NewRequest("POST", ts.URL+"/profiles", bytes.NewReader(zipped.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header["Content-Encoding"] = []string{"identity", "gzip"}
	if res, err := testClient.Do(req); err != nil || res.StatusCode != http.StatusUnsupportedMediaType {
		body, _ := io.ReadAll(res.Body)
		t.Errorf("Content-Encoding: identity, then gzip on a second line: %v %v %s, want 415", res.StatusCode, err, body)
	} else {
		res.Body.Close()
	}
	// The body is looked at where it is read: what is checked before
	// (route, session) answers first.
	if res := ts.do("POST", "/nowhere", zipped.Bytes(), "Content-Encoding", "gzip"); res.Status != http.StatusNotFound {
		t.Errorf("gzip to no route: %d %s, want 404", res.Status, res.Body)
	}
	if res := ts.do("POST", "/ws/v12/interaction/customer", zipped.Bytes(), "Content-Encoding", "gzip", "Content-Type", "application/json"); res.Status != http.StatusUnauthorized {
		t.Errorf("eGain create, gzip, no session: %d %s, want 401", res.Status, res.Body)
	}
}

// rawRequest writes request (a whole HTTP/1.1 message, as a hostile client
// sends it) to ts on a connection of its own and reads the answer.
func rawRequest(t *testing.T, ts *testServer, request string) response {
	t.Helper()
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// A body that cannot be read (broken chunked framing, or a client that
// sends less than its Content-Length and stops) is the client's fault on
// every endpoint that takes one: 400 in the API's format, never the 500
// "internal error" an operator is alerted by, and nothing is done. The
// Genesys and eGain writes answered so; the operations endpoints that
// read a body (server mode, check, the erases) answered 500.
func TestHostile_UnreadableBody(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Kept"}`)
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, egIndividual("Kept", "Too", "kept@x.example", ""), "")
	for _, path := range []string{
		"/profiles", "/server/mode", "/admin/check",
		"/profiles/" + id + "/erase", "/admin/egain/customer/" + num + "/erase",
	} {
		for name, framing := range map[string]string{
			"bad chunk size": "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
			"bad chunk end":  "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
		} {
			res := rawRequest(t, ts, "POST "+path+" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\n"+framing)
			if res.Status != http.StatusBadRequest {
				t.Errorf("POST %s, %s: %d %s, want 400", path, name, res.Status, res.Body)
				continue
			}
			wantError(t, res, http.StatusBadRequest, "MALFORMED_JSON")
		}
	}
	if res := ts.do("GET", "/profiles/"+id, nil); res.Status != http.StatusOK {
		t.Errorf("profile after refused erases: %d %s", res.Status, res.Body)
	}
	if res := ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, egSession, session); res.Status != http.StatusOK {
		t.Errorf("eGain customer after refused erases: %d %s", res.Status, res.Body)
	}
	if res := ts.do("GET", "/server/status", nil); !strings.Contains(string(res.Body), `"production"`) {
		t.Errorf("mode after refused switches: %s", res.Body)
	}
}
