package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// identifyIDs returns the customer ids identify finds for query.
func (ts *testServer) identifyIDs(query string) []string {
	ts.tb.Helper()
	res := ts.do("GET", "/profiles?"+query, nil)
	if res.Status != http.StatusOK {
		ts.tb.Fatalf("identify %s: %d %s", query, res.Status, res.Body)
	}
	var found []map[string]any
	res.JSON(ts.tb, &found)
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i], _ = f["customer_id"].(string)
	}
	return ids
}

// TestSchemaChange_RacingWrites: a key created while writes are in flight
// indexes every write, whichever schema it started under.
func TestSchemaChange_RacingWrites(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	const n = 100
	for i := 0; i < n; i++ {
		ts.mustCreate(fmt.Sprintf(`{"customer_id":"r%d","LastName":"v0"}`, i))
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ts.do("PUT", fmt.Sprintf("/profiles/r%d", i), `{"LastName":"v1"}`)
		}(i)
	}
	res := ts.do("POST", "/metadata/identification-keys", `{"name":"ln","attributes":["LastName"]}`)
	wg.Wait()
	if res.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", res.Status, res.Body)
	}
	if got := ts.identifyIDs("LastName=v0&id_key=ln"); len(got) != 0 {
		t.Errorf("stale entries: LastName=v0 finds %v", got)
	}
	if got := ts.identifyIDs("LastName=v1&id_key=ln"); len(got) != n {
		t.Errorf("LastName=v1 finds %d customers, want %d", len(got), n)
	}
}

// TestReload_KeepsIndexesInLineWithKeys: a reload builds the index of a new
// key, drops the index of a removed key, and a key re-created under the
// same name starts from a fresh index.
func TestReload_KeepsIndexesInLineWithKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	base := string(mustRead(t, "../config.yaml"))
	const nameKey = "    - {name: name,         attributes: [LastName, FirstName]}\n"
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(cfgPath, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := mustStartWith(t, cfgPath, filepath.Join(dir, "p.db"))
	bruce := ts.mustCreate(`{"FirstName":"Bruce","LastName":"Banner"}`)
	reload := func(content string) {
		t.Helper()
		write(content)
		if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
			t.Fatalf("reload: %d %s", res.Status, res.Body)
		}
	}

	t.Run("NewKeyIndexesExistingProfiles", func(t *testing.T) {
		reload(strings.Replace(base, nameKey, nameKey+"    - {name: byfirst, attributes: [FirstName]}\n", 1))
		if got := ts.identifyIDs("FirstName=Bruce&id_key=byfirst"); len(got) != 1 || got[0] != bruce {
			t.Fatalf("byfirst finds %v, want [%s]", got, bruce)
		}
	})
	t.Run("RemovedKeyThenRecreatedDifferently", func(t *testing.T) {
		reload(strings.Replace(base, nameKey, "", 1))
		res := ts.do("POST", "/metadata/identification-keys", `{"name":"name","attributes":["FirstName"]}`)
		if res.Status != http.StatusCreated {
			t.Fatalf("create key: %d %s", res.Status, res.Body)
		}
		if got := ts.identifyIDs("FirstName=banner&id_key=name"); len(got) != 0 {
			t.Errorf("a stale entry of the old key matches: %v", got)
		}
		if got := ts.identifyIDs("FirstName=bruce&id_key=name"); len(got) != 1 {
			t.Errorf("the new key does not find Bruce: %v", got)
		}
	})
	t.Run("DeletedProfileNeverIdentified", func(t *testing.T) {
		ts.do("DELETE", "/profiles/"+bruce, nil)
		if got := ts.identifyIDs("FirstName=bruce&id_key=name&include_profile=yes"); len(got) != 0 {
			t.Errorf("deleted profile identified: %v", got)
		}
	})
}

// TestRecreatedExtensionStartsEmpty: an extension removed from config keeps
// its data (a reload deletes nothing), but one created anew through the API
// under that name does not inherit the old records.
func TestRecreatedExtensionStartsEmpty(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	base := string(mustRead(t, "../config.yaml"))
	const extra = "    - {name: Extra, type: multi-valued, attributes: [{name: a, type: string}]}\n"
	withExtra := strings.Replace(base, "  extensions:\n", "  extensions:\n"+extra, 1)
	if err := os.WriteFile(cfgPath, []byte(withExtra), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := mustStartWith(t, cfgPath, filepath.Join(dir, "p.db"))
	id := ts.mustCreate(`{"FirstName":"Z","Extra":[{"a":"secret-old"}]}`)
	if err := os.WriteFile(cfgPath, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
		t.Fatalf("reload: %d %s", res.Status, res.Body)
	}
	res := ts.do("POST", "/metadata/profiles/extensions", `{"name":"Extra","type":"multi-valued","attributes":[{"name":"c","type":"integer"}]}`)
	if res.Status != http.StatusCreated {
		t.Fatalf("create extension: %d %s", res.Status, res.Body)
	}
	var got map[string]any
	ts.do("GET", "/profiles/"+id+"?extensions=Extra", nil).JSON(t, &got)
	if recs := got["Extra"].([]any); len(recs) != 0 {
		t.Errorf("old records reappeared: %v", recs)
	}
}

// TestReload_RemovedRecordAttribute: after a reload removes a record
// attribute, reads no longer show it and read-modify-write still works.
func TestReload_RemovedRecordAttribute(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	id := ts.mustCreate(exampleProfile(t))
	reload(strings.Replace(base, "        - {name: description,        type: string, length: 256}\n", "", 1))
	read := ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil)
	if strings.Contains(string(read.Body), "description") {
		t.Fatalf("a removed attribute is still shown: %s", read.Body)
	}
	if res := ts.do("PUT", "/profiles/"+id, read.Body); res.Status != http.StatusOK {
		t.Errorf("writing back what was read: %d %s", res.Status, res.Body)
	}
	if res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","prefix":"+1"}`); res.Status != http.StatusNoContent {
		t.Errorf("update by unique: %d %s", res.Status, res.Body)
	}
}

// TestReload_NameCaseChanged: a reload that changes only the case of a
// declared name (names ignore case) shows the stored values under the new
// spelling, in a get and an identify, so a client that reads and writes
// back keeps them.
func TestReload_NameCaseChanged(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	id := ts.mustCreate(exampleProfile(t))
	renamed := strings.Replace(base, "{name: FirstName,", "{name: firstName,", 1)
	renamed = strings.Replace(renamed, "{name: description,", "{name: Description,", 1)
	if renamed == base {
		t.Fatal("the config has no FirstName to rename")
	}
	reload(renamed)
	read := ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil)
	if !strings.Contains(string(read.Body), `"firstName":"Bruce"`) || !strings.Contains(string(read.Body), `"Description":"family phone"`) {
		t.Fatalf("values under the renamed names are not shown: %s", read.Body)
	}
	found := ts.do("GET", "/profiles?EmailAddress=bruce.banner@marvelous.com&include_profile=yes", nil)
	if !strings.Contains(string(found.Body), `"firstName":"Bruce"`) {
		t.Errorf("identify: %s", found.Body)
	}
	if res := ts.do("PUT", "/profiles/"+id, read.Body); res.Status != http.StatusOK {
		t.Errorf("writing back what was read: %d %s", res.Status, res.Body)
	}
	if again := ts.do("GET", "/profiles/"+id, nil); !strings.Contains(string(again.Body), `"firstName":"Bruce"`) {
		t.Errorf("after writing back: %s", again.Body)
	}
	// A unique record attribute renamed by case still selects its record.
	reload(strings.Replace(renamed, "{name: PhoneNumber,        type: string, length: 40,", "{name: phoneNumber,        type: string, length: 40,", 1))
	if res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"phoneNumber":"6543210","prefix":"+1"}`); res.Status != http.StatusNoContent {
		t.Errorf("update by a unique attribute renamed by case: %d %s", res.Status, res.Body)
	}
	if read := ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil); !strings.Contains(string(read.Body), `"prefix":"+1","phoneNumber":"6543210"`) {
		t.Errorf("after the update: %s", read.Body)
	}
}

// startOnConfigCopy starts a server on a copy of the repository's config
// and returns it, the config's text, and reload, which writes a new text
// into the copy and reloads it.
func startOnConfigCopy(t *testing.T) (ts *testServer, base string, reload func(config string)) {
	t.Helper()
	ts, cfgPath, base := startOnConfigCopyAt(t)
	return ts, base, func(config string) {
		t.Helper()
		if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		if res := ts.do("POST", "/admin/reload", nil); res.Status != http.StatusOK {
			t.Fatalf("reload: %d %s", res.Status, res.Body)
		}
	}
}

// startOnConfigCopyAt starts a server on a copy of ../config.yaml (base),
// at cfgPath.
func startOnConfigCopyAt(t *testing.T) (ts *testServer, cfgPath, base string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "config.yaml")
	base = string(mustRead(t, "../config.yaml"))
	if err := os.WriteFile(cfgPath, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	return mustStartWith(t, cfgPath, filepath.Join(dir, "p.db")), cfgPath, base
}

// TestReload_RemovedRecordAttributeKeptBySiblingWrites: a write of one
// record (update or delete by unique) keeps what a reload removed from the
// other records of the set (docs/api.md: writes of records keep it).
func TestReload_RemovedRecordAttributeKeptBySiblingWrites(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	id := ts.mustCreate(exampleProfile(t))
	reload(strings.Replace(base, "        - {name: description,        type: string, length: 256}\n", "", 1))
	if res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","prefix":"+1"}`); res.Status != http.StatusNoContent {
		t.Fatalf("update by unique: %d %s", res.Status, res.Body)
	}
	if res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/delete/by/unique", `{"PhoneNumber":"951357456"}`); res.Status != http.StatusNoContent {
		t.Fatalf("delete by unique: %d %s", res.Status, res.Body)
	}
	export := ts.do("GET", "/profiles/"+id+"/export", nil)
	if !strings.Contains(string(export.Body), "family phone") {
		t.Errorf("the untouched record 3145926535 lost its stored description: %s", export.Body)
	}
}

// TestReload_AttributeRenamedWithAlias: a reload that renames a key's
// attribute and keeps the old name as an alias rebuilds the key's index
// (its fingerprint names the attribute) from the stored profiles, whose
// values are under the old name: identify by the new name must find them,
// and a deleted customer must not be left in the index.
func TestReload_AttributeRenamedWithAlias(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	id := ts.mustCreate(exampleProfile(t))
	renamed := strings.Replace(base, "{name: FirstName,    type: string, length: 256}", "{name: GivenName,    type: string, length: 256, aliases: [FirstName]}", 1)
	if renamed == base {
		t.Fatal("the config has no FirstName to rename")
	}
	reload(renamed)
	if got := ts.identifyIDs("LastName=banner&GivenName=bruce&id_key=name"); len(got) != 1 || got[0] != id {
		t.Errorf("identify by the renamed attribute = %v, want [%s]", got, id)
	}
	ts.do("DELETE", "/profiles/"+id, nil)
	if got := ts.identifyIDs("LastName=banner&id_key=name"); len(got) != 0 {
		t.Errorf("a deleted customer is still identified: %v", got)
	}
}

// TestReload_AliasAddedToKeyAttribute: values stored under an attribute's
// old name count for it once a reload makes that name its alias
// (canonicalTx), so a key over the attribute must be rebuilt then, as for a
// rename that keeps the alias in one reload: renamed first (a leftover,
// not indexed) and the alias added by a second reload, the customer was
// not found, and profiled check called the index damaged. The same holds
// for a store the previous release renamed (it indexed no values): its
// fingerprints name no aliases, so this release's first start must rebuild.
func TestReload_AliasAddedToKeyAttribute(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	title := "{name: Title,        type: string, length: 64}"
	keyed := strings.Replace(base, "  identification_keys:\n", "  identification_keys:\n    - {name: title, attributes: [Title]}\n", 1)
	reload(keyed)
	id := ts.mustCreate(`{"LastName":"Bond","Title":"Commander"}`)
	renamed := strings.Replace(strings.Replace(keyed, title, "{name: Rank, type: string, length: 64}", 1), "attributes: [Title]}", "attributes: [Rank]}", 1)
	reload(renamed)
	reload(strings.Replace(renamed, "{name: Rank, type: string, length: 64}", "{name: Rank, type: string, length: 64, aliases: [Title]}", 1))
	var p map[string]any
	ts.do("GET", "/profiles/"+id, nil).JSON(t, &p)
	if p["Rank"] != "Commander" {
		t.Fatalf("Rank read through the alias = %#v, want Commander (the set-up proves nothing)", p["Rank"])
	}
	if got := ts.identifyIDs("Rank=commander"); len(got) != 1 || got[0] != id {
		t.Errorf("identify Rank=commander after the alias was added = %v, want [%s]", got, id)
	}
}

// TestReload_AttributeRetyped: a reload that changes a key attribute's type
// (UCS lets an administrator retype a Contact Attribute) rebuilds the key's
// index from the stored values as the new type reads them: a Title "007"
// written as a string is found by Title=7 once Title is an integer, and no
// longer once its customer is deleted; a value the new type cannot read
// stays as stored; a write afterwards stores the new form. Both stores.
func TestReload_AttributeRetyped(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	keyed := strings.Replace(base, "  identification_keys:\n", "  identification_keys:\n    - {name: title, attributes: [Title]}\n", 1)
	reload(keyed)
	seven := ts.mustCreate(`{"LastName":"Bond","Title":"007"}`)
	word := ts.mustCreate(`{"LastName":"Moneypenny","Title":"Miss"}`)
	reload(strings.Replace(keyed, "{name: Title,        type: string, length: 64}", "{name: Title,        type: integer, length: 9}", 1))
	for _, q := range []string{"Title=7", "Title=007"} {
		if got := ts.identifyIDs(q); len(got) != 1 || got[0] != seven {
			t.Errorf("identify %s after string -> integer = %v, want [%s]", q, got, seven)
		}
	}
	var kept map[string]any
	ts.do("GET", "/profiles/"+word, nil).JSON(t, &kept)
	if kept["Title"] != "Miss" {
		t.Errorf("a Title the new type cannot read = %#v, want it as stored, Miss", kept["Title"])
	}
	if res := ts.do("PUT", "/profiles/"+seven, `{"LastName":"Bond","Title":"007"}`); res.Status != http.StatusOK {
		t.Fatalf("write after the retype: %d %s", res.Status, res.Body)
	}
	var p map[string]any
	ts.do("GET", "/profiles/"+seven, nil).JSON(t, &p)
	if fmt.Sprint(p["Title"]) != "7" {
		t.Errorf("Title written after the retype = %#v, want 7", p["Title"])
	}
	ts.do("DELETE", "/profiles/"+seven, nil)
	if got := ts.identifyIDs("Title=7"); len(got) != 0 {
		t.Errorf("a deleted customer is still identified: %v", got)
	}
}

// TestStart_CountsNonconformingProfiles: a schema edited while the server
// was stopped (or a file replaced, which deploy.md has operators apply with
// a restart instead of a reload) goes live at the start; the profiles it no
// longer fits must be counted then as after a reload (config.md: "stored
// profiles that no longer conform are counted in the background and
// reported ... in GET /admin/schema (conformance) and in the metric
// profiled_schema_nonconforming_profiles"), not reset to 0 by the restart.
func TestStart_CountsNonconformingProfiles(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	ts.mustCreate(`{"LastName":"Lee"}`)
	ts.mustCreate(`{"LastName":"Bond","FirstName":"James"}`)
	reload(strings.Replace(base, "{name: FirstName,    type: string, length: 256}", "{name: FirstName,    type: string, length: 256, mandatory: true}", 1))
	var got struct {
		Conformance *struct{ Checked, Nonconforming int }
	}
	counted := func() { // the check runs in the background
		got.Conformance = nil
		for deadline := time.Now().Add(5 * time.Second); got.Conformance == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			ts.do("GET", "/admin/schema", nil).JSON(t, &got)
		}
	}
	counted()
	ts = ts.restart()
	counted()
	if got.Conformance == nil || got.Conformance.Checked != 2 || got.Conformance.Nonconforming != 1 {
		t.Errorf("conformance after a restart = %+v, want 2 checked, 1 nonconforming (as the reload before it found)", got.Conformance)
	}
	if !strings.Contains(string(ts.do("GET", "/metrics", nil).Body), "\nprofiled_schema_nonconforming_profiles 1\n") {
		t.Errorf("profiled_schema_nonconforming_profiles after a restart is not 1")
	}
}

// TestReload_EGainMappedAttributesRenamedWithAlias: docs/config.md's rename
// (the old name kept as an alias) of attributes the eGain mapping names by
// their old names, core (FirstName, EmailAddress) and of a record
// (phone.number), keeps the facade whole: an eGain read shows the stored
// first name, e-mail and phone, searches by the e-mail and the phone find
// the customer, and an eGain edit keeps them (before, the facade read the
// old names, showed none, and its edits failed 400-103). Both stores.
func TestReload_EGainMappedAttributesRenamedWithAlias(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	session := egLogin(t, ts)
	num := egCreate(t, ts, session, `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Jack","lastName":"Sparrow",
		"contactPoints":{"contactPoint":[{"type":{"value":"email","email":{"emailAddress":"jack@pearl.example"}}},
		{"type":{"value":"phone","phone":{"type":{"value":"home"},"phoneNo":"+44 1234 5678"}}}]}}]}}`, "")
	renamed := strings.Replace(base, "{name: FirstName,    type: string, length: 256}", "{name: GivenName,    type: string, length: 256, aliases: [FirstName]}", 1)
	renamed = strings.Replace(renamed, "{name: EmailAddress, type: string, length: 256, multi_valued: true}", "{name: Email, type: string, length: 256, multi_valued: true, aliases: [EmailAddress]}", 1)
	renamed = strings.Replace(renamed, "{name: PhoneNumber,        type: string, length: 40, mandatory: true}", "{name: Phonenum, type: string, length: 40, mandatory: true, aliases: [PhoneNumber]}", 1)
	renamed = strings.Replace(renamed, "unique: [PhoneNumber]", "unique: [Phonenum]", 1)
	if strings.Count(renamed, "aliases: [") != strings.Count(base, "aliases: [")+3 {
		t.Fatal("the config has no FirstName, EmailAddress or Phone.PhoneNumber to rename")
	}
	reload(renamed)

	eg := []string{egSession, session, "Accept", "application/json"}
	person := func(what string) map[string]any {
		t.Helper()
		var got struct {
			Customer []struct {
				ContactPersons struct{ ContactPerson []map[string]any }
			}
		}
		res := ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, eg...)
		res.JSON(t, &got)
		if res.Status != http.StatusOK || len(got.Customer) != 1 || len(got.Customer[0].ContactPersons.ContactPerson) != 1 {
			t.Fatalf("%s: eGain read: %d %s", what, res.Status, res.Body)
		}
		return got.Customer[0].ContactPersons.ContactPerson[0]
	}
	check := func(what string) {
		t.Helper()
		p := person(what)
		if points := fmt.Sprint(p["contactPoints"]); p["firstName"] != "Jack" || !strings.Contains(points, "jack@pearl.example") || !strings.Contains(points, "+44 1234 5678") {
			t.Errorf("%s: the eGain view lost the renamed attributes' values: %v", what, p)
		}
		for _, q := range []string{"email=jack%40pearl.example", "phone=%2B44%201234%205678"} {
			res := ts.do("GET", "/ws/v12/interaction/customer?"+q, nil, eg...)
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"id":"`+num+`"`) {
				t.Errorf("%s: eGain search %s: %d %s", what, q, res.Status, res.Body)
			}
		}
	}
	check("after the rename")
	res := ts.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","marketSegment":"Retail"}`, append(eg, "Content-Type", "application/json")...)
	if res.Status != http.StatusNoContent {
		t.Fatalf("eGain edit after the rename: %d %s", res.Status, res.Body)
	}
	check("after an eGain edit")
	ids := ts.identifyIDs("Email=jack%40pearl.example")
	if len(ids) != 1 {
		t.Fatalf("Genesys identify by the e-mail after the eGain edit: %v", ids)
	}
	var got map[string]any
	ts.do("GET", "/profiles/"+ids[0], nil).JSON(t, &got)
	if got["GivenName"] != "Jack" || fmt.Sprint(got["Email"]) != "[jack@pearl.example]" || got["FirstName"] != nil || got["EmailAddress"] != nil {
		t.Errorf("the Genesys view after the eGain edit: %v", got)
	}
}

// TestReload_RecordRetypedIsWrittenByAPut: as for a core attribute
// (TestReload_AttributeRetyped), a record value written before a reload
// retyped its attribute is stored in the new type's form by the next
// write of its set (docs/config.md: "written so at the customer's next
// write"): a PUT of the set the client read, in the new form, must store
// it, so that a Genesys read, which shows record values as stored, shows
// what was written. Both stores.
func TestReload_RecordRetypedIsWrittenByAPut(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	id := ts.mustCreate(`{"LastName":"Bond","Phone":[{"PhoneNumber":"5550007","description":"007"}]}`)
	retyped := strings.Replace(base, "{name: description,        type: string, length: 256}", "{name: description,        type: integer}", 1)
	if retyped == base {
		t.Fatal("the config has no Phone.description to retype")
	}
	reload(retyped)
	res := ts.do("PUT", "/profiles/"+id, `{"LastName":"Bond","Phone":[{"PhoneNumber":"5550007","description":7}]}`)
	if res.Status != http.StatusOK {
		t.Fatalf("PUT after the retype: %d %s", res.Status, res.Body)
	}
	var p struct{ Phone []map[string]any }
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &p)
	if len(p.Phone) != 1 || fmt.Sprint(p.Phone[0]["description"]) != "7" {
		t.Errorf("Phone after a PUT of description 7 = %v, want description 7 as written, not the stored \"007\"", p.Phone)
	}
}

// TestReload_RecordRenamedIsMovedByAPut: docs/config.md's rename of a
// record attribute, keeping the old name as an alias, moves stored values
// to the new name "at the customer's next write"; a PUT of the set as read
// is that write, so once it is done the alias can be dropped and the value
// is still there. Both stores.
func TestReload_RecordRenamedIsMovedByAPut(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	id := ts.mustCreate(`{"LastName":"Bond","Phone":[{"PhoneNumber":"5550007","description":"desk"}]}`)
	old := "{name: description,        type: string, length: 256}"
	if !strings.Contains(base, old) {
		t.Fatal("the config has no Phone.description to rename")
	}
	reload(strings.Replace(base, old, "{name: notes, type: string, length: 256, aliases: [description]}", 1))
	if res := ts.do("PUT", "/profiles/"+id, `{"LastName":"Bond","Phone":[{"PhoneNumber":"5550007","notes":"desk"}]}`); res.Status != http.StatusOK {
		t.Fatalf("PUT after the rename: %d %s", res.Status, res.Body)
	}
	reload(strings.Replace(base, old, "{name: notes, type: string, length: 256}", 1))
	var p struct{ Phone []map[string]any }
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &p)
	if len(p.Phone) != 1 || p.Phone[0]["notes"] != "desk" {
		t.Errorf("Phone once the alias is dropped = %v, want notes \"desk\" (the PUT wrote it under the new name)", p.Phone)
	}
}

// TestReload_RecordRenamedMovedByAPutWithoutIt: a PUT that leaves out an
// extension an identification key reads still reads its records, and finds
// them in the spelling before a rename: it writes them in the new one, so
// the same PUT sent again changes nothing and keeps the revision (it had
// bumped it at every call, the records never moved).
func TestReload_RecordRenamedMovedByAPutWithoutIt(t *testing.T) {
	t.Parallel()
	ts, base, reload := startOnConfigCopy(t)
	id := ts.mustCreate(`{"LastName":"Bond","Phone":[{"PhoneNumber":"5550008","description":"desk"}]}`)
	old := "{name: description,        type: string, length: 256}"
	reload(strings.Replace(base, old, "{name: notes, type: string, length: 256, aliases: [description]}", 1))
	first := ts.do("PUT", "/profiles/"+id, `{"LastName":"Bond","FirstName":"James"}`)
	again := ts.do("PUT", "/profiles/"+id, `{"LastName":"Bond","FirstName":"James"}`)
	if first.Status != http.StatusOK || again.Status != http.StatusOK {
		t.Fatalf("PUTs after the rename: %d %s, %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	if a, b := first.Header.Get("ETag"), again.Header.Get("ETag"); a != b {
		t.Errorf("the same PUT sent again moved the ETag from %s to %s", a, b)
	}
	reload(strings.Replace(base, old, "{name: notes, type: string, length: 256}", 1))
	var p struct{ Phone []map[string]any }
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &p)
	if len(p.Phone) != 1 || p.Phone[0]["notes"] != "desk" {
		t.Errorf("Phone once the alias is dropped = %v, want notes \"desk\"", p.Phone)
	}
}
