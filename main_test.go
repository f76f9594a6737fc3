package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/contactcenter/profiled/store"
)

func TestImportSubcommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "profiles.db")
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.ndjson", `{"FirstName":"Bruce","EmailAddress":["b1@example.com"]}
{"FirstName":"Betty","EmailAddress":["b2@example.com"],"Phone":[{"PhoneNumber":"555"}]}
{"LastName":"Ross"}
`)
	// With -batch 2, lines 1-2 commit; line 4 is invalid, so its batch
	// (lines 3-4) must leave nothing behind.
	bad := write("bad.ndjson", `{"FirstName":"Rick"}
{"FirstName":"Glenn"}
{"FirstName":"Sam"}
{"FirstName":"Thaddeus","DOB":"yesterday"}
`)
	importFile := func(in string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"import", "-config", "config.yaml", "-data", data, "-in", in, "-batch", "2"}, nil, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, stdout, stderr := importFile(good)
	if code != 0 || !strings.Contains(stdout, "imported 3 profiles") {
		t.Fatalf("good file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, _, stderr = importFile(bad)
	if code != 1 || !strings.Contains(stderr, "line 4") || !strings.Contains(stderr, "DOB") {
		t.Fatalf("bad file: exit %d, stderr %q; want exit 1 naming line 4 and DOB", code, stderr)
	}
	if code, _, stderr = importFile(filepath.Join(dir, "missing.ndjson")); code != 1 {
		t.Fatalf("missing file: exit %d, stderr %q", code, stderr)
	}

	db, err := store.Open(data, store.Options{OpenTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.ProfileCount(); err != nil || n != 5 {
		t.Errorf("%d profiles stored (%v), want the good file's 3 and the bad file's first batch of 2", n, err)
	}
}

func TestHashPasswordSubcommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"hash-password"}, strings.NewReader("s3cret\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	hash := strings.TrimSpace(stdout.String())
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret")); err != nil {
		t.Fatalf("%q is not a bcrypt hash of the password: %v", hash, err)
	}
	if code := run([]string{"hash-password"}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Errorf("an empty password: exit %d, want 1", code)
	}
}
