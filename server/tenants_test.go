package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestCredentialTenants: a credential bound to tenants may name only
// those; naming another answers 403 in the API's format, the same whether
// the tenant or the profile exists or not, and nothing is read or written.
func TestCredentialTenants(t *testing.T) {
	t.Parallel()
	cfg := authConfig(t, `      - {name: acme, key_sha256: "KEY(acme-key)", role: agent, tenants: [acme]}
      - {name: home, key_sha256: "KEY(home-key)", role: agent, tenants: [""]}
      - {name: all, key_sha256: "KEY(all-key)", role: agent}
      - {name: acme-admin, key_sha256: "KEY(acme-admin-key)", role: administrator, tenants: [acme]}
      - {name: root, key_sha256: "KEY(root-key)", role: administrator}`,
		`      - {name: acme-ops, password_hash: "PW", role: agent, tenants: [acme, beta]}`,
		`      foreign_departments: ["*"]`, `      foreign_departments: ["*"]
    - name: acme-agent
      password_hash: "PW"
      permissions: [view_agent_console, create_customer, edit_customer]
      home_department: Service
      tenants: [acme]`)
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	const tenant = "X-Genesys-TenantId"
	acme := []string{"X-API-Key", "acme-key", tenant, "acme"}
	acmeID := ts.mustCreate(`{"FirstName":"Acme"}`, acme...)
	otherID := ts.mustCreate(`{"FirstName":"Other"}`, "X-API-Key", "all-key", tenant, "other")
	homeID := ts.mustCreate(`{"FirstName":"Home"}`, "X-API-Key", "home-key")

	forbidden := func(res response) []byte {
		t.Helper()
		wantError(t, res, http.StatusForbidden, "FORBIDDEN")
		return res.Body
	}
	t.Run("Genesys", func(t *testing.T) {
		// The acme key reads acme and nothing else; a profile that exists
		// in the other tenant and one that exists nowhere are refused alike.
		if res := ts.do("GET", "/profiles/"+acmeID, nil, acme...); res.Status != http.StatusOK {
			t.Fatalf("own tenant: %d %s", res.Status, res.Body)
		}
		existing := forbidden(ts.do("GET", "/profiles/"+otherID, nil, "X-API-Key", "acme-key", tenant, "other"))
		missing := forbidden(ts.do("GET", "/profiles/0000000000NOSUCH", nil, "X-API-Key", "acme-key", tenant, "other"))
		if !bytes.Equal(existing, missing) {
			t.Errorf("403 bodies differ by whether the profile exists:\n%s\n%s", existing, missing)
		}
		forbidden(ts.do("GET", "/profiles/"+homeID, nil, "X-API-Key", "acme-key")) // the default tenant is a tenant too
		forbidden(ts.do("POST", "/profiles", `{"FirstName":"Sneak"}`, "X-API-Key", "acme-key", tenant, "other"))
		forbidden(ts.do("GET", "/profiles/"+acmeID, nil, "X-API-Key", "home-key", tenant, "acme"))
		if res := ts.do("GET", "/profiles/"+homeID, nil, "X-API-Key", "home-key"); res.Status != http.StatusOK {
			t.Errorf("home key on the default tenant: %d %s", res.Status, res.Body)
		}
		basic := func(tn string) response {
			return ts.do("GET", "/profiles/"+acmeID, nil, "Authorization", basicAuth("acme-ops", testPassword), tenant, tn)
		}
		if res := basic("acme"); res.Status != http.StatusOK {
			t.Errorf("basic user on its tenant: %d %s", res.Status, res.Body)
		}
		forbidden(basic("other"))
		// The schema is every tenant's: an administrator bound to a tenant
		// may not change it (it would drop or probe the others' data).
		ext := `{"name":"Loyalty","type":"single-valued","attributes":[{"name":"tier","type":"string"}]}`
		wantError(t, ts.do("POST", "/metadata/profiles/extensions", ext, "X-API-Key", "acme-admin-key", tenant, "acme"), http.StatusForbidden, "ROLE_FORBIDDEN")
		if res := ts.do("POST", "/metadata/profiles/extensions", ext, "X-API-Key", "root-key"); res.Status != http.StatusCreated {
			t.Errorf("an administrator bound to no tenant creating an extension: %d %s", res.Status, res.Body)
		}
		wantError(t, ts.do("DELETE", "/metadata/profiles/extensions/Loyalty", nil, "X-API-Key", "acme-admin-key", tenant, "acme"), http.StatusForbidden, "ROLE_FORBIDDEN")
	})
	t.Run("EGain", func(t *testing.T) {
		res := ts.do("POST", "/ws/v12/authentication/user/login", `{"userName":"acme-agent","password":"`+testPassword+`"}`, "Content-Type", "application/json")
		session := res.Header.Get(egSession)
		if res.Status != http.StatusNoContent || session == "" {
			t.Fatalf("login: %d %s", res.Status, res.Body)
		}
		search := func(tn string) response {
			return ts.do("GET", "/ws/v12/interaction/customer?email=nobody@x.dom", nil, egSession, session, tenant, tn, "Accept", "application/json")
		}
		if res := search("acme"); res.Status != http.StatusNoContent {
			t.Errorf("own tenant: %d %s", res.Status, res.Body)
		}
		wantWSError(t, search("other"), http.StatusForbidden, "403-101", "application/json")
		res = ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, tenant, "other", "Accept", "application/json")
		wantWSError(t, res, http.StatusForbidden, "403-101", "application/json")
		if !strings.Contains(string(res.Body), "tenant") {
			t.Errorf("403 does not say why: %s", res.Body)
		}
	})
	if n := ts.profileCount(); n != 3 {
		t.Errorf("%d profiles, want the 3 created", n)
	}
}
