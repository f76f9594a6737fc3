package egain

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

var customNames = []string{"loyaltyId"}

func activity(sent string) string {
	return `{"type":"email","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"` + sent + `"}`
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestParseSearchQuery(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2015, 12, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		query string
		want  *SearchQuery
		code  string
		field string
	}{
		{"phone", "phone=5550100", &SearchQuery{Phone: "5550100", Page: Page{0, 25}}, "", ""},
		{"email and custom", "email=a@b.com&custom.loyaltyId=A17", &SearchQuery{Email: "a@b.com", Custom: map[string]string{"loyaltyId": "A17"}, Page: Page{0, 25}}, "", ""},
		{"paging", "phone=1&$pagenum=3&$pagesize=10", &SearchQuery{Phone: "1", Page: Page{20, 10}}, "", ""},
		{"range", "phone=1&$rangestart=5&$rangesize=2", &SearchQuery{Phone: "1", Page: Page{4, 2}}, "", ""},
		{"sort and order", "phone=1&$sort=custom.loyaltyId&$order=desc", &SearchQuery{Phone: "1", Page: Page{0, 25}, Sort: "custom.loyaltyId", Desc: true}, "", ""},
		{"attributes", "phone=1&$attribute=level,custom.loyaltyId", &SearchQuery{Phone: "1", Page: Page{0, 25}, Attributes: Attributes{Names: []string{"level", "custom.loyaltyId"}}}, "", ""},
		{"attribute all", "phone=1&$attribute=all", &SearchQuery{Phone: "1", Page: Page{0, 25}, Attributes: Attributes{All: true}}, "", ""},
		{"created range", "created=" + url.QueryEscape("[2015-12-23T08:39:16.000Z,2015-12-28]"), &SearchQuery{
			Created: &TimeRange{time.Date(2015, 12, 23, 8, 39, 16, 0, time.UTC), day(29).Add(-time.Nanosecond)}, Page: Page{0, 25}}, "", ""},
		// An end covers its last unit whole: a created copied from an
		// answer (milliseconds) includes that customer, stored in nanoseconds.
		{"created end in milliseconds", "created=" + url.QueryEscape("[,2015-12-28T10:00:00.123Z]"), &SearchQuery{
			Created: &TimeRange{To: time.Date(2015, 12, 28, 10, 0, 0, 123999999, time.UTC)}, Page: Page{0, 25}}, "", ""},
		{"created end in seconds", "created=" + url.QueryEscape("[,2015-12-28T10:00:00+01:00]"), &SearchQuery{
			Created: &TimeRange{To: time.Date(2015, 12, 28, 10, 0, 0, 999999999, time.FixedZone("", 3600))}, Page: Page{0, 25}}, "", ""},
		{"created end in nanoseconds", "created=" + url.QueryEscape("[,2015-12-28T10:00:00.123456789Z]"), &SearchQuery{
			Created: &TimeRange{To: time.Date(2015, 12, 28, 10, 0, 0, 123456789, time.UTC)}, Page: Page{0, 25}}, "", ""},
		{"created open end", "created=" + url.QueryEscape("[2015-12-23,]"), &SearchQuery{Created: &TimeRange{From: day(23)}, Page: Page{0, 25}}, "", ""},
		{"created offset with unencoded plus", "created=[2015-12-23T05:30:00+05:30,]", &SearchQuery{Created: &TimeRange{From: time.Date(2015, 12, 23, 5, 30, 0, 0, time.FixedZone("", 5*3600+1800))}, Page: Page{0, 25}}, "", ""},
		{"activity", "activity=" + url.QueryEscape(activity("[2015-12-01T00:00:00.000Z,2015-12-15T00:00:00.000Z]")), &SearchQuery{
			Activity: &ActivityCriterion{Type: "email", Mode: "outbound", IsSecure: true, SentDate: TimeRange{day(1), day(15)}}, Page: Page{0, 25}}, "", ""},
		{"activity with JSON booleans", "activity=" + url.QueryEscape(`{"type":"email","isRead":false,"isSecure":true,"mode":"outbound","sentDate":"[2015-12-01,2015-12-14]"}`), &SearchQuery{
			Activity: &ActivityCriterion{Type: "email", Mode: "outbound", IsSecure: true, SentDate: TimeRange{day(1), day(15).Add(-time.Nanosecond)}}, Page: Page{0, 25}}, "", ""},

		{"no criterion", "$pagesize=5", nil, CodeMissingCriterion, ""},
		{"empty query", "", nil, CodeMissingCriterion, ""},
		{"unknown parameter", "phone=1&name=x", nil, CodeUnknownParameter, "name"},
		{"unknown $ parameter", "phone=1&$lang=en", nil, CodeUnknownParameter, "$lang"},
		{"repeated parameter", "phone=1&phone=2", nil, CodeRepeatedParameter, "phone"},
		{"empty criterion", "phone=", nil, CodeInvalidParameter, "phone"},
		{"e-mail not UTF-8", "email=%FF", nil, CodeInvalidParameter, "email"},
		{"phone not UTF-8", "phone=%C0%AF", nil, CodeInvalidParameter, "phone"},
		{"unconfigured custom attribute", "custom.shoe=42", nil, CodeInvalidParameter, "custom.shoe"},
		{"order without sort", "phone=1&$order=asc", nil, CodeInvalidParameter, "$order"},
		{"bad order", "phone=1&$sort=id&$order=up", nil, CodeInvalidParameter, "$order"},
		{"bad sort", "phone=1&$sort=pin", nil, CodeInvalidParameter, "$sort"},
		{"sort list", "phone=1&$sort=id,type", nil, CodeInvalidParameter, "$sort"},
		{"bad attribute", "phone=1&$attribute=level,secret", nil, CodeInvalidParameter, "$attribute"},
		{"paging mixed with range", "phone=1&$pagenum=1&$rangesize=5", nil, CodeInvalidParameter, "$rangestart"},
		{"page size zero", "phone=1&$pagesize=0", nil, CodeInvalidParameter, "$pagesize"},
		{"page size too big", "phone=1&$pagesize=76", nil, CodeInvalidParameter, "$pagesize"},
		{"range size too big", "phone=1&$rangesize=100", nil, CodeInvalidParameter, "$rangesize"},
		{"page number zero", "phone=1&$pagenum=0", nil, CodeInvalidParameter, "$pagenum"},
		{"signed page number", "phone=1&$pagenum=%2B2", nil, CodeInvalidParameter, "$pagenum"},
		{"non-numeric range start", "phone=1&$rangestart=a", nil, CodeInvalidParameter, "$rangestart"},
		{"range without brackets", "created=2015-12-01,2015-12-02", nil, CodeInvalidParameter, "created"},
		{"range without comma", "created=" + url.QueryEscape("[2015-12-01]"), nil, CodeInvalidParameter, "created"},
		{"range with three bounds", "created=" + url.QueryEscape("[2015-12-01,2015-12-02,2015-12-03]"), nil, CodeInvalidParameter, "created"},
		{"range both empty", "created=" + url.QueryEscape("[,]"), nil, CodeInvalidParameter, "created"},
		{"range bad date", "created=" + url.QueryEscape("[2015-13-01,]"), nil, CodeInvalidParameter, "created"},
		{"range reversed", "created=" + url.QueryEscape("[2015-12-02,2015-12-01]"), nil, CodeInvalidParameter, "created"},
		{"activity over 14 days", "activity=" + url.QueryEscape(activity("[2015-12-01T00:00:00.000Z,2015-12-15T00:00:00.001Z]")), nil, CodeInvalidParameter, "activity.sentDate"},
		{"activity date-only over 14 days", "activity=" + url.QueryEscape(activity("[2015-12-01,2015-12-15]")), nil, CodeInvalidParameter, "activity.sentDate"},
		{"activity open range", "activity=" + url.QueryEscape(activity("[2015-12-01,]")), nil, CodeInvalidParameter, "activity.sentDate"},
		{"activity missing sentDate", "activity=" + url.QueryEscape(`{"type":"email","isRead":"false","isSecure":"true","mode":"outbound"}`), nil, CodeInvalidParameter, "activity.sentDate"},
		{"activity wrong type", "activity=" + url.QueryEscape(`{"type":"chat","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"[2015-12-01,2015-12-02]"}`), nil, CodeInvalidParameter, "activity.type"},
		{"activity wrong isRead", "activity=" + url.QueryEscape(`{"type":"email","isRead":"true","isSecure":"true","mode":"outbound","sentDate":"[2015-12-01,2015-12-02]"}`), nil, CodeInvalidParameter, "activity.isRead"},
		{"activity wrong isSecure", "activity=" + url.QueryEscape(`{"type":"email","isRead":"false","isSecure":false,"mode":"outbound","sentDate":"[2015-12-01,2015-12-02]"}`), nil, CodeInvalidParameter, "activity.isSecure"},
		{"activity wrong mode", "activity=" + url.QueryEscape(`{"type":"email","isRead":"false","isSecure":"true","mode":"inbound","sentDate":"[2015-12-01,2015-12-02]"}`), nil, CodeInvalidParameter, "activity.mode"},
		{"activity unknown property", "activity=" + url.QueryEscape(`{"type":"email","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"[2015-12-01,2015-12-02]","queue":"1"}`), nil, CodeInvalidParameter, "activity.queue"},
		{"activity not JSON", "activity=email", nil, CodeInvalidParameter, "activity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSearchQuery(mustQuery(t, tt.query), customNames)
			if tt.code != "" {
				e := wantCode(t, err, tt.code)
				if e.Field != tt.field {
					t.Errorf("got field %q, want %q", e.Field, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTimeRangeContains(t *testing.T) {
	r := TimeRange{From: time.Date(2015, 12, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"start is inclusive", r.From, true},
		{"open end", r.From.AddDate(10, 0, 0), true},
		{"before", r.From.Add(-time.Millisecond), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Contains(tt.t); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseGetByIDs(t *testing.T) {
	many := "1"
	for i := 2; i <= 76; i++ {
		many += ",1"
	}
	tests := []struct {
		name, ids, query string
		want             *GetQuery
		code, field      string
	}{
		{"one id", "1012", "", &GetQuery{IDs: []string{"1012"}}, "", ""},
		{"several ids, deduplicated", "1012,0007,1012", "$sort=id&$order=desc&$attribute=all", &GetQuery{IDs: []string{"1012", "7"}, Sort: "id", Desc: true, Attributes: Attributes{All: true}}, "", ""},
		{"non-numeric id", "1012,abc", "", nil, CodeInvalidValue, "IDs"},
		{"zero id", "0", "", nil, CodeInvalidValue, "IDs"},
		{"empty id", "1,,2", "", nil, CodeInvalidValue, "IDs"},
		{"too many ids", many, "", nil, CodeLimitExceeded, "IDs"},
		{"paging unsupported", "1", "$pagesize=5", nil, CodeUnknownParameter, "$pagesize"},
		{"range unsupported", "1", "$rangestart=5", nil, CodeUnknownParameter, "$rangestart"},
		{"criterion unsupported", "1", "phone=1", nil, CodeUnknownParameter, "phone"},
		{"order without sort", "1", "$order=asc", nil, CodeInvalidParameter, "$order"},
		{"bad attribute", "1", "$attribute=foo", nil, CodeInvalidParameter, "$attribute"},
		{"repeated", "1", "$sort=id&$sort=type", nil, CodeRepeatedParameter, "$sort"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGetByIDs(tt.ids, mustQuery(t, tt.query), customNames)
			if tt.code != "" {
				e := wantCode(t, err, tt.code)
				if e.Field != tt.field {
					t.Errorf("got field %q, want %q", e.Field, tt.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNegotiateLanguage(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{"", "en-US", true},
		{"fr-FR", "fr-FR", true},
		{"FR-ca", "fr-CA", true},
		{"xx-YY, de-DE;q=0.5", "de-DE", true},
		{"ja-JP;q=0.2, ko-KR;q=0.9", "ko-KR", true},
		{"*", "en-US", true},
		{"pt", "pt-BR", true},
		{"en-GB", "en-US", true},
		{"pt-AO;q=0.8, sv", "sv-SE", true},
		{"xx-YY", "", false},
		{"de-DE;q=0", "", false},
		{"de-DE;q=abc", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, err := NegotiateLanguage(tt.header)
			if !tt.ok {
				wantCode(t, err, CodeUnsupportedLanguage)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestResponseFormat(t *testing.T) {
	tests := []struct {
		accept string
		want   Format
		ok     bool
	}{
		{"", FormatXML, true},
		{"*/*", FormatXML, true},
		{"application/json", FormatJSON, true},
		{"application/xml", FormatXML, true},
		{"text/xml; charset=utf-8", FormatTextXML, true},
		{"text/*", FormatTextXML, true},
		{"application/*", FormatXML, true},
		{"Application/JSON", FormatJSON, true},
		{"application/xml;q=0.5, application/json", FormatJSON, true},
		{"text/html, application/json;q=0.1", FormatJSON, true},
		{"text/html", FormatXML, false},
		{"application/json;q=0", FormatXML, false},
		// Ties go to the range listed first, then to XML.
		{"application/json, application/xml", FormatJSON, true},
		{"application/xml, application/json", FormatXML, true},
		// The most specific range decides: q=0 rules a type out, a
		// wildcard beside it does not bring it back.
		{"application/xml;q=0, */*", FormatJSON, true},
		{"application/xml;q=0,*/*;q=0.8", FormatJSON, true},
		{"text/xml;q=0, application/*", FormatXML, true},
		{"application/*;q=0, */*", FormatTextXML, true},
		{"*/*;q=0", FormatXML, false},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			got, err := ResponseFormat(tt.accept)
			if !tt.ok {
				wantCode(t, err, CodeNotAcceptable)
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

// TestRequestFormat: JSON and XML in any charset the WHATWG Encoding
// standard knows, which comes back for the decoder
// (docs/egain.md, "Request pipeline and formats").
func TestRequestFormat(t *testing.T) {
	tests := []struct {
		contentType string
		want        Format
		charset     string
		ok          bool
	}{
		{"application/json", FormatJSON, "", true},
		{"application/json; charset=UTF-8", FormatJSON, "UTF-8", true},
		{"application/xml", FormatXML, "", true},
		{"text/xml", FormatXML, "", true},
		{"", FormatXML, "", false},
		{"text/plain", FormatXML, "", false},
		{"application/xml; charset=ISO-8859-1", FormatXML, "ISO-8859-1", true}, // Apache HttpClient's default
		{"text/xml; charset=utf-16", FormatXML, "utf-16", true},                // .NET
		{"application/xml; charset=us-ascii", FormatXML, "us-ascii", true},
		{"application/xml; charset=Shift_JIS", FormatXML, "Shift_JIS", true},
		{"application/xml; charset=EBCDIC-cp-us", FormatXML, "", false}, // no WHATWG encoding
		{"application/xml; charset=x-unknown-cs", FormatXML, "", false},
		{"application/xml; charset=iso-2022-kr", FormatXML, "", false}, // WHATWG's "replacement"
		{`application/xml; charset=""`, FormatXML, "", false},
		{"application/json; charset=utf8", FormatJSON, "utf8", true}, // WHATWG's label, sent by some clients
		{`application/xml; charset="UTF8"`, FormatXML, "UTF8", true},
		{"application/json; charset=us-ascii", FormatJSON, "us-ascii", true},
		{"application/json; charset=iso-8859-1", FormatJSON, "iso-8859-1", true}, // read so where not UTF-8
		{"application/json; charset=x-unknown-cs", FormatXML, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			got, charset, err := RequestFormat(tt.contentType)
			if !tt.ok {
				wantCode(t, err, CodeUnsupportedMediaType)
				return
			}
			if err != nil || got != tt.want || charset != tt.charset {
				t.Errorf("got %v, %q, %v, want %v, %q", got, charset, err, tt.want, tt.charset)
			}
		})
	}
}

// BenchmarkResponseFormat: every eGain call negotiates; a browser-like
// header costs no allocation (it cost 3 and 460 ns with the ranges on the
// heap).
func BenchmarkResponseFormat(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ResponseFormat("application/json, text/plain, */*"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFacade_CreateAndEditRefuseQueryParameters: every other facade route
// answers an unknown query parameter 400-102 (search, get by ids, login,
// logout, cases, attributes; docs/egain.md's catalogue: "unknown or
// repeated query parameter"), and the vendor's create and edit pages take
// none. POST and PUT /interaction/customer ignored any query and wrote the
// customer.
func TestFacade_CreateAndEditRefuseQueryParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	body := `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Q"}]}}`
	before := h.profileCount()
	for _, q := range []string{"foo=1", "$attribute=all", "forceLogin=yes"} {
		h.do("POST", "/ws/v12/interaction/customer?"+q, body, "Content-Type", "application/json", SessionHeader, s, "Accept", "application/json").
			wantError(t, http.StatusBadRequest, "400-102", FormatJSON)
	}
	if got := h.profileCount(); got != before {
		t.Errorf("refused creates wrote %d customers", got-before)
	}
	num := h.create(s, body)
	h.do("PUT", "/ws/v12/interaction/customer?foo=1", `{"id":"`+num+`","pin":"1"}`, "Content-Type", "application/json", SessionHeader, s, "Accept", "application/json").
		wantError(t, http.StatusBadRequest, "400-102", FormatJSON)
}
