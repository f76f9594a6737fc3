package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"

	"github.com/contactcenter/profiled/internal/bolttest"
	"github.com/contactcenter/profiled/internal/pgtest"
	"github.com/contactcenter/profiled/schema"
	"github.com/contactcenter/profiled/server"
	"github.com/contactcenter/profiled/store/codec"
)

// damageStore changes a stopped store as disk faults and stray writes
// would: one bit of profile damaged flips, missing loses its e-mail index
// entry, an entry for a customer that does not exist appears, and one for
// stale (an existing customer) with values it does not have.
func damageStore(t *testing.T, where, damaged, missing, stale string) {
	t.Helper()
	ghost := codec.IndexEntry([]string{"ghost@x.dom"}, "GHOST")
	wrong := codec.IndexEntry([]string{"wrong@x.dom"}, stale)
	ghostPhones, err := codec.EncodeRecords([]schema.Record{{"PhoneNumber": "5550999"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(where, "postgres") {
		conn, err := pgx.Connect(context.Background(), where)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"UPDATE profiles SET doc = set_byte(doc, length(doc)/2, get_byte(doc, length(doc)/2) # 4) WHERE id = $1", []any{damaged}},
			{"DELETE FROM index_entries WHERE key = 'email' AND id = $1", []any{missing}},
			{"INSERT INTO index_entries (tenant, key, entry, vals, id, uniq) VALUES ('', 'email', $1, $2, 'GHOST', false)", []any{ghost, codec.EntryValues(ghost)}},
			{"INSERT INTO index_entries (tenant, key, entry, vals, id, uniq) VALUES ('', 'email', $1, $2, $3, false)", []any{wrong, codec.EntryValues(wrong), stale}},
			{"INSERT INTO records (tenant, ext, id, seq, doc) VALUES ('', 'phone', 'GHOST2', -1, $1)", []any{ghostPhones}}, // a set of the old form
		} {
			if _, err := conn.Exec(context.Background(), q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		return
	}
	db, err := bolt.Open(where, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		tb := tx.Bucket([]byte("tenants")).Bucket([]byte("t:"))
		profiles := tb.Bucket([]byte("profiles"))
		v := bytes.Clone(profiles.Get([]byte(damaged)))
		v[len(v)/2] ^= 4
		if err := profiles.Put([]byte(damaged), v); err != nil {
			return err
		}
		email := tb.Bucket([]byte("idx")).Bucket([]byte("email"))
		var gone [][]byte
		email.ForEach(func(k, _ []byte) error {
			if codec.EntryID(k) == missing {
				gone = append(gone, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range gone {
			if err := email.Delete(k); err != nil {
				return err
			}
		}
		if err := email.Put(wrong, []byte{}); err != nil {
			return err
		}
		// An orphan set in the form written before per-record storage.
		legacy, err := tb.CreateBucketIfNotExists([]byte("ext"))
		if err != nil {
			return err
		}
		if legacy, err = legacy.CreateBucketIfNotExists([]byte("phone")); err != nil {
			return err
		}
		if err := legacy.Put([]byte("GHOST2"), ghostPhones); err != nil {
			return err
		}
		return email.Put(ghost, []byte{})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheck: profiled check passes a sound store (one customer's equal
// values included) and, after a changed
// byte, a lost index entry and an entry of no customer, exits 1 naming
// each; on the bbolt file and on PostgreSQL (-store).
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"bbolt", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			where := filepath.Join(t.TempDir(), "profiles.db")
			if engine == "postgres" {
				where = pgtest.URL(t) // skips without a server outside CI
			}
			app, srv := serveOn(t, where)
			_, body := send(t, srv.URL, "POST", "/profiles", `{"customer_id":"damaged1","FirstName":"A","EmailAddress":["a@x.dom"],"Phone":[{"PhoneNumber":"111"}]}`)
			if !strings.Contains(body, "damaged1") {
				t.Fatal(body)
			}
			send(t, srv.URL, "POST", "/profiles", `{"customer_id":"missing1","FirstName":"B","EmailAddress":["b@x.dom"]}`)
			send(t, srv.URL, "POST", "/profiles", `{"customer_id":"fine1","FirstName":"C","EmailAddress":["c@x.dom"]}`)
			// Equal values yield one index entry, stored once: sound too.
			if res, body := send(t, srv.URL, "POST", "/profiles", `{"customer_id":"twice1","EmailAddress":["z@x.dom","Z@x.dom"],"Activity":[{"ActivityId":"1","type":"email"},{"ActivityId":"2","type":"email"}]}`); res.StatusCode != 201 {
				t.Fatalf("create twice1: %d %s", res.StatusCode, body)
			}
			srv.Close()
			app.Close()
			flag := "-data"
			if engine == "postgres" {
				flag = "-store"
			}
			check := func() (int, string) {
				var stdout, stderr bytes.Buffer
				code := run([]string{"check", "-config", "config.yaml", flag, where}, nil, &stdout, &stderr)
				return code, stdout.String() + stderr.String()
			}
			if code, out := check(); code != 0 || !strings.Contains(out, "result: ok") || !strings.Contains(out, "checked 4 profiles") {
				t.Fatalf("sound store: exit %d\n%s", code, out)
			}
			damageStore(t, where, "damaged1", "missing1", "fine1")
			code, out := check()
			if code != 1 {
				t.Errorf("damaged store: exit %d, want 1\n%s", code, out)
			}
			for _, want := range []string{
				"damaged values: 1", "orphans: 2", "missing index entries: 1", "stale index entries: 1",
				`profile of customer "damaged1"`, `customer "missing1"`, `customer "GHOST"`, `phone records for customer "GHOST2"`, `customer "fine1"`, "PROBLEMS FOUND",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestCheck_FileInUse: check on a data file a running server holds says
// so and exits 1; it does not call the file damaged (an operator could
// restore a backup over a sound file).
func TestCheck_FileInUse(t *testing.T) {
	t.Parallel()
	where := filepath.Join(t.TempDir(), "profiles.db")
	_, _ = serveOn(t, where)
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-config", "config.yaml", "-data", where}, nil, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	if code != 1 || !strings.Contains(out, "in use by another profiled process") || strings.Contains(out, "DAMAGED") {
		t.Errorf("check of a file in use: exit %d\n%s", code, out)
	}
}

// TestCheck_AttributeRenamedWithAlias: after the config renames a key's
// attribute and keeps the old name as an alias, the stored values stay
// under the old name; the start rebuilds the key's index from them as
// writes read them, and check must compute the same entries (it reported
// every customer's name entry missing and stale).
func TestCheck_AttributeRenamedWithAlias(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	where := filepath.Join(dir, "profiles.db")
	app, srv := serveOn(t, where)
	if res, body := send(t, srv.URL, "POST", "/profiles", `{"customer_id":"c1","FirstName":"Bruce","LastName":"Banner"}`); res.StatusCode != 201 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	srv.Close()
	app.Close()

	base, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(base), "{name: FirstName,    type: string, length: 256}", "{name: GivenName,    type: string, length: 256, aliases: [FirstName]}", 1)
	if renamed == string(base) {
		t.Fatal("config.yaml has no FirstName to rename")
	}
	config := filepath.Join(dir, "renamed.yaml")
	if err := os.WriteFile(config, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	// A start with the renamed config rebuilds the key (its definition
	// changed), so check judges its entries.
	cfg, err := loadConfig(config, "", where, "")
	if err != nil {
		t.Fatal(err)
	}
	started, err := server.New(cfg, zerolog.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	started.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-config", config, "-data", where}, nil, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "result: ok") || strings.Contains(stdout.String(), "not checked") {
		t.Fatalf("check: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestCheck_ConfigWithOtherKeysIsNotDamage: an operator edits config.yaml
// for the next reload (docs/deploy.md: edit, check, reload) and runs
// `profiled check` on a sound store. A key added to the config is not yet
// built; the store's indexes are sound for the keys it was built for.
// check must say that the config's keys differ from the store's indexes,
// not report every customer's index as missing or stale (PROBLEMS FOUND).
func TestCheck_ConfigWithOtherKeysIsNotDamage(t *testing.T) {
	t.Parallel()
	where := filepath.Join(t.TempDir(), "profiles.db")
	app, srv := serveOn(t, where)
	for _, body := range []string{`{"FirstName":"A","Title":"Dr"}`, `{"FirstName":"B","Title":"Mr"}`} {
		if res, out := send(t, srv.URL, "POST", "/profiles", body); res.StatusCode != 201 {
			t.Fatalf("create: %d %s", res.StatusCode, out)
		}
	}
	srv.Close()
	app.Close()
	keyed := writeFile(t, t.TempDir(), "config.yaml", strings.Replace(string(mustReadFile(t, "config.yaml")),
		"  identification_keys:\n", "  identification_keys:\n    - {name: title, attributes: [Title]}\n", 1))
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-config", keyed, "-data", where}, nil, &stdout, &stderr)
	out := stdout.String() + stderr.String()
	if code != 0 || !strings.Contains(out, "result: ok") || !strings.Contains(out, "indexes of keys title not checked") {
		t.Errorf("a sound store checked with a config that adds a key: exit %d, want 0 with a note naming the key:\n%s", code, out)
	}
}

// damagedDataFile is a data file of 300 customers (profiled import) whose
// middle page of profiles was overwritten with garbage, as a disk fault
// or a stray write would leave it; leaf is that page as it was.
func damagedDataFile(t *testing.T) (path string, leaf bolttest.Leaf) {
	t.Helper()
	dir := t.TempDir()
	var lines strings.Builder
	for i := range 300 {
		fmt.Fprintf(&lines, `{"customer_id":"c%03d","FirstName":"Name%d","LastName":"Surname","EmailAddress":["u%d@x.dom"]}`+"\n", i, i, i)
	}
	path = filepath.Join(dir, "profiles.db")
	in := writeFile(t, dir, "in.ndjson", lines.String())
	if code, stdout, stderr := runCLI(t, "import", "-config", "config.yaml", "-data", path, "-in", in); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	return path, bolttest.DamageMiddleLeaf(t, path, "tenants", "t:", "profiles")
}

// runCatching is runCLI as the process ends: a panic is exit status 2 with
// the panic at the end of stderr, not the end of the test binary.
func runCatching(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	defer func() {
		if r := recover(); r != nil {
			code, stdout, stderr = 2, out.String(), errOut.String()+fmt.Sprintf("panic: %v\n", r)
		}
	}()
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCheck_DamagedPageExitsOne: on a data file with a page of profiles
// overwritten, on which bbolt panics by design, check reports the
// structure damaged and the pass over the values cut short there, and
// ends with its summary and exit 1 (it panicked with exit 2 after the
// structure line).
func TestCheck_DamagedPageExitsOne(t *testing.T) {
	t.Parallel()
	path, _ := damagedDataFile(t)
	code, stdout, stderr := runCatching(t, "check", "-config", "config.yaml", "-data", path)
	if code != 1 {
		t.Errorf("check of a damaged page: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"structure: DAMAGED", "values: the check stopped there", "index entries not judged", "result: PROBLEMS FOUND"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s%s", want, stdout, stderr)
		}
	}
}
