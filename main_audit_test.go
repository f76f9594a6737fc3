package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/internal/pgtest"
)

// TestAuditSubcommand: profiled audit prints what GET /admin/audit lists,
// newest first, one JSON object per line, with the same filters, from a
// stopped server's data file and from PostgreSQL; a bad filter exits 1
// naming it.
func TestAuditSubcommand(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"bbolt", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			where, flag := filepath.Join(t.TempDir(), "profiles.db"), "-data"
			if engine == "postgres" {
				where, flag = pgtest.URL(t), "-store"
			}
			app, srv := serveOn(t, where)
			_, body := send(t, srv.URL, "POST", "/profiles", `{"customer_id":"aud1","FirstName":"A","EmailAddress":["a@x.dom"]}`)
			if !strings.Contains(body, "aud1") {
				t.Fatal(body)
			}
			send(t, srv.URL, "PUT", "/profiles/aud1", `{"FirstName":"B","EmailAddress":["a@x.dom"]}`)
			send(t, srv.URL, "POST", "/profiles", `{"customer_id":"aud2","FirstName":"C"}`)
			if engine == "bbolt" { // the running server holds the file: say where to ask instead
				var stdout, stderr bytes.Buffer
				code := run([]string{"audit", "-config", "config.yaml", flag, where}, nil, &stdout, &stderr)
				if code != 1 || !strings.Contains(stderr.String(), "GET /admin/audit") {
					t.Errorf("audit of a file a server holds: exit %d, %s", code, stderr.String())
				}
			}
			srv.Close()
			app.Close()
			audit := func(args ...string) (int, []map[string]any, string) {
				var stdout, stderr bytes.Buffer
				code := run(append([]string{"audit", "-config", "config.yaml", flag, where}, args...), nil, &stdout, &stderr)
				var entries []map[string]any
				for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
					if line == "" {
						continue
					}
					var e map[string]any
					if err := json.Unmarshal([]byte(line), &e); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					entries = append(entries, e)
				}
				return code, entries, stderr.String()
			}
			code, all, stderr := audit()
			if code != 0 || len(all) != 4 || all[0]["op"] != "create" || all[1]["op"] != "replace" || all[3]["op"] != "schema.sync" {
				t.Fatalf("exit %d, %d entries %v, stderr %s", code, len(all), all, stderr)
			}
			if _, entries, _ := audit("-customer-id", "aud1"); len(entries) != 2 {
				t.Errorf("customer aud1: %v", entries)
			}
			if _, entries, _ := audit("-op", "create", "-limit", "1"); len(entries) != 1 || entries[0]["customer_ids"].([]any)[0] != "aud2" {
				t.Errorf("newest create: %v", entries)
			}
			if code, _, stderr := audit("-from", "someday"); code != 1 || !strings.Contains(stderr, "from") {
				t.Errorf("bad -from: exit %d, %s", code, stderr)
			}
			// An empty filter (a script's unset variable) is refused, as
			// GET /admin/audit refuses it, not taken for no filter.
			if code, entries, stderr := audit("-customer-id", ""); code != 1 || len(entries) != 0 || !strings.Contains(stderr, "customer_id") {
				t.Errorf("empty -customer-id: exit %d, %d entries, %s", code, len(entries), stderr)
			}
			// A tenant no API could address is a mistake, not an empty trail.
			if code, entries, stderr := audit("-tenant", "acme corp"); code != 2 || len(entries) != 0 || !strings.Contains(stderr, "-tenant") {
				t.Errorf("bad -tenant: exit %d, %d entries, %s", code, len(entries), stderr)
			}
		})
	}
}
