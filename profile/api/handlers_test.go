package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/schema"
)

// fakeProfiles stands in for the profile domain: the embedded interface
// panics on any call a test did not expect, and each test sets the one
// function it needs. The handlers' own work — parameters, headers, status
// codes, error bodies — is what these tests check; the domain has its own.
type fakeProfiles struct {
	Profiles
	schema  *schema.Compiled
	create  func(tenant string, body map[string]any) (*profile.Profile, error)
	get     func(tenant, id string, exts []string) (*profile.Document, error)
	replace func(tenant, id string, opts profile.ReplaceOptions) (*profile.Profile, error)
	delete  func(tenant, id string, ifMatch uint64) error
	merge   func(tenant, dest, src string, opts profile.MergeOptions) error
}

func (f *fakeProfiles) Schema() *schema.Compiled { return f.schema }

func (f *fakeProfiles) Create(_ context.Context, tenant string, body map[string]any, _ profile.CreateOptions) (*profile.Profile, error) {
	return f.create(tenant, body)
}
func (f *fakeProfiles) Get(_ context.Context, tenant, id string, exts []string) (*profile.Document, error) {
	return f.get(tenant, id, exts)
}
func (f *fakeProfiles) Revision(_ context.Context, tenant, id string) (uint64, error) {
	d, err := f.get(tenant, id, nil)
	if err != nil {
		return 0, err
	}
	return d.Rev, nil
}
func (f *fakeProfiles) Replace(_ context.Context, tenant, id string, _ map[string]any, opts profile.ReplaceOptions) (*profile.Profile, error) {
	return f.replace(tenant, id, opts)
}
func (f *fakeProfiles) Delete(_ context.Context, tenant, id string, ifMatch uint64) error {
	return f.delete(tenant, id, ifMatch)
}
func (f *fakeProfiles) Merge(_ context.Context, tenant, dest, src string, opts profile.MergeOptions) (*profile.Profile, error) {
	return &profile.Profile{ID: dest, Rev: 2}, f.merge(tenant, dest, src, opts)
}

// serveFake mounts the handlers over f, at / and under a base path.
func serveFake(f *fakeProfiles) *echo.Echo {
	e := echo.New()
	e.HTTPErrorHandler = writeError
	h := NewHandler(f, config.GenesysAuth{}, nil, zerolog.Nop())
	h.Register(e.Group(""))
	h.Register(e.Group("/genesys/1/cs"))
	return e
}

func call(e *echo.Echo, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1]) // a name twice is sent twice
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func TestHandler_CreateAnswers201WithLocationAndETag(t *testing.T) {
	var gotTenant string
	var gotBody map[string]any
	e := serveFake(&fakeProfiles{create: func(tenant string, body map[string]any) (*profile.Profile, error) {
		gotTenant, gotBody = tenant, body
		return &profile.Profile{ID: "0000000001abcdef", Rev: 1}, nil
	}})
	rec := call(e, "POST", "/genesys/1/cs/profiles", `{"FirstName":"Ann","n":12345678901234567890}`, "X-Genesys-TenantId", "acme")
	if rec.Code != http.StatusCreated || rec.Header().Get("Location") != "/genesys/1/cs/profiles/0000000001abcdef" || rec.Header().Get("ETag") != `"1"` {
		t.Fatalf("create = %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if gotTenant != "acme" || gotBody["FirstName"] != "Ann" || gotBody["n"].(json.Number).String() != "12345678901234567890" {
		t.Errorf("the domain got tenant %q and body %v", gotTenant, gotBody)
	}
}

func TestHandler_BadInputNeverReachesTheDomain(t *testing.T) {
	e := serveFake(&fakeProfiles{}) // any domain call panics
	for _, c := range []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		code                     string
	}{
		{"malformed JSON", "POST", "/profiles", `{"a":`, nil, 400, CodeMalformedJSON},
		{"not an object", "POST", "/profiles", `[1]`, nil, 400, CodeMalformedJSON},
		{"invalid UTF-8", "POST", "/profiles", "{\"a\":\"\xff\"}", nil, 400, CodeInvalidUTF8},
		{"bad tenant", "GET", "/profiles/x", "", []string{"X-Genesys-TenantId", "a b"}, 400, CodeInvalidTenant},
		{"bad If-Match", "PUT", "/profiles/x", `{}`, []string{"If-Match", `"abc"`}, 400, CodeBadParameter},
		{"unknown merge field", "PUT", "/profiles/a/merge/b", `{"nope":true}`, nil, 400, CodeMalformedJSON},
	} {
		rec := call(e, c.method, c.path, c.body, c.headers...)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != c.status || body["code"] != c.code || body["exception"] == nil {
			t.Errorf("%s: %d %s, want %d with code %s", c.name, rec.Code, rec.Body, c.status, c.code)
		}
	}
}

func TestHandler_DomainErrorsMapToStatuses(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{errs.NotFound(profile.CodeProfileNotFound, "customer %q not found", "x"), 404},
		{errs.Conflict(profile.CodeUniqueKeyViolation, "taken"), 409},
		{errs.E(errs.KindPreconditionFailed, profile.CodeRevisionMismatch, "changed"), 412},
		{errs.E(errs.KindUnavailable, profile.CodeStoreUnavailable, "down"), 503},
		{context.DeadlineExceeded, 500},
	} {
		e := serveFake(&fakeProfiles{delete: func(string, string, uint64) error { return c.err }})
		rec := call(e, "DELETE", "/profiles/x", "")
		if rec.Code != c.status {
			t.Errorf("domain error %v answered %d, want %d", c.err, rec.Code, c.status)
		}
		if c.status == 500 && strings.Contains(rec.Body.String(), "deadline") {
			t.Errorf("an internal error leaks its text: %s", rec.Body)
		}
	}
}

func TestHandler_IfMatchAndETag(t *testing.T) {
	var got profile.ReplaceOptions
	e := serveFake(&fakeProfiles{replace: func(_, id string, opts profile.ReplaceOptions) (*profile.Profile, error) {
		got = opts
		return &profile.Profile{ID: id, Rev: 8}, nil
	}})
	for _, c := range []struct {
		ifMatch string
		want    uint64
	}{{`"7"`, 7}, {"7", 7}, {"*", 0}, {`W/"7"`, profile.NeverMatches}} {
		rec := call(e, "PUT", "/profiles/x", `{"FirstName":"A"}`, "If-Match", c.ifMatch)
		if rec.Code != http.StatusOK || got.IfMatch != c.want || rec.Header().Get("ETag") != `"8"` {
			t.Errorf("If-Match %q: %d, domain got IfMatch %d (want %d), ETag %q", c.ifMatch, rec.Code, got.IfMatch, c.want, rec.Header().Get("ETag"))
		}
	}
	// Tags this API never returns are malformed, not a revision.
	for _, tag := range []string{`"03"`, `"7`, `7"`, `"+7"`, `""`, `"`} {
		got.IfMatch = 99
		if rec := call(e, "PUT", "/profiles/x", `{"FirstName":"A"}`, "If-Match", tag); rec.Code != http.StatusBadRequest || got.IfMatch != 99 {
			t.Errorf("If-Match %s: %d, domain called with %d", tag, rec.Code, got.IfMatch)
		}
	}
	got.IfMatch = 99
	if rec := call(e, "PUT", "/profiles/x", `{"FirstName":"A"}`); rec.Code != http.StatusOK || got.IfMatch != 0 {
		t.Errorf("no If-Match: %d, domain got IfMatch %d", rec.Code, got.IfMatch)
	}
	// An empty If-Match is malformed, not absent: an unconditional write
	// is not what a client that sent the header asked for.
	got.IfMatch = 99
	if rec := call(e, "PUT", "/profiles/x", `{"FirstName":"A"}`, "If-Match", ""); rec.Code != http.StatusBadRequest || got.IfMatch != 99 {
		t.Errorf("empty If-Match: %d, domain called with %d", rec.Code, got.IfMatch)
	}
}

// TestHandler_IfMatchOnDeleteAndMerge: the handlers pass If-Match to the
// domain for every write, a malformed one is 400 before it is called.
func TestHandler_IfMatchOnDeleteAndMerge(t *testing.T) {
	var deleted, merged uint64
	e := serveFake(&fakeProfiles{
		delete: func(_, _ string, ifMatch uint64) error { deleted = ifMatch; return nil },
		merge:  func(_, _, _ string, opts profile.MergeOptions) error { merged = opts.IfMatch; return nil },
	})
	if rec := call(e, "DELETE", "/profiles/x", "", "If-Match", `"5"`); rec.Code != http.StatusOK || deleted != 5 {
		t.Errorf("DELETE with If-Match \"5\": %d, domain got %d", rec.Code, deleted)
	}
	if rec := call(e, "PUT", "/profiles/x/merge/y", "", "If-Match", `W/"5"`); rec.Code != http.StatusNoContent || merged != profile.NeverMatches {
		t.Errorf("merge with a weak If-Match: %d, domain got %d", rec.Code, merged)
	}
	deleted = 0
	if rec := call(e, "DELETE", "/profiles/x", "", "If-Match", "abc"); rec.Code != http.StatusBadRequest || deleted != 0 {
		t.Errorf("DELETE with If-Match abc: %d, domain got %d", rec.Code, deleted)
	}
}

func TestHandler_MergeBodyFlags(t *testing.T) {
	var got profile.MergeOptions
	var dest, src string
	e := serveFake(&fakeProfiles{merge: func(_, d, s string, opts profile.MergeOptions) error {
		dest, src, got = d, s, opts
		return nil
	}})
	for body, want := range map[string]bool{``: false, `{"force_merge":true}`: true, `{"keep_uniq_from_src":true}`: true, `{"force_merge":false}`: false} {
		rec := call(e, "PUT", "/profiles/a/merge/b", body)
		if rec.Code != http.StatusNoContent || dest != "a" || src != "b" || got.PreferSource != want {
			t.Errorf("merge body %q: %d, domain got %s<-%s %+v", body, rec.Code, dest, src, got)
		}
	}
}

// TestHandler_ReadParameterIgnoresCase: a read's reserved parameter is
// matched ignoring ASCII case, as identify's are; given twice in two
// spellings it is 400.
func TestHandler_ReadParameterIgnoresCase(t *testing.T) {
	var asked []string
	e := serveFake(&fakeProfiles{get: func(_, id string, exts []string) (*profile.Document, error) {
		asked = exts
		return nil, errs.NotFound(profile.CodeProfileNotFound, "customer %q not found", id) // no rendering: the fake has no schema
	}})
	for _, q := range []string{"extensions=Phone", "Extensions=Phone", "EXTENSIONS=Phone"} {
		asked = nil
		if rec := call(e, "GET", "/profiles/x?"+q, ""); rec.Code != http.StatusNotFound || !slices.Equal(asked, []string{"Phone"}) {
			t.Errorf("%s: %d, extensions asked %q", q, rec.Code, asked)
		}
	}
	if rec := call(e, "GET", "/profiles/x?extensions=Phone&Extensions=Phone", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("the parameter in two spellings: %d %s", rec.Code, rec.Body)
	}
}

// TestHandler_GetShowsStoredValues: a get shows what the store holds, in
// schema order with null for what is unset, without attributes the schema
// no longer declares, and a member stored twice once (the last, as a map
// decode keeps it); ETag is the revision.
func TestHandler_GetShowsStoredValues(t *testing.T) {
	sc := compiledDefault(t)
	p := benchProfile()
	p.Attributes["Retired"] = "no longer declared"
	d := profiletest.DocumentOf(t, p)
	d.Attributes = append(d.Attributes, profile.Member{Name: "FirstName", Value: []byte(`"Robert"`)})
	e := serveFake(&fakeProfiles{schema: sc, get: func(_, id string, exts []string) (*profile.Document, error) {
		return d, nil
	}})
	rec := call(e, "GET", "/profiles/"+d.ID+"?extensions=Phone", "")
	if rec.Code != http.StatusOK || rec.Header().Get("ETag") != `"1"` {
		t.Fatalf("%d ETag %s: %s", rec.Code, rec.Header().Get("ETag"), rec.Body)
	}
	var names []string
	want := []string{"customer_id"}
	for _, a := range sc.Def.Profile {
		want = append(want, a.Name)
	}
	want = append(want, "Phone")
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.Token()
	for dec.More() {
		tok, _ := dec.Token()
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("members %q, want %q", names, want)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	phones, _ := got["Phone"].([]any)
	first, _ := phones[0].(map[string]any)
	if got["FirstName"] != "Robert" || got["LastName"] != "Banner" || got["Title"] != nil ||
		len(got["EmailAddress"].([]any)) != 2 || len(phones) != 3 || first["PhoneNumber"] != "3145926535" || first["PhoneType"] != 0.0 {
		t.Errorf("shown: %s", rec.Body)
	}
}

// TestHandler_MergeEmptyChunkedBody: the merge body is optional; an empty
// body sent chunked (no Content-Length, as streaming clients send it) is
// the same as an empty body with Content-Length: 0, not 400.
func TestHandler_MergeEmptyChunkedBody(t *testing.T) {
	merged := false
	e := serveFake(&fakeProfiles{merge: func(_, _, _ string, _ profile.MergeOptions) error { merged = true; return nil }})
	for _, body := range []string{"", `{"force_merge":true}`} {
		merged = false
		req := httptest.NewRequest(http.MethodPut, "/profiles/a/merge/b", strings.NewReader(body))
		req.ContentLength = -1 // chunked: length unknown
		req.TransferEncoding = []string{"chunked"}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent || !merged {
			t.Errorf("chunked merge body %q: %d %s", body, rec.Code, rec.Body)
		}
	}
}

// TestHandler_Preconditions: If-Match lists and If-None-Match (RFC 9110
// §13.2.2). A list, or If-None-Match, needs the profile's revision: it is
// read, and the write is then made conditional on it.
func TestHandler_Preconditions(t *testing.T) {
	current := uint64(8)
	var reads int
	var got profile.ReplaceOptions
	written := false
	e := serveFake(&fakeProfiles{
		get: func(_, id string, _ []string) (*profile.Document, error) {
			reads++
			return &profile.Document{ID: id, Rev: current}, nil
		},
		replace: func(_, id string, opts profile.ReplaceOptions) (*profile.Profile, error) {
			got, written = opts, true
			return &profile.Profile{ID: id, Rev: current + 1}, nil
		},
	})
	for _, c := range []struct {
		name, ifMatch, ifNoneMatch string
		status                     int
		want                       uint64 // the IfMatch the domain is given
	}{
		{"a list naming the revision", `"7", "8"`, "", 200, 8},
		{"a list in two headers", `"7"` + "\n" + `"8"`, "", 200, 8},
		{"a list not naming it", `"6", "7"`, "", 412, 0},
		{"a list of a weak tag and the revision", `W/"8", "8"`, "", 200, 8},
		{"If-None-Match * on an existing profile", "", "*", 412, 0},
		{"If-None-Match naming the revision", "", `"8"`, 412, 0},
		{"If-None-Match naming it weakly", "", `W/"8"`, 412, 0},
		{"If-None-Match naming another", "", `"7", W/"6"`, 200, 8},
		{"both, met", `"8"`, `"7"`, 200, 8},
		{"both, If-None-Match fails", `"8"`, `"8"`, 412, 0},
		{"both, If-Match fails", `"7"`, `"6"`, 412, 0},
		{"If-Match * and If-None-Match met", "*", `"7"`, 200, 8},
		{"a malformed If-None-Match", "", `"08"`, 400, 0},
		{"an empty list element", `"7", , "8",`, "", 200, 8},
		{"only empty elements", ` , `, "", 400, 0},
		{"a malformed item in a list", `"8", abc`, "", 400, 0},
	} {
		got, written = profile.ReplaceOptions{}, false
		var headers []string
		if c.ifMatch != "" {
			for _, v := range strings.Split(c.ifMatch, "\n") {
				headers = append(headers, "If-Match", v)
			}
		}
		if c.ifNoneMatch != "" {
			headers = append(headers, "If-None-Match", c.ifNoneMatch)
		}
		rec := call(e, "PUT", "/profiles/x", `{"FirstName":"A"}`, headers...)
		if rec.Code != c.status || written != (c.status == 200) || got.IfMatch != c.want {
			t.Errorf("%s: %d, written %t with IfMatch %d; want %d, IfMatch %d: %s", c.name, rec.Code, written, got.IfMatch, c.status, c.want, rec.Body)
		}
	}
	// One strong tag alone needs no read: the store checks it.
	reads = 0
	if rec := call(e, "PUT", "/profiles/x", `{"FirstName":"A"}`, "If-Match", `"5"`); rec.Code != 200 || got.IfMatch != 5 || reads != 0 {
		t.Errorf("one If-Match tag: %d, IfMatch %d, %d reads", rec.Code, got.IfMatch, reads)
	}
}

// TestHandler_GetNotModified: a GET whose If-None-Match names the current
// ETag is 304 with the ETag and no body.
func TestHandler_GetNotModified(t *testing.T) {
	e := serveFake(&fakeProfiles{schema: compiledDefault(t), get: func(_, id string, _ []string) (*profile.Document, error) {
		return &profile.Document{ID: id, Rev: 3}, nil
	}})
	// A tag this API never made (a proxy's) matches nothing; an empty list
	// element is skipped.
	for tag, want := range map[string]int{`"3"`: 304, `W/"3"`: 304, `"2", "3"`: 304, "*": 304, `"3",`: 304, `"2"`: 200, `"x"`: 200, `"3-gzip"`: 200} {
		rec := call(e, "GET", "/profiles/x", "", "If-None-Match", tag)
		if rec.Code != want || (want == 304 && (rec.Body.Len() != 0 || rec.Header().Get("ETag") != `"3"`)) {
			t.Errorf("If-None-Match %s: %d, ETag %q, body %q; want %d", tag, rec.Code, rec.Header().Get("ETag"), rec.Body, want)
		}
	}
}

// A schema body of valid JSON with a member of the wrong JSON type
// is refused in the API's words: the message names the member and what it
// must be, not the Go types it is decoded into (ExtensionDoc,
// []schema.AttributeDoc), which mean nothing to a client and show internals.
func TestHandler_WrongMemberTypeNamesNoGoType(t *testing.T) {
	e := serveFake(&fakeProfiles{}) // any domain call panics
	for _, c := range []struct{ method, path, body, member string }{
		{"POST", "/metadata/profiles/extensions", `{"name":"X","type":"single-valued","attributes":"nope"}`, "attributes"},
		{"POST", "/metadata/profiles/extensions", `{"name":5,"type":"single-valued"}`, "name"},
		{"POST", "/metadata/identification-keys", `{"name":"k","attributes":"LastName"}`, "attributes"},
	} {
		rec := call(e, c.method, c.path, c.body)
		var body struct{ Message, Code string }
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != http.StatusBadRequest || strings.Contains(body.Message, "Go ") || strings.Contains(body.Message, "schema.") || !strings.Contains(body.Message, c.member) {
			t.Errorf("%s %s %s: %d %s; want 400 naming %q and no Go type", c.method, c.path, c.body, rec.Code, rec.Body, c.member)
		}
	}
}

// TestHandler_MergeBodyNullFlags: a client that serialises every field of
// its merge request (Jackson, System.Text.Json without ignore-null) sends
// the flags it does not set as null; null means "not given" everywhere
// else in this API (docs/api.md rule 8), so the merge runs with the
// defaults instead of answering 400.
func TestHandler_MergeBodyNullFlags(t *testing.T) {
	var got profile.MergeOptions
	called := false
	e := serveFake(&fakeProfiles{merge: func(_, _, _ string, opts profile.MergeOptions) error {
		called, got = true, opts
		return nil
	}})
	for _, body := range []string{
		`{"force_merge":null}`,
		`{"agent_id":null,"force_merge":null,"reason":null,"description":null}`,
		`{"keep_uniq_from_src":null,"keep_active_service_only":null}`,
	} {
		called, got = false, profile.MergeOptions{}
		rec := call(e, "PUT", "/profiles/a/merge/b", body)
		if rec.Code != http.StatusNoContent || !called || got.PreferSource {
			t.Errorf("merge body %s: %d %s, domain called %v with %+v", body, rec.Code, rec.Body, called, got)
		}
	}
}

// TestHandler_MergeFlagsAreBooleans: docs/api.md rule 16 takes the merge
// flags "as booleans or "true"/"false"", and a record's boolean refuses 1
// and "0" ("0 is not a boolean"); a merge, which deletes the source and
// cannot be undone, must not read 1, "1" or "t" as force_merge=true.
func TestHandler_MergeFlagsAreBooleans(t *testing.T) {
	called := false
	e := serveFake(&fakeProfiles{merge: func(_, _, _ string, _ profile.MergeOptions) error { called = true; return nil }})
	for _, body := range []string{`{"force_merge":1}`, `{"force_merge":"1"}`, `{"force_merge":"t"}`, `{"keep_uniq_from_src":"T"}`, `{"force_merge":0}`} {
		called = false
		rec := call(e, "PUT", "/profiles/a/merge/b", body)
		if rec.Code != http.StatusBadRequest || called {
			t.Errorf("merge body %s: %d %s, merged %v; want 400 as for \"maybe\"", body, rec.Code, rec.Body, called)
		}
	}
}
