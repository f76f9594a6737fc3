package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/contactcenter/profiled/profile/profiletest"
	"github.com/contactcenter/profiled/store"
)

// writeError renders err in this API's format (the server's error
// handler does more: logs, and other APIs' paths).
func writeError(err error, c echo.Context) {
	status, body := Describe(err)
	_ = c.JSON(status, body)
}

// newTestAPI serves the Genesys API over a real store in a temp dir with the
// repository's config.yaml.
func newTestAPI(tb testing.TB) (*echo.Echo, *store.DB) {
	tb.Helper()
	service, db, cfg := profiletest.New(tb, "../../config.yaml")
	e := echo.New()
	e.HTTPErrorHandler = writeError
	NewHandler(service, cfg.Genesys.Auth, nil, zerolog.Nop()).Register(e.Group(""))
	return e, db
}

// exampleBody is the vendor's example profile.
func exampleBody(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("../../testdata/examples/genesys-create-profile.json")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// mustCreate posts body and returns the new customer_id.
func mustCreate(tb testing.TB, e *echo.Echo, body []byte) string {
	tb.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/profiles", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	e.ServeHTTP(rec, req)
	var created struct {
		CustomerID string `json:"customer_id"`
	}
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &created) != nil {
		tb.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	return created.CustomerID
}
