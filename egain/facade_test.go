package egain

import (
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
)

// subset reports the first element of sent missing or different in got:
// elements match by namespace and name, the k-th occurrence against the
// k-th occurrence (JSON arrays too), attributes and text by value.
func subset(path string, sent, got *node) string {
	for _, a := range sent.attrs {
		if !slices.ContainsFunc(got.attrs, func(b xml.Attr) bool { return b.Name == a.Name && b.Value == a.Value }) {
			return fmt.Sprintf("%s/@%s=%q", path, a.Name.Local, a.Value)
		}
	}
	if len(sent.kids) == 0 && sent.shape != shapeArray {
		if s, g := strings.TrimSpace(string(sent.text)), strings.TrimSpace(string(got.text)); s != g {
			return fmt.Sprintf("%s = %q, got %q", path, s, g)
		}
		return ""
	}
	seen := map[string]int{}
	for _, k := range sent.kids {
		id := k.space + " " + k.name
		n := seen[id]
		seen[id]++
		var match *node
		for _, g := range got.kids {
			if g.space+" "+g.name == id {
				if n == 0 {
					match = g
					break
				}
				n--
			}
		}
		at := fmt.Sprintf("%s/%s[%d]", path, k.name, seen[id]-1)
		if match == nil {
			return at + " missing"
		}
		if diff := subset(at, k, match); diff != "" {
			return diff
		}
	}
	return ""
}

// firstCustomer returns the first customer of a collection body.
func firstCustomer(t *testing.T, format Format, body []byte) *node {
	t.Helper()
	var root *node
	var err error
	if format == FormatJSON {
		root, err = parseJSONTree(body, DefaultLimits, "")
	} else {
		root, err = parseXMLTree(body, DefaultLimits)
	}
	if err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, k := range root.kids {
		if k.name == "customer" {
			if k.shape == shapeArray {
				return k.kids[0]
			}
			return k
		}
	}
	t.Fatalf("no customer in %s", body)
	return nil
}

func TestCreateExamples(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	session := h.login("agent")
	for _, name := range exampleNames {
		for _, format := range []Format{FormatJSON, FormatXML} {
			ext := map[Format]string{FormatJSON: ".json", FormatXML: ".xml"}[format]
			t.Run(name+ext, func(t *testing.T) {
				body := readExample(t, name+ext)
				tenant := strings.TrimPrefix(name, "egain-create-") + ext[1:] // the full examples share an e-mail address
				res := h.do("POST", "/ws/v12/interaction/customer", string(body),
					"Content-Type", format.ContentType(), "Accept", format.ContentType(), "Accept-Language", "en-US",
					SessionHeader, session, TenantHeader, tenant).want(t, http.StatusCreated)
				m := locationPattern.FindStringSubmatch(res.Header.Get("Location"))
				if m == nil || res.Header.Get(SessionHeader) != session || res.Header.Get("Content-Type") != format.ContentType() || res.Body != "" {
					t.Fatalf("headers %v, body %q", res.Header, res.Body)
				}
				got := h.do("GET", "/system/ws/v12/interaction/customer/"+m[1]+"?$attribute=all", "",
					"Accept", format.ContentType(), SessionHeader, session, TenantHeader, tenant).want(t, http.StatusOK)
				var sent *node
				var err error
				if format == FormatJSON {
					sent, err = parseJSONTree(body, DefaultLimits, "")
				} else {
					sent, err = parseXMLTree(body, DefaultLimits)
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := subset("customer", sent, firstCustomer(t, format, []byte(got.Body))); diff != "" {
					t.Errorf("element sent but not returned: %s\n%s", diff, got.Body)
				}
			})
		}
	}
}

func TestGenesysInterop(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	session := h.login("agent")
	t.Run("EGainCustomerSeenByGenesys", func(t *testing.T) {
		num := h.create(session, string(readExample(t, "egain-create-full.json")))
		id := h.customerID("", num)
		var got map[string]any
		if err := json.Unmarshal([]byte(h.do("GET", "/profiles/"+id, "").want(t, http.StatusOK).Body), &got); err != nil {
			t.Fatal(err)
		}
		if got["FirstName"] != "John" || got["LastName"] != "Tierney" || got["DOB"] != "1965-12-09" ||
			fmt.Sprint(got["EmailAddress"]) != "[john.russel@customer.com]" {
			t.Errorf("Genesys profile = %v", got)
		}
		found := h.do("GET", "/profiles?EmailAddress=john.russel@customer.com", "").want(t, http.StatusOK)
		if !strings.Contains(found.Body, `"`+id+`"`) {
			t.Errorf("identify = %s, want %s", found.Body, id)
		}
	})
	t.Run("GenesysProfileSeenByEGain", func(t *testing.T) {
		res := h.do("POST", "/profiles", string(readExample(t, "genesys-create-profile.json")), "Content-Type", "application/json").want(t, http.StatusCreated)
		var created struct {
			CustomerID string `json:"customer_id"`
		}
		if err := json.Unmarshal([]byte(res.Body), &created); err != nil {
			t.Fatal(err)
		}
		var num string
		for _, q := range []string{"email=bruce.banner@marvelous.com", "phone=6543210", "email=B.Banner@hulk.dom"} {
			list := ids(t, h.do("GET", "/ws/v12/interaction/customer?"+q, "", SessionHeader, session, "Accept", "application/json"))
			if len(list) != 1 {
				t.Fatalf("%s found %v, want one customer", q, list)
			}
			num = list[0]
		}
		c := h.getJSON(session, num).Customer[0]
		persons := c.ContactPersons.ContactPerson
		if len(persons) != 1 || persons[0].FirstName != "Bruce" || persons[0].LastName != "Banner" || persons[0].DateOfBirth != "1962-05-10T00:00:00.000Z" {
			t.Fatalf("persons = %+v", persons)
		}
		var emails, phones []string
		for _, p := range persons[0].ContactPoints.ContactPoint {
			switch {
			case p.Type.Email != nil:
				emails = append(emails, p.Type.Email.EmailAddress)
			case p.Type.Phone != nil:
				phones = append(phones, p.Type.Phone.PhoneNo)
			}
		}
		if fmt.Sprint(emails) != "[bruce.banner@marvelous.com b.banner@hulk.dom]" || fmt.Sprint(phones) != "[3145926535 6543210 951357456]" {
			t.Errorf("emails %v, phones %v", emails, phones)
		}
		if c.CustomerName != "Bruce Banner" || h.customerID("", num) != created.CustomerID {
			t.Errorf("customerName %q, customer_id %s", c.CustomerName, created.CustomerID)
		}
	})
}

func TestSearch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	a := h.create(s, individual("Ann", "Zed", "ann@x.com", "555", "loyaltyId", "L1"))
	b := h.create(s, individual("Bob", "Young", "bob@x.com", "555", "loyaltyId", "L2"))
	c := h.create(s, individual("Cid", "Xavier", "dean.paul@x.com", "555", "loyaltyId", "L1"))
	d := h.create(s, `{"type":{"value":"group","group":{"type":{"value":"Association"}}},"customerName":"Acme"}`)
	h.do("POST", "/profiles", `{"FirstName":"Eve","EmailAddress":["eve@x.com"],"Activity":[{"ActivityId":"a1","type":"email","isRead":false,"isSecure":true,"mode":"outbound","sentDate":"2024-03-05T10:00:00.000Z"}]}`,
		"Content-Type", "application/json").want(t, http.StatusCreated)
	e := ids(t, h.do("GET", "/ws/v12/interaction/customer?email=eve@x.com", "", SessionHeader, s, "Accept", "application/json"))

	found := []struct {
		name, query string
		want        []string
	}{
		{"Email", "email=ann@x.com", []string{a}},
		{"EmailExactOnly", "email=paul@x.com", nil},
		{"Phone", "phone=555", []string{a, b, c}},
		{"PhonePartial", "phone=55", nil},
		{"Custom", "custom.loyaltyId=L1", []string{a, c}},
		{"AND", "phone=555&custom.loyaltyId=L2", []string{b}},
		{"ANDNoMatch", "email=ann@x.com&custom.loyaltyId=L2", nil},
		{"Created", "created=[2000-01-01T00:00:00.000Z,]", []string{a, b, c, d, e[0]}},
		{"CreatedFuture", "created=[2999-01-01,]", nil},
		{"Activity", `activity={"type":"email","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"[2024-03-01T00:00:00.000Z,2024-03-10T00:00:00.000Z]"}`, e},
		{"ActivityOutside", `activity={"type":"email","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"[2024-03-06T00:00:00.000Z,2024-03-10T00:00:00.000Z]"}`, nil},
		{"Page2", "phone=555&$pagesize=2&$pagenum=2", []string{c}},
		{"PageEmpty", "phone=555&$pagesize=2&$pagenum=3", nil},
		{"Range", "phone=555&$rangestart=2&$rangesize=2", []string{b, c}},
		{"SortDesc", "phone=555&$sort=id&$order=desc", []string{c, b, a}},
		{"SortName", "phone=555&$sort=customerName", []string{a, b, c}},
		{"SortCustomDesc", "phone=555&$sort=custom.loyaltyId&$order=desc", []string{b, a, c}},
		{"SortType", "created=[2000-01-01,]&$sort=type", []string{d, a, b, c, e[0]}},
	}
	for _, tc := range found {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do("GET", "/ws/v12/interaction/customer?"+queryEscape(tc.query), "", SessionHeader, s, "Accept", "application/json")
			if got := ids(t, res); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if res.Status == http.StatusNoContent && res.Body != "" {
				t.Errorf("204 with body %q", res.Body)
			}
		})
	}
	t.Run("SelfLink", func(t *testing.T) {
		res := h.do("GET", "/ws/v12/interaction/customer?email=ann%40x.com", "", SessionHeader, s).want(t, http.StatusOK)
		if !strings.Contains(res.Body, `<link rel="self" href="/system/ws/v12/interaction/customer?email=ann%40x.com"></link>`) ||
			res.Header.Get(SessionHeader) != s {
			t.Errorf("body %s", res.Body)
		}
	})

	bad := []struct{ name, query, code string }{
		{"NoCriterion", "$pagesize=2", "400-104"},
		{"UnknownParameter", "phone=555&foo=1", "400-102"},
		{"UnknownCommonParameter", "phone=555&$lang=en", "400-102"},
		{"OrderWithoutSort", "phone=555&$order=asc", "400-103"},
		{"PagingAndRange", "phone=555&$pagesize=2&$rangestart=1", "400-103"},
		{"PageSizeTooLarge", "phone=555&$pagesize=76", "400-103"},
		{"PageSizeZero", "phone=555&$pagesize=0", "400-103"},
		{"RangeSizeTooLarge", "phone=555&$rangesize=100", "400-103"},
		{"BadRangeSyntax", "created=2020-01-01,2020-02-01", "400-103"},
		{"EmptyRange", "created=[,]", "400-103"},
		{"UnknownSort", "phone=555&$sort=firstName", "400-103"},
		{"UnknownAttribute", "phone=555&$attribute=shoeSize", "400-103"},
		{"UnconfiguredCustom", "custom.shoeSize=4", "400-103"},
		{"ActivityOver14Days", `activity={"type":"email","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"[2024-03-01T00:00:00.000Z,2024-03-16T00:00:00.000Z]"}`, "400-103"},
		{"ActivityWrongMode", `activity={"type":"email","isRead":"false","isSecure":"true","mode":"inbound","sentDate":"[2024-03-01T00:00:00.000Z,2024-03-02T00:00:00.000Z]"}`, "400-103"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			h.do("GET", "/ws/v12/interaction/customer?"+queryEscape(tc.query), "", SessionHeader, s, "Accept", "application/json").
				wantError(t, http.StatusBadRequest, tc.code, FormatJSON)
		})
	}
	t.Run("GetByIDs", func(t *testing.T) {
		res := h.do("GET", "/ws/v12/interaction/customer/"+c+",999999,"+a+"?$sort=id", "", SessionHeader, s, "Accept", "application/json")
		if got := ids(t, res); !slices.Equal(got, []string{a, c}) {
			t.Errorf("got %v", got)
		}
		h.do("GET", "/ws/v12/interaction/customer/999999", "", SessionHeader, s).wantError(t, http.StatusNotFound, "404-101", FormatXML)
		h.do("GET", "/ws/v12/interaction/customer/"+a+"?$pagesize=2", "", SessionHeader, s).wantError(t, http.StatusBadRequest, "400-102", FormatXML)
		h.do("GET", "/ws/v12/interaction/customer/abc", "", SessionHeader, s).wantError(t, http.StatusBadRequest, "400-103", FormatXML)
	})
}

// queryEscape escapes each value of a raw a=b&c=d query.
func queryEscape(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		parts[i] = url.QueryEscape(k) + "=" + url.QueryEscape(v)
	}
	return strings.Join(parts, "&")
}

func TestSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	search := func(session string) response {
		return h.do("GET", "/ws/v12/interaction/customer?email=a@b.c", "", SessionHeader, session)
	}
	t.Run("Missing", func(t *testing.T) {
		h.do("GET", "/ws/v12/interaction/customer?email=a@b.c", "").wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	})
	t.Run("Unknown", func(t *testing.T) {
		id, _ := newSessionID()
		search(id).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
		search("garbage").wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	})
	t.Run("Expired", func(t *testing.T) {
		s := h.login("agent")
		search(s).want(t, http.StatusNoContent)
		h.clock.Advance(h.cfg.SessionIdleTimeout - time.Second)
		search(s).want(t, http.StatusNoContent) // use keeps it alive
		h.clock.Advance(h.cfg.SessionIdleTimeout + time.Second)
		search(s).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	})
	t.Run("Logout", func(t *testing.T) {
		s := h.login("agent")
		res := h.do("DELETE", "/ws/v12/authentication/user/logout", "", SessionHeader, s).want(t, http.StatusNoContent)
		if res.Header.Get(SessionHeader) != s {
			t.Errorf("logout echoed %q", res.Header.Get(SessionHeader))
		}
		search(s).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
		h.do("DELETE", "/system/ws/v12/authentication/user/logout", "", SessionHeader, s).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
	})
	t.Run("LogoutTakesNoQuery", func(t *testing.T) {
		s := h.login("agent")
		h.do("DELETE", "/ws/v12/authentication/user/logout?all=yes", "", SessionHeader, s).wantError(t, http.StatusBadRequest, "400-102", FormatXML)
		search(s).want(t, http.StatusNoContent) // still logged in
		h.do("DELETE", "/ws/v12/authentication/user/logout", "", SessionHeader, s).want(t, http.StatusNoContent)
	})
	t.Run("HeaderTwice", func(t *testing.T) {
		// A proxy that appends a header must not make the request act
		// as whichever session comes first.
		first, second := h.login("agent"), h.login("agent")
		h.do("GET", "/ws/v12/interaction/customer?email=a@b.c", "", SessionHeader, first, SessionHeader, second).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
		h.do("DELETE", "/ws/v12/authentication/user/logout", "", SessionHeader, second, SessionHeader, second).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
		search(second).want(t, http.StatusNoContent)
		for _, s := range []string{first, second} {
			h.do("DELETE", "/ws/v12/authentication/user/logout", "", SessionHeader, s).want(t, http.StatusNoContent)
		}
	})
	t.Run("MaxSessions", func(t *testing.T) {
		var open []string
		for range h.cfg.MaxSessionsPerUser {
			open = append(open, h.login("admin"))
		}
		h.do("POST", "/ws/v12/authentication/user/login", `<login xmlns="`+NSPlatform+`"><userName>admin</userName><password>secret</password></login>`,
			"Content-Type", "application/xml").wantError(t, http.StatusUnauthorized, "401-102", FormatXML)
		res := h.do("POST", "/ws/v12/authentication/user/login?forceLogin=yes", `{"userName":"admin","password":"secret"}`,
			"Content-Type", "application/json", "Accept", "application/json").want(t, http.StatusNoContent)
		search(open[0]).wantError(t, http.StatusUnauthorized, "401-101", FormatXML)
		search(open[1]).want(t, http.StatusNoContent)
		search(res.Header.Get(SessionHeader)).want(t, http.StatusNoContent)
	})
	t.Run("SurvivesRestart", func(t *testing.T) {
		s := h.login("agent")
		before := openSessions(t, h.f)
		h.restart()
		search(s).want(t, http.StatusNoContent)
		if after := openSessions(t, h.f); after != before {
			t.Errorf("OpenSessions = %d after restart, want %d", after, before)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		h.do("POST", "/ws/v12/authentication/user/login", `{"userName":"agent","password":"nope"}`,
			"Content-Type", "application/json", "Accept", "application/json").wantError(t, http.StatusUnauthorized, "401-103", FormatJSON)
		h.do("POST", "/ws/v12/authentication/user/login", `{"userName":"agent"}`,
			"Content-Type", "application/json").wantError(t, http.StatusBadRequest, "400-104", FormatXML)
	})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	login := func(name, password string) response {
		return h.do("POST", "/ws/v12/authentication/user/login", `{"userName":"`+name+`","password":"`+password+`"}`, "Content-Type", "application/json")
	}
	for range h.cfg.LoginThrottle.MaxFailures {
		login("agent", "wrong").want(t, http.StatusUnauthorized)
	}
	res := login("agent", testPassword)
	res.wantError(t, http.StatusTooManyRequests, "429-101", FormatXML)
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Another user from the address gets in: one address is often a whole
	// contact center behind NAT. Its failures count towards the address's
	// higher bound, after which everyone from it waits.
	login("admin", testPassword).want(t, http.StatusNoContent)
	for i := range h.cfg.LoginThrottle.PerAddress() - h.cfg.LoginThrottle.MaxFailures {
		login(fmt.Sprint("nobody", i), "wrong").want(t, http.StatusUnauthorized)
	}
	login("admin", testPassword).wantError(t, http.StatusTooManyRequests, "429-101", FormatXML)
	h.clock.Advance(h.cfg.LoginThrottle.Window)
	login("agent", testPassword).want(t, http.StatusNoContent)
}

func TestAccessErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	viewer, agent := h.login("viewer"), h.login("agent")
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		code                     string
		format                   Format
	}{
		{"SearchWithoutPermission", "GET", "/ws/v12/interaction/customer?email=a@b.c", "", []string{SessionHeader, viewer}, 403, "403-101", FormatXML},
		{"GetWithoutPermission", "GET", "/ws/v12/interaction/customer/1", "", []string{SessionHeader, viewer, "Accept", "application/json"}, 403, "403-101", FormatJSON},
		{"CreateWithoutPermission", "POST", "/ws/v12/interaction/customer", individual("A", "B", "", ""), []string{SessionHeader, viewer, "Content-Type", "application/json"}, 403, "403-101", FormatXML},
		{"EditWithoutPermission", "PUT", "/ws/v12/interaction/customer", `{"id":"1"}`, []string{SessionHeader, viewer, "Content-Type", "application/json"}, 403, "403-101", FormatXML},
		{"BadLanguage", "GET", "/ws/v12/interaction/customer?email=a@b.c", "", []string{SessionHeader, agent, "Accept-Language", "xx-YY", "Accept", "application/json"}, 406, "406-101", FormatJSON},
		{"BadLanguageOnLogout", "DELETE", "/ws/v12/authentication/user/logout", "", []string{SessionHeader, agent, "Accept-Language", "tlh"}, 406, "406-101", FormatXML},
		{"BadAccept", "GET", "/ws/v12/interaction/customer?email=a@b.c", "", []string{SessionHeader, agent, "Accept", "text/plain"}, 406, "406-102", FormatXML},
		{"ErrorAsTextXML", "GET", "/ws/v12/interaction/customer/999999", "", []string{SessionHeader, agent, "Accept", "text/xml"}, 404, "404-101", FormatTextXML},
		{"BadContentType", "POST", "/ws/v12/interaction/customer", "x", []string{SessionHeader, agent, "Content-Type", "text/plain"}, 415, "415-101", FormatXML},
		{"BadTenant", "GET", "/ws/v12/interaction/customer/1", "", []string{SessionHeader, agent, TenantHeader, "no spaces"}, 400, "400-109", FormatXML},
		{"NoRoute", "GET", "/system/ws/v12/interaction/nothing", "", []string{"Accept", "application/json"}, 404, "404-101", FormatJSON},
		{"MethodNotAllowed", "PATCH", "/ws/v12/interaction/customer", "", nil, 405, "405-101", FormatXML},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.do(tc.method, tc.path, tc.body, tc.hdr...).wantError(t, tc.status, tc.code, tc.format)
		})
	}
}

func TestInvalidBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	h.create(s, individual("Taken", "Address", "taken@x.com", ""))
	long := strings.Repeat("x", 125)
	full := string(readExample(t, "egain-create-full.json"))
	points := func(n int, point func(i int) string) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(point(i))
		}
		return `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Many","contactPoints":{"contactPoint":[` + b.String() + `]}}]}}`
	}
	cases := []struct {
		name, body, code string
		format           Format
	}{
		{"MalformedJSON", `{"type":`, "400-101", FormatJSON},
		// Over a count limit: 400-105 in eGain's words.
		{"TooManyEmails", points(101, func(i int) string {
			return fmt.Sprintf(`{"type":{"value":"email","email":{"emailAddress":"m%d@many.example"}}}`, i)
		}), "400-105", FormatJSON},
		{"TooManyPoints", points(1001, func(i int) string {
			return fmt.Sprintf(`{"type":{"value":"web","web":{"url":"https://many.example/%d"}}}`, i)
		}), "400-105", FormatJSON},
		{"MalformedXML", `<customer xmlns="` + NSCustomer + `"><type>`, "400-101", FormatXML},
		{"UnknownJSONElement", `{"type":{"value":"individual"},"shoeSize":"9"}`, "400-106", FormatJSON},
		{"UnknownXMLElement", `<customer xmlns="` + NSCustomer + `"><shoeSize>9</shoeSize></customer>`, "400-106", FormatXML},
		{"Salutation", strings.Replace(full, `"Mr."`, `"Dr."`, 1), "400-103", FormatJSON},
		{"Gender", strings.Replace(full, `"male"`, `"other"`, 1), "400-103", FormatJSON},
		{"Suffix", strings.Replace(full, `"jr."`, `"iv"`, 1), "400-103", FormatJSON},
		{"PhoneType", strings.Replace(full, `"home"`, `"cell"`, 1), "400-103", FormatJSON},
		{"FirstNameTooLong", individual(long, "B", "", ""), "400-105", FormatJSON},
		{"BadEmail", individual("A", "B", "not-an-address", ""), "400-103", FormatJSON},
		{"DuplicateEmail", individual("A", "B", "Taken@x.com", ""), "400-107", FormatJSON},
		{"MissingFirstName", `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"lastName":"B"}]}}`, "400-104", FormatJSON},
		{"UnknownCustomAttribute", individual("A", "B", "", "", "shoeSize", "9"), "400-103", FormatJSON},
	}
	before := h.profileCount()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := FormatJSON.ContentType()
			if strings.HasPrefix(tc.body, "<") {
				ct = FormatXML.ContentType()
			}
			h.do("POST", "/ws/v12/interaction/customer", tc.body, SessionHeader, s, "Content-Type", ct, "Accept", tc.format.ContentType()).
				wantError(t, http.StatusBadRequest, tc.code, tc.format)
		})
	}
	if after := h.profileCount(); after != before {
		t.Errorf("profiles: %d before, %d after refused creates", before, after)
	}
}

func TestEdit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("Ann", "Old", "ann@x.com", "111"))
	other := h.create(s, individual("Bob", "Other", "bob@x.com", "222"))
	person := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0]
	otherPoint := h.getJSON(s, other).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint[0].ID
	put := func(body string) response {
		return h.do("PUT", "/ws/v12/interaction/customer", body, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
	}

	res := put(`{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+`","lastName":"New","contactPoints":{"contactPoint":[`+
		`{"type":{"value":"phone","phone":{"type":{"value":"mobile"},"phoneNo":"333"}}},`+
		`{"id":"`+person.ContactPoints.ContactPoint[0].ID+`","priority":{"value":"high"}}]}}]}}`).want(t, http.StatusNoContent)
	if res.Header.Get(SessionHeader) != s {
		t.Errorf("session not echoed")
	}
	id := h.customerID("", num)
	var got struct {
		LastName     string
		EmailAddress []string
		Phone        []struct{ PhoneNumber string }
	}
	if err := json.Unmarshal([]byte(h.do("GET", "/profiles/"+id+"?extensions=Phone", "").want(t, http.StatusOK).Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.LastName != "New" || fmt.Sprint(got.Phone) != "[{111} {333}]" || fmt.Sprint(got.EmailAddress) != "[ann@x.com]" {
		t.Errorf("Genesys sees %+v", got)
	}
	t.Run("GenesysChangeSeenByEGain", func(t *testing.T) {
		h.do("PUT", "/profiles/"+id, `{"FirstName":"Anna","LastName":"New","EmailAddress":["anna@x.com"]}`, "Content-Type", "application/json").want(t, http.StatusOK)
		p := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0]
		points := p.ContactPoints.ContactPoint
		if p.FirstName != "Anna" || len(points) != 3 || points[2].Type.Email == nil || points[2].Type.Email.EmailAddress != "anna@x.com" {
			t.Errorf("eGain sees %+v", p)
		}
		if points[0].ID != person.ContactPoints.ContactPoint[1].ID { // the phone kept its id
			t.Errorf("phone id %s, want %s", points[0].ID, person.ContactPoints.ContactPoint[1].ID)
		}
	})
	t.Run("PointOfAnotherCustomer", func(t *testing.T) {
		put(`{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+`","contactPoints":{"contactPoint":[{"id":"`+otherPoint+`","priority":{"value":"low"}}]}}]}}`).
			wantError(t, http.StatusBadRequest, "400-108", FormatJSON)
	})
	t.Run("DuplicateEmail", func(t *testing.T) {
		res := put(`{"id":"` + num + `","contactPersons":{"contactPerson":[{"id":"` + person.ID + `","contactPoints":{"contactPoint":[{"type":{"value":"email","email":{"emailAddress":"Bob@X.com"}}}]}}]}}`)
		res.wantError(t, http.StatusBadRequest, "400-107", FormatJSON)
		if !strings.Contains(res.Body, `Bob@X.com`) { // as sent, not as the index folds it
			t.Errorf("the error does not name the address: %s", res.Body)
		}
	})
	// The Genesys API does not keep e-mail addresses unique: a profile it
	// writes may share one with an eGain customer. Each may still be edited
	// through eGain as long as the edit adds no address another has.
	t.Run("AddressSharedThroughGenesys", func(t *testing.T) {
		h.do("POST", "/profiles", `{"FirstName":"Gen","EmailAddress":["gen@x.com","ANNA@x.com"]}`, "Content-Type", "application/json").want(t, http.StatusCreated)
		put(`{"id":"`+num+`","pin":"4321"}`).want(t, http.StatusNoContent)
		found := ids(t, h.do("GET", "/ws/v12/interaction/customer?email=gen@x.com", "", SessionHeader, s, "Accept", "application/json"))
		if len(found) != 1 {
			t.Fatalf("search by the Genesys profile's address = %v", found)
		}
		genNum := found[0]
		put(`{"id":"`+genNum+`","level":{"value":"Gold"}}`).want(t, http.StatusNoContent)
		res := put(`{"id":"` + genNum + `","contactPersons":{"contactPerson":[{"id":"` + genNum + `000001","contactPoints":{"contactPoint":[{"type":{"value":"email","email":{"emailAddress":"bob@x.com"}}}]}}]}}`)
		res.wantError(t, http.StatusBadRequest, "400-107", FormatJSON)
	})
	t.Run("UnknownCustomer", func(t *testing.T) {
		put(`{"id":"987654","level":{"value":"Gold"}}`).wantError(t, http.StatusNotFound, "404-101", FormatJSON)
		// A body refused whatever is stored keeps its 400 for a customer
		// that does not exist, as before edits were checked on changes.
		put(`{"id":"987654","role":{"value":"Boss"}}`).wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
	})
	t.Run("MissingID", func(t *testing.T) {
		put(`{"level":{"value":"Gold"}}`).wantError(t, http.StatusBadRequest, "400-104", FormatJSON)
	})
}

// TestEdit_WhatWasReadWritesBack: a client that reads a customer, changes
// a field and writes the whole customer back (server-filled fields such
// as an individual's customerName included) gets 204, and the customer
// reads as before but for that field.
// TestRecordLimitIsACountLimit: a customer over the configured record
// limit (limits.max_records_per_extension) is 400-105 to eGain clients.
func TestRecordLimitIsACountLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.svc.RecordLimit = 2
	s := h.login("agent")
	body := `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Three","contactPoints":{"contactPoint":[` +
		`{"type":{"value":"web","web":{"url":"https://a.example"}}},{"type":{"value":"web","web":{"url":"https://b.example"}}},{"type":{"value":"web","web":{"url":"https://c.example"}}}]}}]}}`
	h.do("POST", "/ws/v12/interaction/customer", body, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").
		wantError(t, http.StatusBadRequest, "400-105", FormatJSON)
}

func TestEdit_WhatWasReadWritesBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	for _, example := range []string{"egain-create-full.json", "egain-create-minimal.json"} {
		t.Run(example, func(t *testing.T) {
			num := h.create(s, string(mustRead(t, "../testdata/examples/"+example)))
			read := func() map[string]any { return h.view(t, s, num) }
			before := read()
			for _, derived := range []string{"customerName", "lastModified", "created", "link"} {
				if before[derived] == nil {
					t.Fatalf("the view has no %s, the test proves nothing: %v", derived, before)
				}
			}
			edited := maps.Clone(before) // every derived field included
			edited["entitlements"] = "Gold support"
			h.do("PUT", "/ws/v12/interaction/customer", mustJSON(t, edited), SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
			after := read()
			delete(after, "lastModified")
			delete(edited, "lastModified")
			if !reflect.DeepEqual(after, edited) {
				t.Errorf("after writing back\n%v\nwant\n%v", after, edited)
			}
		})
	}
}

// TestEdit_WhatWasReadWritesBackInXML: TestEdit_WhatWasReadWritesBack for a
// client that speaks XML (JAXB, .NET): the vendor's XML examples, read with
// every attribute and written back with one change, read back the same.
func TestEdit_WhatWasReadWritesBackInXML(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	for _, example := range []string{"egain-create-full.xml", "egain-create-minimal.xml"} {
		t.Run(example, func(t *testing.T) {
			res := h.do("POST", "/ws/v12/interaction/customer", string(mustRead(t, "../testdata/examples/"+example)), SessionHeader, s, "Content-Type", "application/xml").want(t, http.StatusCreated)
			num := path.Base(res.Header.Get("Location"))
			read := func() string {
				body := h.do("GET", "/ws/v12/interaction/customer/"+num+"?$attribute=all", "", SessionHeader, s, "Accept", "application/xml").want(t, http.StatusOK).Body
				return regexp.MustCompile(`<lastModified date="[^"]*">`).ReplaceAllString(body, "<lastModified>")
			}
			before := read()
			edit := strings.Replace(onlyCustomerXML(before), "</entitlements>", " (gold)</entitlements>", 1)
			if !strings.Contains(edit, "(gold)") {
				edit = strings.Replace(onlyCustomerXML(before), "<created>", "<entitlements>(gold)</entitlements><created>", 1)
			}
			h.do("PUT", "/ws/v12/interaction/customer", edit, SessionHeader, s, "Content-Type", "application/xml").want(t, http.StatusNoContent)
			if after := onlyCustomerXML(read()); after != edit {
				t.Errorf("after writing back\n%s\nwant\n%s", after, edit)
			}
		})
	}
}

// onlyCustomerXML is the one customer of an XML read, with the namespaces
// the read's root declares: what a client sends back to edit it.
func onlyCustomerXML(read string) string {
	_, root, _ := strings.Cut(read, "<customers")
	namespaces, _, _ := strings.Cut(root, ">")
	_, customer, _ := strings.Cut(read, "<customer ")
	customer, _, _ = strings.Cut(customer, "</customers>")
	return "<customer" + namespaces + " " + customer
}

func TestDepartmentalization(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.EGain) { c.Departmentalization = true })
	agent, admin := h.login("agent"), h.login("admin")
	withDept := func(dept, email string) string {
		return `{"department":{"name":"` + dept + `"},` + strings.TrimPrefix(individual("A", "B", email, ""), "{")
	}
	post := func(session, body string) response {
		return h.do("POST", "/ws/v12/interaction/customer", body, SessionHeader, session, "Content-Type", "application/json")
	}
	post(agent, individual("A", "B", "none@x.com", "")).wantError(t, http.StatusBadRequest, "400-104", FormatXML)
	post(agent, withDept("Marketing", "m@x.com")).wantError(t, http.StatusForbidden, "403-101", FormatXML)
	service := h.create(agent, withDept("Service", "s@x.com"))
	sales := h.create(agent, withDept("Sales", "sales@x.com"))
	marketing := h.create(admin, withDept("Marketing", "m@x.com"))

	search := func(session string) []string {
		return ids(t, h.do("GET", "/ws/v12/interaction/customer?created=[2000-01-01,]", "", SessionHeader, session, "Accept", "application/json"))
	}
	if got := search(agent); !slices.Equal(got, []string{service, sales}) {
		t.Errorf("agent finds %v", got)
	}
	if got := search(admin); !slices.Equal(got, []string{service, sales, marketing}) {
		t.Errorf("admin finds %v", got)
	}
	h.do("GET", "/ws/v12/interaction/customer?email=m@x.com", "", SessionHeader, agent).want(t, http.StatusNoContent)
	h.do("GET", "/ws/v12/interaction/customer/"+marketing, "", SessionHeader, agent).wantError(t, http.StatusForbidden, "403-101", FormatXML)
	// An edit sending an empty department is missing one, for every user:
	// it moved the customer to the default department.
	for _, session := range []string{admin, agent} {
		h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+sales+`","department":{}}`, SessionHeader, session, "Content-Type", "application/json").
			wantError(t, http.StatusBadRequest, "400-104", FormatXML)
	}
	if got := search(agent); !slices.Equal(got, []string{service, sales}) {
		t.Errorf("after the refused edits the agent finds %v", got)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("T", "Seven", "t@seven.com", ""), TenantHeader, "7")
	get := func(tenant ...string) response {
		hdr := append([]string{SessionHeader, s}, tenant...)
		return h.do("GET", "/ws/v12/interaction/customer/"+num, "", hdr...)
	}
	search := func(tenant ...string) response {
		hdr := append([]string{SessionHeader, s}, tenant...)
		return h.do("GET", "/ws/v12/interaction/customer?email=t@seven.com", "", hdr...)
	}
	get(TenantHeader, "7").want(t, http.StatusOK)
	search(TenantHeader, "7").want(t, http.StatusOK)
	for _, other := range [][]string{nil, {TenantHeader, "8"}} {
		get(other...).wantError(t, http.StatusNotFound, "404-101", FormatXML)
		search(other...).want(t, http.StatusNoContent)
	}
	h.do("GET", "/profiles/"+h.customerID("7", num), "").want(t, http.StatusNotFound)
	h.do("GET", "/profiles/"+h.customerID("7", num), "", TenantHeader, "7").want(t, http.StatusOK)
}

func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	busy := h.create(s, individual("Ann", "Busy", "busy@x.com", ""))
	busyPerson := h.getJSON(s, busy).Customer[0].ContactPersons.ContactPerson[0].ID
	const n = 12
	var others, otherPersons []string
	for i := range n {
		num := h.create(s, individual("Other", strconv.Itoa(i), "", ""))
		others = append(others, num)
		otherPersons = append(otherPersons, h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ID)
	}
	addPoint := func(num, person, point string) string {
		return `{"id":"` + num + `","contactPersons":{"contactPerson":[{"id":"` + person + `","contactPoints":{"contactPoint":[` + point + `]}}]}}`
	}
	tests := []struct {
		name    string
		method  string
		body    func(i int) string
		success int    // how many succeed
		code    string // what the others answer
	}{
		{"EditsOfOneCustomerAllLand", "PUT", func(i int) string {
			return addPoint(busy, busyPerson, `{"type":{"value":"phone","phone":{"type":{"value":"office"},"phoneNo":"9`+strconv.Itoa(i)+`"}}}`)
		}, n, ""},
		{"CreatesWithOneAddress", "POST", func(int) string { return individual("R", "Ace", "race@x.com", "") }, 1, "400-107"},
		{"EditsAddingOneAddress", "PUT", func(i int) string {
			return addPoint(others[i], otherPersons[i], `{"type":{"value":"email","email":{"emailAddress":"edit.race@x.com"}}}`)
		}, 1, "400-107"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := make([]response, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					res[i] = h.do(tc.method, "/ws/v12/interaction/customer", tc.body(i), SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
				})
			}
			wg.Wait()
			ok := 0
			for _, r := range res {
				if r.Status < 300 {
					ok++
					continue
				}
				r.wantError(t, http.StatusBadRequest, tc.code, FormatJSON)
				if strings.Contains(r.Body, "identification key") || strings.Contains(r.Body, "revision") {
					t.Errorf("store internals leak: %s", r.Body)
				}
			}
			if ok != tc.success {
				t.Errorf("%d succeeded, want %d", ok, tc.success)
			}
		})
	}
	if points := h.getJSON(s, busy).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint; len(points) != n+1 {
		t.Errorf("busy customer has %d points, want %d (an edit was lost)", len(points), n+1)
	}
}

func TestSharedPhoneNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	phone := func(typ string) string {
		return `{"type":{"value":"phone","phone":{"type":{"value":"` + typ + `"},"phoneNo":"777"}}}`
	}
	num := h.create(s, `{"type":{"value":"group","group":{"type":{"value":"Association"}}},"customerName":"Switchboard","contactPersons":{"contactPerson":[`+
		`{"firstName":"A","contactPoints":{"contactPoint":[`+phone("office")+`,`+phone("fax")+`]}},`+
		`{"firstName":"B","contactPoints":{"contactPoint":[`+phone("office")+`]}}]}}`)
	var points []string
	for _, p := range h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson {
		for _, pt := range p.ContactPoints.ContactPoint {
			if pt.Type.Phone == nil || pt.Type.Phone.PhoneNo != "777" {
				t.Errorf("point %+v", pt)
			}
			points = append(points, pt.ID)
		}
	}
	if len(points) != 3 {
		t.Fatalf("points %v, want 3 sharing the number", points)
	}
	if got := ids(t, h.do("GET", "/ws/v12/interaction/customer?phone=777", "", SessionHeader, s, "Accept", "application/json")); !slices.Equal(got, []string{num}) {
		t.Errorf("search found %v", got)
	}
	var profile struct {
		Phone []struct{ PhoneNumber string }
	}
	if err := json.Unmarshal([]byte(h.do("GET", "/profiles/"+h.customerID("", num)+"?extensions=Phone", "").want(t, http.StatusOK).Body), &profile); err != nil {
		t.Fatal(err)
	}
	if len(profile.Phone) != 1 {
		t.Errorf("Genesys Phone records %+v, want the number once", profile.Phone)
	}
}

// TestEdit_GenesysAddressesWriteBack: e-mail addresses a Genesys client
// wrote (any string the schema takes) are shown as points; a client that
// reads the customer and writes it back unchanged is not refused for them,
// while an address the edit adds is still checked.
func TestEdit_GenesysAddressesWriteBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "S2", "EmailAddress": []any{"s2@x.com", "not an email"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	read := h.view(t, s, strconv.FormatUint(p.Num, 10))
	if !strings.Contains(mustJSON(t, read), "not an email") {
		t.Fatalf("the view lacks the Genesys address, the test proves nothing: %v", read)
	}
	edited := maps.Clone(read)
	edited["entitlements"] = "Gold support"
	h.do("PUT", "/ws/v12/interaction/customer", mustJSON(t, edited), SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)

	added := strings.Replace(mustJSON(t, read), `"not an email"`, `"also not an email"`, 1)
	h.do("PUT", "/ws/v12/interaction/customer", added, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").
		wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
}

// TestEdit_PreferredAgentIsAUser: preferredAgent.id must be the id of a
// configured user (spec §3.1).
func TestEdit_PreferredAgentIsAUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("Pat", "Agent", "pat@agent.example", ""))
	edit := func(agent string) response {
		return h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","preferredAgent":{"id":"`+agent+`"}}`,
			SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
	}
	edit("2001").want(t, http.StatusNoContent)
	edit("987654").wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
	// The user's id changes (2001 is no user now): the customer read back
	// and written unchanged still passes; another id that is no user not.
	h.cfg.Users[0].ID = "2002"
	h.restart()
	s = h.login("agent")
	res := h.do("GET", "/ws/v12/interaction/customer/"+num+"?$attribute=all", "", SessionHeader, s, "Accept", "application/json").want(t, http.StatusOK)
	if !strings.Contains(res.Body, `"preferredAgent":{"id":"2001"}`) {
		t.Fatalf("the stored preferredAgent is not shown, the test proves nothing: %s", res.Body)
	}
	edit("2001").want(t, http.StatusNoContent)
	edit("2003").wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
	edit("2002").want(t, http.StatusNoContent)
}

// TestCreate_CustomValueTooLongToSearch: a custom attribute value within
// its 1024 characters whose index entry is over profile.MaxIndexedBytes
// is refused in eGain words (400-105), and nothing is stored.
func TestCreate_CustomValueTooLongToSearch(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	res := h.do("POST", "/ws/v12/interaction/customer", individual("Long", "Value", "long@value.example", "", "loyaltyId", strings.Repeat("\U0001F600", 1024)),
		SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
	res.wantError(t, http.StatusBadRequest, "400-105", FormatJSON)
	if !strings.Contains(res.Body, "custom attribute is too long to be searched") {
		t.Errorf("message: %s", res.Body)
	}
	h.do("GET", "/ws/v12/interaction/customer?email=long@value.example", "", SessionHeader, s).want(t, http.StatusNoContent)
}

// TestEdit_KeepsTheProfilesCaseOfAnAddress: a Genesys client changes the
// case of an address an eGain client wrote; the eGain read shows the
// profile's spelling, and an edit that does not touch addresses keeps it.
func TestEdit_KeepsTheProfilesCaseOfAnAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("Case", "Kept", "caseb@x.com", ""))
	n, _ := strconv.ParseUint(num, 10, 64)
	id, err := h.svc.IDByNum(t.Context(), "", n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Replace(t.Context(), "", id, map[string]any{"FirstName": "Case", "LastName": "Kept", "EmailAddress": []any{"Caseb@X.com"}}, profile.ReplaceOptions{}); err != nil {
		t.Fatal(err)
	}
	if read := mustJSON(t, h.view(t, s, num)); !strings.Contains(read, `"Caseb@X.com"`) || strings.Contains(read, `"caseb@x.com"`) {
		t.Errorf("the eGain read does not show the profile's spelling: %s", read)
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","marketSegment":"m"}`, SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
	p := h.storedProfile(t, n)
	if got := p.Attributes["EmailAddress"]; !reflect.DeepEqual(got, []any{"Caseb@X.com"}) {
		t.Errorf("after an unrelated edit the profile's addresses are %v, want [Caseb@X.com]", got)
	}
}

// TestRead_DocumentAGenesysClientWrote: the legacy document attribute is a
// schema attribute a Genesys client can write; a value that is no customer
// is not the facade's, so the customer is read from its records (it was a
// 500 on every eGain read and data export of the customer).
func TestRead_DocumentAGenesysClientWrote(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Doc", "LastName": "Junk", "EgainCustomer": map[string]any{"document": "hello"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	view := h.view(t, s, strconv.FormatUint(p.Num, 10))
	if !strings.Contains(mustJSON(t, view), `"Doc Junk"`) {
		t.Errorf("eGain view: %v", view)
	}
	full := h.storedProfile(t, p.Num, h.f.mapper.extensions()...)
	if doc := h.f.CustomerJSON(full); !strings.Contains(string(doc), `"Doc Junk"`) {
		t.Errorf("export view: %s", doc)
	}
}

// TestEdit_ValuesAGenesysClientWroteWriteBack: values a Genesys client
// wrote that eGain's rules refuse (a contact point type eGain does not
// know, an unconfigured custom attribute, a salutation outside the list, a
// control character) do not stop a client that reads the customer,
// changes one field and writes the whole customer back, in JSON or XML;
// they are kept, and the same values sent as a change are still refused.
func TestEdit_ValuesAGenesysClientWroteWriteBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	p, err := h.svc.Create(t.Context(), "", map[string]any{
		"FirstName": "Mixed", "LastName": "Writers",
		"EgainCustomer":   map[string]any{"type": "individual", "pin": "a\x01b"},
		"ContactPerson":   []any{map[string]any{"personId": "1", "firstName": "Mixed", "lastName": "Writers", "salutation": "Dr."}},
		"ContactPoint":    []any{map[string]any{"pointId": "2", "personId": "1", "type": "alien", "priority": "urgent"}},
		"CustomAttribute": []any{map[string]any{"name": "unconfigured", "value": "v\x01w"}, map[string]any{"name": "loyaltyId", "value": "L\x01Y"}},
	}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	num := strconv.FormatUint(p.Num, 10)
	read := h.view(t, s, num)
	for _, want := range []string{`"alien"`, `"unconfigured"`, `"Dr."`, `"urgent"`, `a\u0001b`} {
		if !strings.Contains(mustJSON(t, read), want) {
			t.Fatalf("the view lacks %s, the test proves nothing: %s", want, mustJSON(t, read))
		}
	}
	edited := maps.Clone(read)
	edited["marketSegment"] = "retail"
	h.do("PUT", "/ws/v12/interaction/customer", mustJSON(t, edited), SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)

	xmlRead := h.do("GET", "/ws/v12/interaction/customer/"+num+"?$attribute=all", "", SessionHeader, s, "Accept", "application/xml").want(t, http.StatusOK).Body
	xmlEdit := strings.Replace(onlyCustomerXML(xmlRead), "<marketSegment>retail</marketSegment>", "<marketSegment>wholesale</marketSegment>", 1)
	if !strings.Contains(xmlEdit, "wholesale") {
		t.Fatalf("no marketSegment element in the XML read: %s", xmlRead)
	}
	h.do("PUT", "/ws/v12/interaction/customer", xmlEdit, SessionHeader, s, "Content-Type", "application/xml").want(t, http.StatusNoContent)

	after := mustJSON(t, h.view(t, s, num))
	for _, want := range []string{`"wholesale"`, `"alien"`, `"unconfigured"`, `"Dr."`, `"urgent"`, `"a\u0001b"`, `"v\u0001w"`, `"L\u0001Y"`} {
		if !strings.Contains(after, want) {
			t.Errorf("after the edits the customer lacks %s: %s", want, after)
		}
	}
	for _, changed := range []struct{ from, to string }{
		{`"alien"`, `"martian"`}, {`"unconfigured"`, `"unconfigured2"`}, {`"Dr."`, `"Prof."`}, {`"urgent"`, `"now"`},
	} {
		body := strings.Replace(mustJSON(t, read), changed.from, changed.to, 1)
		h.do("PUT", "/ws/v12/interaction/customer", body, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").
			wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
	}
	if got := mustJSON(t, h.view(t, s, num)); got != after {
		t.Errorf("a refused edit changed the customer:\n%s\nwant\n%s", got, after)
	}
}

// TestCreatedBy: a customer shows the id of the user who created it when
// $attribute asks for createdBy; a user without an id leaves it out, an
// edit cannot change it, and the Genesys API sees it in the customer
// extension.
func TestCreatedBy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	agent, admin := h.login("agent"), h.login("admin")
	get := func(num, attrs string) string {
		return h.do("GET", "/ws/v12/interaction/customer/"+num+attrs, "", SessionHeader, agent, "Accept", "application/json").want(t, http.StatusOK).Body
	}
	num := h.create(agent, individual("Made", "By", "made@by.example", ""))
	for _, attrs := range []string{"?$attribute=createdBy", "?$attribute=all"} {
		if got := get(num, attrs); !strings.Contains(got, `"createdBy":{"id":"2001"}`) {
			t.Errorf("%s: %s", attrs, got)
		}
	}
	if got := get(num, ""); strings.Contains(got, "createdBy") {
		t.Errorf("the summary shows createdBy: %s", got)
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","createdBy":{"id":"9"},"marketSegment":"m"}`,
		SessionHeader, agent, "Content-Type", "application/json").want(t, http.StatusNoContent)
	if got := get(num, "?$attribute=createdBy,marketSegment"); !strings.Contains(got, `"createdBy":{"id":"2001"}`) || !strings.Contains(got, `"marketSegment":"m"`) {
		t.Errorf("after an edit sending another createdBy: %s", got)
	}
	if got := h.do("GET", "/profiles/"+h.customerID("", num)+"?extensions=EgainCustomer", "").want(t, http.StatusOK).Body; !strings.Contains(got, `"createdBy":"2001"`) {
		t.Errorf("the Genesys view lacks createdBy: %s", got)
	}
	other := h.create(admin, individual("No", "Id", "no@id.example", ""))
	if got := get(other, "?$attribute=all"); strings.Contains(got, "createdBy") {
		t.Errorf("a customer made by a user without an id shows createdBy: %s", got)
	}
}

// TestCreatedBy_OptionalInTheSchema: a config written before createdBy
// was kept (no such attribute in the customer extension) still fits the
// mapping, and customers are written without it.
func TestCreatedBy_OptionalInTheSchema(t *testing.T) {
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "{name: createdBy,") {
			kept = append(kept, line)
		}
	}
	if len(kept) == len(strings.Split(string(data), "\n")) {
		t.Fatal("config.yaml declares no createdBy attribute, the test proves nothing")
	}
	cfg, c := mappedConfig(t, strings.Join(kept, "\n"))
	m := mapper{EGainMapping: cfg.EGain.Mapping}
	if m.keepsCreator(c) {
		t.Fatal("keepsCreator without the attribute")
	}
	body, err := m.profileBody(&Customer{Type: &CustomerType{Value: Str(TypeIndividual)}, CreatedBy: &UserRef{ID: Str("1")},
		ContactPersons: []ContactPerson{{FirstName: Str("A")}}}, nil, m.keepsCreator(c))
	if err != nil {
		t.Fatal(err)
	}
	if rec, _ := body[m.Customer].(map[string]any); rec == nil || rec[attrCreatedBy] != nil {
		t.Errorf("customer record %v: want one without %s", body[m.Customer], attrCreatedBy)
	}
}

// TestEdit_WholeListsAndEmptyElements: what an edit's lists say as a whole
// is checked before the edit is reduced to its changes (a custom attribute,
// person or point named twice, a second copy of an individual's person),
// and elements sent empty are judged as before: an empty list on an
// edited point is no change, an empty type or preferredAgent is refused.
func TestEdit_WholeListsAndEmptyElements(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("Whole", "Lists", "whole@lists.example", "", "loyaltyId", "1"))
	read := h.view(t, s, num)
	persons := read["contactPersons"].(map[string]any)["contactPerson"].([]any)
	person := persons[0].(map[string]any)
	personID := person["id"].(string)
	pointID := person["contactPoints"].(map[string]any)["contactPoint"].([]any)[0].(map[string]any)["id"].(string)
	put := func(body string) response {
		return h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`",`+body+`}`, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
	}
	point := func(fields string) string {
		return `"contactPersons":{"contactPerson":[{"id":"` + personID + `","contactPoints":{"contactPoint":[{"id":"` + pointID + `"` + fields + `}]}}]}`
	}
	for _, refused := range []struct{ body, code string }{
		{`"customAttributes":{"customAttribute":[{"attribName":"loyaltyId","attribValues":{"attribValue":[{"value":"1"}]}},{"attribName":"loyaltyId","attribValues":{"attribValue":[{"value":"2"}]}}]}`, "400-103"},
		{`"contactPersons":{"contactPerson":[{"id":"` + personID + `","firstName":"Bob"},{"id":"` + personID + `","firstName":"Whole"}]}`, "400-103"},
		{`"contactPersons":{"contactPerson":[{"id":"` + personID + `","contactPoints":{"contactPoint":[{"id":"` + pointID + `","priority":{"value":"high"}},{"id":"` + pointID + `","priority":{"value":"low"}}]}}]}`, "400-103"},
		{point(`,"type":{}`), "400-104"},
		{`"preferredAgent":{}`, "400-103"},
		{point(``), "400-104"},
	} {
		put(refused.body).wantError(t, http.StatusBadRequest, refused.code, FormatJSON)
	}
	put(point(`,"customAttributes":{"customAttribute":[]}`)).want(t, http.StatusNoContent)
	after := h.view(t, s, num)
	delete(after, "lastModified") // the no-op edit was a write
	delete(read, "lastModified")
	if got, want := mustJSON(t, after), mustJSON(t, read); got != want {
		t.Errorf("the customer changed:\n%s\nwant\n%s", got, want)
	}
}

// TestEdit_GenesysShapesWriteBack: customers whose shape only the Genesys
// API can give (an individual's name eGain would refuse, a department not
// configured, two persons on an individual) are read, changed in one
// field and written back in JSON and XML.
func TestEdit_GenesysShapesWriteBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	for name, body := range map[string]map[string]any{
		"name with a control character": {"FirstName": "C\x01c", "LastName": "Ctl"},
		"name over 124 characters":      {"FirstName": strings.Repeat("F", 200), "LastName": "L"},
		"department not configured":     {"FirstName": "Dep", "EgainCustomer": map[string]any{"departmentId": "5555", "department": "Ghost"}},
		"department id and name apart":  {"FirstName": "Dep", "EgainCustomer": map[string]any{"departmentId": "1000", "department": "Sales"}},
		"two persons on an individual": {"FirstName": "Two", "ContactPerson": []any{
			map[string]any{"personId": "1", "firstName": "Two"}, map[string]any{"personId": "2", "firstName": "Second"}}},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := h.svc.Create(t.Context(), "", body, profile.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			num := strconv.FormatUint(p.Num, 10)
			read := h.view(t, s, num)
			edited := maps.Clone(read)
			edited["pin"] = "1234"
			h.do("PUT", "/ws/v12/interaction/customer", mustJSON(t, edited), SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").want(t, http.StatusNoContent)

			xmlRead := h.do("GET", "/ws/v12/interaction/customer/"+num+"?$attribute=all", "", SessionHeader, s, "Accept", "application/xml").want(t, http.StatusOK).Body
			xmlEdit := strings.Replace(onlyCustomerXML(xmlRead), "<pin>1234</pin>", "<pin>5678</pin>", 1)
			h.do("PUT", "/ws/v12/interaction/customer", xmlEdit, SessionHeader, s, "Content-Type", "application/xml").want(t, http.StatusNoContent)

			after := h.view(t, s, num)
			if after["pin"] != "5678" {
				t.Errorf("pin %v, want 5678", after["pin"])
			}
			for _, field := range []string{"customerName", "department", "contactPersons"} {
				if got, want := mustJSON(t, after[field]), mustJSON(t, read[field]); got != want {
					t.Errorf("%s after the edits: %s, want %s", field, got, want)
				}
			}
		})
	}
}

// TestEdit_KeepsTheDateOfBirthOfAGenesysPerson: a date of birth a Genesys
// client wrote on contact person 1's record, with no core date of birth,
// shows in the eGain view and survives an eGain edit of something else,
// moving to the core attribute (it was hidden, and the edit dropped it).
// Text that is no date is not shown, and an eGain edit leaves it on the
// record.
func TestEdit_KeepsTheDateOfBirthOfAGenesysPerson(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	personOf := func(view map[string]any) map[string]any {
		return view["contactPersons"].(map[string]any)["contactPerson"].([]any)[0].(map[string]any)
	}
	for written, want := range map[string]any{"1980-02-03": "1980-02-03T00:00:00.000Z", "1980-02-03T10:00:00Z": "1980-02-03T00:00:00.000Z", "soon": nil} {
		p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Dob", "ContactPerson": []any{
			map[string]any{"personId": "1", "firstName": "Dob", "dateOfBirth": written}}}, profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		num := strconv.FormatUint(p.Num, 10)
		read := h.view(t, s, num)
		if got := personOf(read)["dateOfBirth"]; got != want {
			t.Errorf("%s written on the person: the eGain view shows %v, want %v", written, got, want)
		}
		edited := maps.Clone(read)
		edited["pin"] = "1234"
		h.do("PUT", "/ws/v12/interaction/customer", mustJSON(t, edited), SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").want(t, http.StatusNoContent)
		if got := personOf(h.view(t, s, num))["dateOfBirth"]; got != want {
			t.Errorf("%s written on the person: after an edit the eGain view shows %v, want %v", written, got, want)
		}
		stored := h.storedProfile(t, p.Num, "ContactPerson")
		if want == nil { // not shown, and kept where the Genesys client wrote it
			if persons := stored.Extensions["ContactPerson"]; len(persons) != 1 || persons[0]["dateOfBirth"] != written {
				t.Errorf("%s written on the person: after an eGain edit the record is %v", written, persons)
			}
			continue
		}
		if got := stored.Attributes["DOB"]; got != "1980-02-03" {
			t.Errorf("%s written on the person: after an eGain edit the core DOB is %v, want 1980-02-03", written, got)
		}
	}
}

// TestEdit_RefusalNamesTheElementSent: an edit is validated on its
// changes, yet a refusal names the element by its place in the body as
// sent, not among the changes.
func TestEdit_RefusalNamesTheElementSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, string(mustRead(t, "../testdata/examples/egain-create-full.json")))
	read := h.view(t, s, num)
	points := read["contactPersons"].(map[string]any)["contactPerson"].([]any)[0].(map[string]any)["contactPoints"].(map[string]any)["contactPoint"].([]any)
	if len(points) < 3 {
		t.Fatalf("the example has %d points, the test needs 3", len(points))
	}
	points[2].(map[string]any)["priority"] = map[string]any{"value": "urgent"}
	res := h.do("PUT", "/ws/v12/interaction/customer", mustJSON(t, read), SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
	res.wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
	if want := "contactPersons.contactPerson[0].contactPoints.contactPoint[2].priority.value"; !strings.Contains(res.Body, want) {
		t.Errorf("the refusal does not name %s: %s", want, res.Body)
	}
}

// TestEdit_KeepsAttributesOfOwnersItDoesNotShow: contact attribute records
// a Genesys client wrote for an owner the eGain view has no person or
// point for survive an eGain edit, which could not show them.
func TestEdit_KeepsAttributesOfOwnersItDoesNotShow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Dee", "EmailAddress": []any{"dee@attr.example"},
		"ContactAttribute": []any{map[string]any{"owner": "1", "name": "isprimary", "value": "y"}, map[string]any{"owner": "77", "name": "isprimary", "value": "n"}}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	num := strconv.FormatUint(p.Num, 10)
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"1"}`, SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
	edited := h.view(t, s, num)
	edited["pin"] = "2"
	h.do("PUT", "/ws/v12/interaction/customer", mustJSON(t, edited), SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
	got := h.do("GET", "/profiles/"+p.ID+"?extensions=ContactAttribute", "").want(t, http.StatusOK).Body
	for _, want := range []string{`"owner":"1"`, `"owner":"77"`} {
		if !strings.Contains(got, want) {
			t.Errorf("after the edits the profile lacks the record with %s: %s", want, got)
		}
	}
}

// TestRead_DepartmentByIDAlone: a department a Genesys client wrote as a
// configured id without its name reads as that department (it read as the
// default one, and the next edit stored that).
func TestRead_DepartmentByIDAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.EGain) {
		c.Departments = append(c.Departments, config.EGainDepartment{ID: "2000", Name: "Sales"})
	})
	s := h.login("admin")
	p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Dep", "EgainCustomer": map[string]any{"departmentId": "2000"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	num := strconv.FormatUint(p.Num, 10)
	want := `{"id":"2000","name":"Sales"}`
	if got := mustJSON(t, h.view(t, s, num)["department"]); got != want {
		t.Fatalf("department %s, want %s", got, want)
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"1"}`, SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
	if got := mustJSON(t, h.view(t, s, num)["department"]); got != want {
		t.Errorf("after an edit, department %s, want %s", got, want)
	}

	// An id that is not configured reads as it is, not as the default
	// department, and an edit that sends it back keeps it.
	p, err = h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Gone", "EgainCustomer": map[string]any{"departmentId": "7777"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	num = strconv.FormatUint(p.Num, 10)
	if got := mustJSON(t, h.view(t, s, num)["department"]); got != `{"id":"7777"}` {
		t.Fatalf("unconfigured department %s, want {\"id\":\"7777\"}", got)
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"1","department":{"id":"7777"}}`, SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
	if got := mustJSON(t, h.view(t, s, num)["department"]); got != `{"id":"7777"}` {
		t.Errorf("after an edit sending it back, department %s, want {\"id\":\"7777\"}", got)
	}
	xml := h.do("GET", "/ws/v12/interaction/customer/"+num, "", SessionHeader, s).want(t, http.StatusOK).Body
	if !strings.Contains(xml, `department id="7777"`) {
		t.Errorf("XML view: %s, want the department by its id", xml)
	}
}

// TestAccept_MediaTypeAskedFor: an answer carries the media type the client
// asked for (text/xml included), and a type ruled out with q=0 stays out
// beside a wildcard.
func TestAccept_MediaTypeAskedFor(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	id := h.create(s, individual("Ada", "Accept", "ada@accept.dom", ""))
	for accept, want := range map[string]string{
		"text/xml":                               "text/xml",
		"application/xml":                        "application/xml",
		"":                                       "application/xml",
		"application/xml;q=0, */*":               "application/json",
		"text/xml;q=0.5, application/json;q=0.4": "text/xml",
	} {
		res := h.do("GET", "/ws/v12/interaction/customer/"+id, "", SessionHeader, s, "Accept", accept).want(t, http.StatusOK)
		if got, _, _ := strings.Cut(res.Header.Get("Content-Type"), ";"); got != want {
			t.Errorf("Accept %q: Content-Type %q, want %s", accept, res.Header.Get("Content-Type"), want)
		}
		if xml := strings.HasPrefix(res.Body, "<?xml"); xml != strings.HasSuffix(want, "xml") {
			t.Errorf("Accept %q: body %.60s, want %s", accept, res.Body, want)
		}
	}
}

// TestCreate_XMLInOtherCharsets: XML clients that do not send UTF-8 are
// read in what they send: Apache HttpClient's ContentType.APPLICATION_XML
// says ISO-8859-1 (over JAXB's UTF-8 declaration), .NET may send UTF-16
// with a BOM, Python's tostring(encoding='us-ascii') declares us-ascii.
// JSON is read in its label's charset only where it is not UTF-8.
// What they wrote reads back in UTF-8, in XML and JSON alike.
func TestCreate_XMLInOtherCharsets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	person := func(first string) string {
		return `<customer xmlns="` + NSCustomer + `" xmlns:cp="` + NSContactPerson + `"><type><value>individual</value></type>` +
			`<contactPersons><cp:contactPerson><cp:firstName>` + first + `</cp:firstName></cp:contactPerson></contactPersons></customer>`
	}
	utf16LE := func(s string) string {
		b := binary.LittleEndian.AppendUint16(nil, 0xFEFF)
		for _, u := range utf16.Encode([]rune(s)) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		return string(b)
	}
	created := []struct {
		name, contentType, body, want string
	}{
		{"Apache HttpClient", "application/xml; charset=ISO-8859-1", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + person("Jos\xe9"), "José"},
		{".NET UTF-16", "text/xml; charset=utf-16", utf16LE(`<?xml version="1.0" encoding="utf-16"?>` + person("Zoë")), "Zoë"},
		{"Python us-ascii", "application/xml", `<?xml version='1.0' encoding='us-ascii'?>` + "\n" + person("Ren&#233;e"), "Renée"},
		{"JSON in ISO-8859-1", "application/json; charset=ISO-8859-1", `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Andr` + "\xe9" + `"}]}}`, "André"},
		{"JSON in UTF-8 labelled ISO-8859-1", "application/json; charset=ISO-8859-1", `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Zoë"}]}}`, "Zoë"},
	}
	for _, tc := range created {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do("POST", "/ws/v12/interaction/customer", tc.body, SessionHeader, s, "Content-Type", tc.contentType).want(t, http.StatusCreated)
			id := locationPattern.FindStringSubmatch(res.Header.Get("Location"))[1]
			var got jsonCustomers
			res = h.do("GET", "/ws/v12/interaction/customer/"+id, "", SessionHeader, s, "Accept", "application/json").want(t, http.StatusOK)
			if err := json.Unmarshal([]byte(res.Body), &got); err != nil || len(got.Customer) != 1 || len(got.Customer[0].ContactPersons.ContactPerson) != 1 {
				t.Fatalf("%v: %s", err, res.Body)
			}
			if first := got.Customer[0].ContactPersons.ContactPerson[0].FirstName; first != tc.want {
				t.Errorf("JSON firstName = %q, want %q", first, tc.want)
			}
			res = h.do("GET", "/ws/v12/interaction/customer/"+id, "", SessionHeader, s, "Accept", "application/xml").want(t, http.StatusOK)
			if !strings.HasPrefix(res.Body, `<?xml version="1.0" encoding="UTF-8"`) || !strings.Contains(res.Body, ">"+tc.want+"</") {
				t.Errorf("XML answer is not UTF-8 with %q: %.300s", tc.want, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); strings.Contains(ct, "charset") && !strings.Contains(strings.ToLower(ct), "utf-8") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	refused := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"us-ascii declaration over a high byte", "application/xml", `<?xml version='1.0' encoding='us-ascii'?>` + person("Jos\xe9"), http.StatusBadRequest, "400-101"},
		{"declaration of an unknown encoding", "application/xml", `<?xml version="1.0" encoding="EBCDIC-cp-us"?>` + person("Jack"), http.StatusBadRequest, "400-101"},
		{"unknown charset", "application/xml; charset=x-unknown-cs", person("Jack"), http.StatusUnsupportedMediaType, "415-101"},
		{"JSON with a high byte labelled US-ASCII", "application/json; charset=us-ascii", `{"type":{"value":"individual"},"customerName":"Jos` + "\xe9" + `"}`, http.StatusBadRequest, "400-101"},
		{"JSON in an unknown charset", "application/json; charset=x-unknown-cs", `{"type":{"value":"individual"}}`, http.StatusUnsupportedMediaType, "415-101"},
	}
	before := h.profileCount()
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			h.do("POST", "/ws/v12/interaction/customer", tc.body, SessionHeader, s, "Content-Type", tc.contentType).
				wantError(t, tc.status, tc.code, FormatXML)
		})
	}
	if after := h.profileCount(); after != before {
		t.Errorf("profiles: %d before, %d after refused creates", before, after)
	}
}

// TestIDs_GetAndEditAlike: an id that cannot name a customer (0, past
// 2^63-1) is 400-103 "out of range" on GET and PUT alike, one that is no
// number "not a number"; an id in range with no customer is 404-101.
func TestIDs_GetAndEditAlike(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	for id, want := range map[string]string{
		"0":                    "out of range",
		"99999999999999999999": "out of range",
		"9223372036854775808":  "out of range",
		"12a":                  "not a number",
	} {
		get := h.do("GET", "/ws/v12/interaction/customer/"+id, "", SessionHeader, s, "Accept", "application/json")
		put := h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+id+`","pin":"1"}`, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
		for name, res := range map[string]response{"GET": get, "PUT": put} {
			res.wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
			if !strings.Contains(res.Body, want) && !(want == "not a number" && strings.Contains(res.Body, "must be a number")) {
				t.Errorf("%s id %s: %s, want %q", name, id, res.Body, want)
			}
		}
	}
	h.do("GET", "/ws/v12/interaction/customer/9223372036854775807", "", SessionHeader, s, "Accept", "application/json").wantError(t, http.StatusNotFound, "404-101", FormatJSON)
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"9223372036854775807","pin":"1"}`, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").wantError(t, http.StatusNotFound, "404-101", FormatJSON)
}

// TestDepartmentalization_UnconfiguredID: a customer whose stored
// department id is not configured is in no user's department: only a user
// of every department ("*") reaches it.
func TestDepartmentalization_UnconfiguredID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.EGain) { c.Departmentalization = true })
	agent, admin := h.login("agent"), h.login("admin")
	p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Gone", "EgainCustomer": map[string]any{"departmentId": "7777"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	num := strconv.FormatUint(p.Num, 10)
	res := h.do("GET", "/ws/v12/interaction/customer/"+num, "", SessionHeader, agent, "Accept", "application/json")
	res.wantError(t, http.StatusForbidden, "403-101", FormatJSON)
	if !strings.Contains(res.Body, "department id 7777") {
		t.Errorf("403 body %s, want it to name the department id", res.Body)
	}
	if got := mustJSON(t, h.view(t, admin, num)["department"]); got != `{"id":"7777"}` {
		t.Errorf("admin reads department %s, want {\"id\":\"7777\"}", got)
	}
}

// TestEmailMatchingFoldsCase: e-mail addresses are told apart as the
// identification index tells them apart (Unicode case folding), wherever
// the facade compares them: a search in capitals (SS for ß) finds the
// customer, another customer cannot take the address so spelt (400-107),
// one customer cannot hold it twice so spelt (400-107), and a Genesys
// client's re-spelling of a stored address is the same contact point (its
// id kept), not a point dropped and another added.
func TestEmailMatchingFoldsCase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("Jörg", "Straße", "jörg@straße.example", ""))
	found := ids(t, h.do("GET", "/ws/v12/interaction/customer?email=JÖRG@STRASSE.EXAMPLE", "", SessionHeader, s, "Accept", "application/json"))
	if len(found) != 1 || found[0] != num {
		t.Errorf("search by the address in capitals = %v, want [%s]", found, num)
	}
	post := func(body string) response {
		return h.do("POST", "/ws/v12/interaction/customer", body, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
	}
	res := post(individual("Other", "Person", "JÖRG@STRASSE.EXAMPLE", ""))
	res.wantError(t, http.StatusBadRequest, "400-107", FormatJSON)
	if !strings.Contains(res.Body, "JÖRG@STRASSE.EXAMPLE") {
		t.Errorf("the error does not name the address as sent: %s", res.Body)
	}
	twice := `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"A","lastName":"B","contactPoints":{"contactPoint":[` +
		`{"type":{"value":"email","email":{"emailAddress":"x@maß.example"}}},{"type":{"value":"email","email":{"emailAddress":"X@MASS.EXAMPLE"}}}]}}]}}`
	post(twice).wantError(t, http.StatusBadRequest, "400-107", FormatJSON)

	before := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint
	if len(before) != 1 {
		t.Fatalf("points %+v, want the one e-mail point", before)
	}
	id := h.customerID("", num)
	h.do("PUT", "/profiles/"+id, `{"FirstName":"Jörg","LastName":"Straße","EmailAddress":["JÖRG@STRASSE.EXAMPLE"]}`, "Content-Type", "application/json").want(t, http.StatusOK)
	after := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint
	if len(after) != 1 || after[0].ID != before[0].ID || after[0].Type.Email == nil || after[0].Type.Email.EmailAddress != "JÖRG@STRASSE.EXAMPLE" {
		t.Errorf("after a Genesys client re-spelt the address: %+v, want point %s showing JÖRG@STRASSE.EXAMPLE", after, before[0].ID)
	}
}

// TestCreate_ValuesThatDifferInCaseOnly: values an eGain client sends that
// differ only in case (two custom attribute values, two phone numbers with
// letters) are different strings to eGain. The facade must either keep
// them or refuse them in eGain's terms; it must not pass on the store's
// message, which names profiled's extensions ("CustomAttribute", "Phone")
// and none of the elements sent.
func TestCreate_ValuesThatDifferInCaseOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	post := func(body string) response {
		return h.do("POST", "/ws/v12/interaction/customer", body, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json")
	}
	internal := []string{`\"CustomAttribute\"`, `\"ContactAttribute\"`, `\"Phone\"`, "name+value", "owner+name+value", "PhoneNumber"}
	check := func(name string, res response) {
		t.Helper()
		if res.Status == http.StatusCreated {
			return
		}
		for _, s := range internal {
			if strings.Contains(res.Body, s) {
				t.Errorf("%s: %d %s: the refusal names profiled's storage (%s), not an element of the body", name, res.Status, res.Body, s)
				return
			}
		}
	}
	check("customer custom attribute Gold/GOLD", post(`{"type":{"value":"individual"},"customAttributes":{"customAttribute":[{"attribName":"loyaltyId","attribValues":{"attribValue":[{"value":"Gold"},{"value":"GOLD"}]}}]},"contactPersons":{"contactPerson":[{"firstName":"A"}]}}`))
	check("person custom attribute Y/y", post(`{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"A","customAttributes":{"customAttribute":[{"attribName":"isprimary","attribValues":{"attribValue":[{"value":"Y"},{"value":"y"}]}}]}}]}}`))
	// Two phone points whose numbers differ in case: phoneNo is any string
	// (spec §3.3), and several points may share a number (docs/egain.md).
	phones := `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"A","contactPoints":{"contactPoint":[` +
		`{"type":{"value":"phone","phone":{"type":{"value":"office"},"phoneNo":"1-800-FLOWERS"}}},` +
		`{"type":{"value":"phone","phone":{"type":{"value":"home"},"phoneNo":"1-800-flowers"}}}]}}]}}`
	res := post(phones)
	check("phones 1-800-FLOWERS/1-800-flowers", res)
	if res.Status != http.StatusCreated {
		t.Fatalf("two phone points differing in case only: %d %s, want 201 as for two points with the same number", res.Status, res.Body)
	}
	num := locationPattern.FindStringSubmatch(res.Header.Get("Location"))[1]
	points := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint
	if len(points) != 2 {
		t.Errorf("points = %+v, want both phone points", points)
	}
	if got := ids(t, h.do("GET", "/ws/v12/interaction/customer?phone=1-800-flowers", "", SessionHeader, s, "Accept", "application/json")); len(got) != 1 || got[0] != num {
		t.Errorf("search phone=1-800-flowers = %v, want [%s]", got, num)
	}
}

// TestRead_DateOfBirthOfEveryPersonInOneForm: spec §1 has dates as
// ISO-8601 UTC with milliseconds, and the facade shows person 1's date of
// birth so (yyyy-MM-ddT00:00:00.000Z) whatever form it was sent in. The
// other persons of a group show theirs exactly as sent ("1965-12-09",
// "...+05:00"), so one response mixes forms and a client parsing the
// documented form fails on person 2. A date-time without an offset, as
// .NET writes one, is a date of birth too (the profile's DOB takes it).
func TestRead_DateOfBirthOfEveryPersonInOneForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, `{"customerName":"DOB Group","type":{"value":"group","group":{"type":{"value":"Association"}}},"contactPersons":{"contactPerson":[`+
		`{"firstName":"A","dateOfBirth":"1965-12-09"},{"firstName":"B","dateOfBirth":"1965-12-09"},{"firstName":"C","dateOfBirth":"1965-12-09T15:30:00+05:00"},`+
		`{"firstName":"D","dateOfBirth":"1965-12-09T00:00:00"}]}}`) // .NET's DateTime: no offset
	persons := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson
	if len(persons) != 4 {
		t.Fatalf("persons = %+v", persons)
	}
	for i, p := range persons {
		if p.DateOfBirth != "1965-12-09T00:00:00.000Z" {
			t.Errorf("person %d (%s) dateOfBirth = %q, want 1965-12-09T00:00:00.000Z as person 1 shows it", i+1, p.FirstName, p.DateOfBirth)
		}
	}
	one := h.create(s, `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"E","lastName":"Net","dateOfBirth":"1970-01-02T00:00:00"}]}}`)
	if got := h.getJSON(s, one).Customer[0].ContactPersons.ContactPerson[0].DateOfBirth; got != "1970-01-02T00:00:00.000Z" {
		t.Errorf("an individual's dateOfBirth without an offset = %q, want 1970-01-02T00:00:00.000Z", got)
	}
}

// TestRead_DateOfBirthGenesysFormsInOneForm: a Genesys client writes a
// person's dateOfBirth in the forms the profile's DOB takes (+hhmm offset,
// minutes without seconds); the eGain read shows it in the documented form
// like any other date of birth, and an eGain client may send those forms.
func TestRead_DateOfBirthGenesysFormsInOneForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, `{"customerName":"DOB Forms","type":{"value":"group","group":{"type":{"value":"Association"}}},"contactPersons":{"contactPerson":[`+
		`{"firstName":"A"},{"firstName":"B","dateOfBirth":"1965-12-09"}]}}`)
	id := h.customerID("", num)
	persons := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson
	if len(persons) != 2 {
		t.Fatalf("persons = %+v", persons)
	}
	n, _ := strconv.ParseUint(num, 10, 64)
	pid, _ := strconv.ParseUint(persons[1].ID, 10, 64)
	personID := strconv.FormatUint(pid-n*1000000, 10)
	for _, form := range []string{"1965-12-09T00:00+0200", "1965-12-09T00:00:00+0200", "1965-12-09T00:00Z"} {
		h.do("PUT", "/profiles/"+id+"/extensions/ContactPerson/by/unique", `{"personId":"`+personID+`","dateOfBirth":"`+form+`"}`,
			"Content-Type", "application/json").want(t, http.StatusNoContent)
		if got := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[1].DateOfBirth; got != "1965-12-09T00:00:00.000Z" {
			t.Errorf("person 2 written by Genesys as %s: dateOfBirth = %q, want 1965-12-09T00:00:00.000Z", form, got)
		}
		one := h.do("POST", "/ws/v12/interaction/customer", `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"F","lastName":"`+form+`","dateOfBirth":"`+form+`"}]}}`,
			"X-egain-session", s, "Content-Type", "application/json")
		if one.Status != http.StatusCreated {
			t.Errorf("eGain create with dateOfBirth %s (the profile's DOB takes it) = %d %s", form, one.Status, one.Body)
		}
	}
}

// TestAccept_SeveralFieldLines: Accept and Accept-Language are lists, and a
// list sent as several field lines means what the same list joined by
// commas means (RFC 9110 §5.3): a client (or a proxy that appends its own
// line) sending "Accept: text/html" and "Accept: application/json" asked
// for JSON, and one sending an unknown language beside en-US accepts en-US.
func TestAccept_SeveralFieldLines(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	id := h.create(s, individual("Ada", "Lines", "ada@lines.dom", ""))
	res := h.do("GET", "/ws/v12/interaction/customer/"+id, "", SessionHeader, s, "Accept", "text/html", "Accept", "application/json")
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("Accept text/html + Accept application/json: %d %s %s, want 200 JSON", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	res = h.do("GET", "/ws/v12/interaction/customer/"+id, "", SessionHeader, s, "Accept", "application/json", "Accept-Language", "xx", "Accept-Language", "en-US")
	if res.Status != http.StatusOK {
		t.Errorf("Accept-Language xx + Accept-Language en-US: %d %s, want 200", res.Status, res.Body)
	}
}

// TestMapping_NamesInAnotherCase: the mapping's check finds attributes and
// extensions whatever their case, so the facade must read and write them
// under the names the schema declares: a mapping written in other cases
// round-trips the full example (before, names and e-mails read as missing).
func TestMapping_NamesInAnotherCase(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(eg *config.EGain) {
		m := &eg.Mapping
		for _, name := range []*string{&m.FirstName, &m.LastName, &m.DateOfBirth, &m.Email, &m.Phone.Extension, &m.Phone.Number,
			&m.CustomAttributes.Extension, &m.CustomAttributes.Name, &m.CustomAttributes.Value,
			&m.Customer, &m.ContactPersons, &m.ContactPoints, &m.ContactAttributes} {
			*name = strings.ToLower(*name)
		}
	})
	session := h.login("agent")
	body := readExample(t, "egain-create-full.json")
	num := h.create(session, string(body))
	got := h.do("GET", "/system/ws/v12/interaction/customer/"+num+"?$attribute=all", "",
		"Accept", FormatJSON.ContentType(), SessionHeader, session).want(t, http.StatusOK)
	sent, err := parseJSONTree(body, DefaultLimits, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := subset("customer", sent, firstCustomer(t, FormatJSON, []byte(got.Body))); diff != "" {
		t.Errorf("element sent but not returned: %s\n%s", diff, got.Body)
	}
}

// A user configured without a home department (the key is optional, and
// means nothing while departmentalization is off) is in no department: it
// must not reach a customer whose stored department id is not configured,
// which docs/egain.md puts in no user's department ("only users with "*"
// reach it"). Its empty home department matched the empty name such a
// customer shows.
func TestDepartmentalization_UserWithoutHomeDepartment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.EGain) {
		c.Departmentalization = true
		c.Users = append(c.Users, config.EGainUser{Name: "nohome", PasswordHash: testHash(),
			ForeignDepartments: []string{"Sales"},
			Permissions:        []string{config.PermViewAgentConsole, config.PermEditCustomer}})
	})
	s := h.login("nohome")
	p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Gone", "EgainCustomer": map[string]any{"departmentId": "7777"}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	num := strconv.FormatUint(p.Num, 10)
	h.do("GET", "/ws/v12/interaction/customer/"+num, "", SessionHeader, s, "Accept", "application/json").
		wantError(t, http.StatusForbidden, "403-101", FormatJSON)
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"1"}`, SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").
		wantError(t, http.StatusForbidden, "403-101", FormatJSON)
}

// A unique identification key other than the e-mail key (an operator's
// unique key over a mapped attribute: the date of birth here, a loyalty
// number over custom attributes likewise) refuses a create whose value
// another customer holds. The eGain answer must not say that an e-mail
// address is taken: the customer has none, and the client would look for
// a clash that does not exist.
func TestCreate_OtherUniqueKeyIsNotAnEmailClash(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do("POST", "/metadata/identification-keys", `{"name":"dob","attributes":["DOB"],"unique":true}`).want(t, http.StatusCreated)
	s := h.login("agent")
	body := `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Ann","dateOfBirth":"1970-01-02"}]}}`
	h.create(s, body)
	res := h.do("POST", "/ws/v12/interaction/customer", strings.Replace(body, "Ann", "Bob", 1),
		"Content-Type", "application/json", "Accept", "application/json", SessionHeader, s)
	res.wantError(t, http.StatusBadRequest, "400-103", FormatJSON)
	if !strings.Contains(res.Body, "dob") || strings.Contains(res.Body, "e-mail") {
		t.Errorf("a clash on the unique key dob answers %s: it must name dob, not an e-mail clash (no e-mail address was sent)", res.Body)
	}
}
