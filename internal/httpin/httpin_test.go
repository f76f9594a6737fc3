package httpin

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/errs"
)

func TestTenant(t *testing.T) {
	for _, c := range []struct {
		values []string
		want   string
		ok     bool
	}{
		{nil, "", true},
		{[]string{"acme_1-2"}, "acme_1-2", true},
		{[]string{strings.Repeat("a", 64)}, strings.Repeat("a", 64), true},
		{[]string{strings.Repeat("a", 65)}, "", false},
		{[]string{"a b"}, "", false},
		{[]string{"ä"}, "", false},
		{[]string{"7", "8"}, "", false}, // given twice
		{[]string{""}, "", false},       // given but empty is not the default tenant
	} {
		h := http.Header{}
		for _, v := range c.values {
			h.Add(TenantHeader, v)
		}
		got, err := Tenant(h)
		if c.ok != (err == nil) || (c.ok && got != c.want) {
			t.Errorf("Tenant(%q) = %q, %v", c.values, got, err)
		}
		if err != nil && (errs.KindOf(err) != errs.KindInvalid || errs.As(err).Code != CodeInvalidTenant) {
			t.Errorf("Tenant(%q) error = %v, want invalid %s", c.values, err, CodeInvalidTenant)
		}
	}
	if CheckTenant("") != nil || CheckTenant("ok") != nil || CheckTenant("not ok") == nil {
		t.Error("CheckTenant does not apply the header's rule")
	}
}

func TestReadBody_OverTheLimitIs413(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("x", 100)))
	r.Body = http.MaxBytesReader(w, r.Body, 10)
	if _, err := ReadBody(r, "MALFORMED"); errs.KindOf(err) != errs.KindTooLarge || errs.As(err).Code != CodeBodyTooLarge {
		t.Errorf("ReadBody over the limit = %v, want too large", err)
	}
	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader("hello"))
	if data, err := ReadBody(r, "MALFORMED"); err != nil || string(data) != "hello" {
		t.Errorf("ReadBody = %q, %v", data, err)
	}
}

func TestBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer  abc ": "abc",
		"Basic abc":    "",
		"Bearer":       "",
		"":             "",
	} {
		h := http.Header{}
		h.Set("Authorization", header)
		if got := Bearer(h); got != want {
			t.Errorf("Bearer(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestPasswords(t *testing.T) {
	p, err := NewPasswords(bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if !p.Match(hash, "right") || p.Match(hash, "wrong") {
		t.Error("Match does not check the hash")
	}
	if p.Match(nil, "no user has this password") {
		t.Error("an unknown user matched the dummy hash's password")
	}
}

// The dummy hash an unknown user is checked against is a well-formed hash
// of the configured cost, so that checking it costs what a known user's
// check does; a cost bcrypt refuses is refused.
func TestPasswords_DummyHasTheCost(t *testing.T) {
	for _, cost := range []int{bcrypt.MinCost, bcrypt.DefaultCost, 12, bcrypt.MaxCost} {
		p, err := NewPasswords(cost)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := bcrypt.Cost(p.dummy); err != nil || got != cost {
			t.Errorf("cost %d: the dummy hash %q has cost %d (%v)", cost, p.dummy, got, err)
		}
	}
	p, _ := NewPasswords(bcrypt.MinCost)
	// CompareHashAndPassword parses the salt and digest and runs bcrypt:
	// only a mismatch, not a malformed hash, is the answer.
	if err := bcrypt.CompareHashAndPassword(p.dummy, []byte("x")); !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		t.Errorf("comparing with the dummy hash: %v, want a mismatch", err)
	}
	for _, cost := range []int{bcrypt.MinCost - 1, bcrypt.MaxCost + 1} {
		if _, err := NewPasswords(cost); err == nil {
			t.Errorf("NewPasswords(%d) took a cost bcrypt refuses", cost)
		}
	}
}

// TestDecodeObject_Charsets: JSON is UTF-8, and bytes that are stay as sent
// whatever charset Content-Type names; a body in UTF-16 (its byte order
// mark or its label), or not UTF-8 in the charset its label names (Apache
// HttpClient's default ISO-8859-1), is read in that charset; bytes no
// charset accounts for are not UTF-8.
func TestDecodeObject_Charsets(t *testing.T) {
	utf16le := func(s string) string {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return string(b)
	}
	for _, tt := range []struct {
		name, body, contentType, want string
	}{
		{"UTF-8 labelled UTF-8", `{"n":"José"}`, "application/json; charset=UTF-8", "José"},
		{"UTF-8 labelled ISO-8859-1", `{"n":"José"}`, "application/json; charset=ISO-8859-1", "José"},
		{"ISO-8859-1 labelled so", "{\"n\":\"Jos\xe9\"}", "application/json; charset=ISO-8859-1", "José"},
		{"Apache's default label", "{\"n\":\"Jos\xe9\"}", "text/plain; charset=ISO-8859-1", "José"},
		{"windows-1252", "{\"n\":\"\x80 5\"}", "application/json; charset=windows-1252", "€ 5"},
		{"UTF-16LE by its BOM", "\xff\xfe" + utf16le(`{"n":"Zoë"}`), "application/json", "Zoë"},
		{"UTF-16LE by its label", utf16le(`{"n":"Zoë"}`), "application/json; charset=utf-16le", "Zoë"},
		{"an unknown label over UTF-8", `{"n":"José"}`, "application/json; charset=x-unknown", "José"},
	} {
		obj, err := DecodeObject([]byte(tt.body), tt.contentType)
		if err != nil || obj["n"] != tt.want {
			t.Errorf("%s: %v, %v; want n %q", tt.name, obj, err, tt.want)
		}
	}
	for _, tt := range []struct{ name, body, contentType string }{
		{"Latin-1 without a label", "{\"n\":\"Jos\xe9\"}", "application/json"},
		{"Latin-1 under an unknown label", "{\"n\":\"Jos\xe9\"}", "application/json; charset=x-unknown"},
		{"a high byte labelled US-ASCII", "{\"n\":\"Jos\xe9\"}", "application/json; charset=us-ascii"},
		{"UTF-16 cut in a character", "\xff\xfe{\x00\"", "application/json"},
	} {
		if _, err := DecodeObject([]byte(tt.body), tt.contentType); !errors.Is(err, ErrNotUTF8) {
			t.Errorf("%s: %v, want ErrNotUTF8", tt.name, err)
		}
	}
}

func TestDecodeObject(t *testing.T) {
	obj, err := DecodeObject([]byte(`{"n":12345678901234567890,"s":"x"}`), "")
	if err != nil || obj["n"].(json.Number).String() != "12345678901234567890" {
		t.Fatalf("DecodeObject = %v, %v; want the number kept whole", obj, err)
	}
	// A leading byte order mark is skipped, once.
	if obj, err := DecodeObject([]byte("\ufeff{\"a\":1}"), ""); err != nil || obj["a"] == nil {
		t.Errorf("DecodeObject after a BOM = %v, %v", obj, err)
	}
	if _, err := DecodeObject([]byte("\ufeff\ufeff{}"), ""); err == nil {
		t.Error("DecodeObject took two byte order marks")
	}
	for data, want := range map[string]string{
		"":                          "is not valid JSON: it is empty",
		"\ufeff":                    "is not valid JSON: it is empty",
		"{":                         "is not valid JSON: expected a member name at offset 1",
		`{"a":1,"b":{"c":1,"c":2}}`: `names a member twice: a member name appears twice in one object: "c"`,
		"{} {}":                     "has data after the JSON object",
		"[1]":                       "must be a JSON object",
		"\xff{}":                    ErrNotUTF8.Error(),
		`{"a":1}x`:                  "has data after the JSON object",
	} {
		if _, err := DecodeObject([]byte(data), ""); err == nil || err.Error() != want {
			t.Errorf("DecodeObject(%q) = %v, want %q", data, err, want)
		}
	}
}

// TestClientIPExtractor: without trusted proxies the peer is the client,
// whatever X-Forwarded-For says; with them, a trusted peer's header names
// the client (the nearest untrusted address), an untrusted peer's is
// ignored, and private or loopback addresses are not trusted unless listed.
func TestClientIPExtractor(t *testing.T) {
	_, balancers, err := net.ParseCIDR("10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trusted []*net.IPNet
		peer    string
		xff     []string
		want    string
	}{
		{"NoneTrusted", nil, "10.1.0.5:4000", []string{"203.0.113.7"}, "10.1.0.5"},
		{"TrustedPeer", []*net.IPNet{balancers}, "10.1.0.5:4000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"NearestUntrusted", []*net.IPNet{balancers}, "10.1.0.5:4000", []string{"198.51.100.1, 203.0.113.7", "10.1.0.9"}, "203.0.113.7"},
		{"UntrustedPeer", []*net.IPNet{balancers}, "192.168.1.2:4000", []string{"203.0.113.7"}, "192.168.1.2"},
		{"LoopbackNotTrustedUnlessListed", []*net.IPNet{balancers}, "127.0.0.1:4000", []string{"203.0.113.7"}, "127.0.0.1"},
		{"TrustedPeerWithoutHeader", []*net.IPNet{balancers}, "10.1.0.5:4000", nil, "10.1.0.5"},
		{"Garbage", []*net.IPNet{balancers}, "10.1.0.5:4000", []string{"not-an-ip"}, "10.1.0.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := ClientIPExtractor(tc.trusted)(r); got != tc.want {
				t.Errorf("client = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestClientIPExtractor_ProxyForms: balancers that write the client's port
// (Azure Application Gateway: "203.0.113.7:51234", "[2001:db8::7]:443")
// still name the client; falling back to the peer gives every client the
// balancer's address again, so one client's failed logins lock out all.
func TestClientIPExtractor_ProxyForms(t *testing.T) {
	_, balancers, err := net.ParseCIDR("10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ xff, want string }{
		{"203.0.113.7:51234", "203.0.113.7"},
		{"[2001:db8::7]:443", "2001:db8::7"},
		{"[2001:db8::7]", "2001:db8::7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.1.0.5:4000"
		r.Header.Set("X-Forwarded-For", tc.xff)
		if got := ClientIPExtractor([]*net.IPNet{balancers})(r); got != tc.want {
			t.Errorf("X-Forwarded-For %q: client = %q, want %q", tc.xff, got, tc.want)
		}
	}
}
