package api

import (
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
