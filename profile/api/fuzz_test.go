package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzIdentifyQuery sends arbitrary raw query strings to identify
// (GET /profiles?...) and to a profile read (GET /profiles/{id}?...)
// through the real handler: no panic, never 5xx, and every answer is JSON in
// the API's shape.
func FuzzIdentifyQuery(f *testing.F) {
	for _, s := range []string{
		"EmailAddress=b.banner@hulk.dom",
		"EmailAddress=bruce.banner@marvelous.com&include_profile=yes",
		"Phone.PhoneNumber=6543210&extensions=Phone",
		"LastName=Banner&FirstName=Bruce&id_key=name",
		"EmailAddress=B.Banner@Hulk.dom&include_extensions=unique",
		"LastName=Banner&id_key=name&include_profile=no",
		"EmailAddress=a&EmailAddress=b",
		"Nope.PhoneNumber=1",
		"DOB=1962-05-10",
		"Phone.start_availabilty=2009-12-18T18:30:00.000Z",
		"Activity.isRead=maybe",
		"EmailAddress=%FF%FE",
		"EmailAddress=a;b",
		"=&&=x&%zz",
		"extensions=Phone,,Activity, ",
		"",
	} {
		f.Add(s)
	}
	e, _ := newTestAPI(f)
	id := mustCreate(f, e, exampleBody(f))
	f.Fuzz(func(t *testing.T, raw string) {
		for _, path := range []string{"/profiles", "/profiles/" + id} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.URL.RawQuery = raw
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("GET %s?%s: %d %s", path, raw, rec.Code, rec.Body)
			}
			body := rec.Body.Bytes()
			if rec.Code == http.StatusOK {
				if !json.Valid(body) {
					t.Fatalf("GET %s?%s: 200 with invalid JSON %q", path, raw, body)
				}
				if path == "/profiles" && !strings.HasPrefix(string(body), "[") {
					t.Fatalf("identify answered %s, want an array", body)
				}
				continue
			}
			var eb ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Message == "" || eb.Exception == "" || eb.Code == "" {
				t.Fatalf("GET %s?%s: %d with a bad error body (%v): %q", path, raw, rec.Code, err, body)
			}
		}
	})
}

// FuzzWriteBodies sends arbitrary bodies to the three record-writing
// endpoints through the real handler and store: never 5xx (a body can only
// be the client's fault), and every refusal is a Genesys error body.
func FuzzWriteBodies(f *testing.F) {
	f.Add(exampleBody(f))
	for _, s := range []string{
		`{"Phone":[{"PhoneNumber":"9","PhoneType":1e1000000000}]}`,
		`{"Phone":[{"PhoneNumber":"9","PhoneType":` + strings.Repeat("9", 5000) + `}]}`,
		`{"PhoneNumber":"6543210","PhoneType":-1e-999999}`,
		`{"FirstName":"a\ud800b","EmailAddress":["x\u0000@y.z"]}`,
		`{"Phone":{"PhoneNumber":"1"},"Activity":[{"ActivityId":"a","type":"email","isRead":"yes"}]}`,
		`{"DOB":"1962-02-30","Title":1.5}`,
		`[]`, `null`, `{"a":`, ``,
	} {
		f.Add([]byte(s))
	}
	e, _ := newTestAPI(f)
	id := mustCreate(f, e, exampleBody(f))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range []struct{ method, path string }{
			{http.MethodPost, "/profiles"},
			{http.MethodPost, "/profiles/" + id + "/extensions"},
			{http.MethodPut, "/profiles/" + id + "/extensions/Phone/by/unique"},
		} {
			req := httptest.NewRequest(target.method, target.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: %d %s", target.method, target.path, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 {
				var eb ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Message == "" || eb.Code == "" {
					t.Fatalf("%s %s: %d with a bad error body (%v): %q", target.method, target.path, rec.Code, err, rec.Body)
				}
			}
		}
	})
}
