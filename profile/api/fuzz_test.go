package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/api"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/store"
)

// newGenesysEcho serves the Genesys API over a real store in a temp dir,
// with the repository's config.yaml, and holds the example profile.
func newGenesysEcho(tb testing.TB) (*echo.Echo, string) {
	tb.Helper()
	cfg, err := config.Load("../../config.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	db, err := store.Open(filepath.Join(tb.TempDir(), "profiles.db"), store.Options{OpenTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	registry, err := schema.NewRegistry(config.SchemaSource("../../config.yaml"), db, cfg.Unauthorized())
	if err != nil {
		tb.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { _ = api.WriteError(c, err) }
	api.NewHandler(profile.NewService(db, registry), cfg.Genesys.Auth).Register(e.Group(""))

	example, err := os.ReadFile("../../testdata/examples/genesys-create-profile.json")
	if err != nil {
		tb.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/profiles", bytes.NewReader(example))
	req.Header.Set("Content-Type", "application/json")
	e.ServeHTTP(rec, req)
	var created struct {
		CustomerID string `json:"customer_id"`
	}
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &created) != nil {
		tb.Fatalf("create example: %d %s", rec.Code, rec.Body)
	}
	return e, created.CustomerID
}

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
	e, id := newGenesysEcho(f)
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
			var eb api.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Message == "" || eb.Exception == "" || eb.Code == "" {
				t.Fatalf("GET %s?%s: %d with a bad error body (%v): %q", path, raw, rec.Code, err, body)
			}
		}
	})
}
