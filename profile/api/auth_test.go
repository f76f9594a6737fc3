package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/config"
)

func basicAuthenticator(tb testing.TB, cost int) *authenticator {
	tb.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), cost)
	if err != nil {
		tb.Fatal(err)
	}
	return newAuthenticator(config.GenesysAuth{
		Enabled:  true,
		Users:    []config.GenesysUser{{Name: "ops", PasswordHash: string(hash), Role: config.RoleAgent}},
		Throttle: config.LoginThrottle{MaxFailures: 5, Window: time.Minute},
	}, nil, zerolog.Nop())
}

func identifyBasic(a *authenticator, user, password string) (bool, error) {
	req := httptest.NewRequest(http.MethodGet, "/profiles", nil)
	req.SetBasicAuth(user, password)
	_, ok, err := a.identify(echo.New().NewContext(req, httptest.NewRecorder()))
	return ok, err
}

// TestVerifiedCredentialsCache: a verified basic credential is remembered
// for a minute (keyed by an HMAC, never the password); a wrong one never is.
func TestVerifiedCredentialsCache(t *testing.T) {
	a := basicAuthenticator(t, bcrypt.MinCost)
	clock := time.Now()
	a.verified.now = func() time.Time { return clock }
	if ok, err := identifyBasic(a, "ops", "wrong"); ok || err != nil || a.verified.has("ops", "wrong") {
		t.Fatalf("wrong password: ok %v, err %v, cached %v", ok, err, a.verified.has("ops", "wrong"))
	}
	if ok, err := identifyBasic(a, "ops", "s3cret"); !ok || err != nil {
		t.Fatalf("right password: ok %v, err %v", ok, err)
	}
	if !a.verified.has("ops", "s3cret") || a.verified.has("ops", "s3cret ") || a.verified.has("ops2", "s3cret") {
		t.Error("the cache does not hold exactly the verified credential")
	}
	for d := range a.verified.entries {
		if string(d[:]) == "s3cret" {
			t.Error("password stored")
		}
	}
	clock = clock.Add(verifiedTTL)
	if a.verified.has("ops", "s3cret") {
		t.Error("a cached credential outlived its minute")
	}
}

// BenchmarkBasicAuth is one request's credential check with the default
// bcrypt cost: with the cache, a client that sends the same credentials on
// every request pays bcrypt once a minute.
func BenchmarkBasicAuth(b *testing.B) {
	a := basicAuthenticator(b, bcrypt.DefaultCost)
	for b.Loop() {
		if ok, err := identifyBasic(a, "ops", "s3cret"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
