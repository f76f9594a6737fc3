package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestCreateProfile_VendorExample(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	body := exampleProfile(t)
	res := ts.do("POST", "/profiles", body)
	if res.Status != http.StatusCreated {
		t.Fatalf("status = %d, want 201: %s", res.Status, res.Body)
	}
	var created map[string]string
	res.JSON(t, &created)
	id := created["customer_id"]
	if id == "" || len(id) > 16 {
		t.Fatalf("customer_id = %q, want 1..16 chars", id)
	}
	if got, want := res.Header.Get("Location"), "/profiles/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}

	t.Run("GetCoreAttributes", func(t *testing.T) {
		var got map[string]any
		ts.do("GET", "/profiles/"+id, nil).JSON(t, &got)
		want := map[string]any{ // every core attribute, null when unset (spec §3.2)
			"customer_id":  id,
			"FirstName":    "Bruce",
			"LastName":     "Banner",
			"DOB":          "1962-05-10",
			"EmailAddress": []any{"bruce.banner@marvelous.com", "b.banner@hulk.dom"},
			"PhoneNumber":  nil,
			"Title":        nil,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("GetWithPhoneExtension", func(t *testing.T) {
		var got struct{ Phone []map[string]any }
		ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
		var sent struct{ Phone []map[string]any }
		if err := json.Unmarshal([]byte(body), &sent); err != nil {
			t.Fatal(err)
		}
		if len(got.Phone) != 3 {
			t.Fatalf("got %d Phone records, want 3: %v", len(got.Phone), got.Phone)
		}
		for i := range sent.Phone {
			for k, v := range sent.Phone[i] {
				if fmt.Sprint(got.Phone[i][k]) != fmt.Sprint(v) {
					t.Errorf("Phone[%d].%s = %v, want %v", i, k, got.Phone[i][k], v)
				}
			}
		}
		// Each record has all its attributes (spec §3.2): the third was sent
		// without availability, which reads null.
		for _, name := range []string{"start_availabilty", "end_availabilty"} {
			if v, ok := got.Phone[2][name]; !ok || v != nil {
				t.Errorf("Phone[2].%s = %v (present %v), want null", name, v, ok)
			}
		}
	})
	t.Run("TrailingSlash", func(t *testing.T) {
		// The vendor sample posts to /profiles/.
		res := ts.do("POST", "/profiles/", `{"FirstName":"Slash"}`)
		if res.Status != http.StatusCreated {
			t.Fatalf("status = %d: %s", res.Status, res.Body)
		}
	})
}

func TestIdentify_VendorExample(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	ts.mustCreate(`{"FirstName":"Betty","LastName":"Ross","EmailAddress":["betty@ross.dom"],"Phone":[{"PhoneNumber":"1111"}]}`)

	queries := []string{
		"EmailAddress=b.banner@hulk.dom",
		"EmailAddress=bruce.banner@marvelous.com",
		"Phone.PhoneNumber=6543210",
		"LastName=Banner&FirstName=Bruce",
		"EmailAddress=B.Banner@Hulk.dom", // identification ignores case
	}
	for _, q := range queries {
		for _, include := range []string{"", "&include_profile=yes"} {
			t.Run(q+include, func(t *testing.T) {
				res := ts.do("GET", "/profiles?"+q+include, nil)
				if res.Status != http.StatusOK {
					t.Fatalf("status %d: %s", res.Status, res.Body)
				}
				var got []map[string]any
				res.JSON(t, &got)
				if len(got) != 1 || got[0]["customer_id"] != id {
					t.Fatalf("got %v, want only %s", got, id)
				}
				_, hasName := got[0]["FirstName"]
				if hasName != (include != "") {
					t.Errorf("FirstName present = %v, want %v", hasName, include != "")
				}
			})
		}
	}
	t.Run("NoMatchIsEmptyArray", func(t *testing.T) {
		res := ts.do("GET", "/profiles?EmailAddress=nobody@nowhere.dom", nil)
		if res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != "[]" {
			t.Fatalf("got %d %s, want 200 []", res.Status, res.Body)
		}
	})
	t.Run("ExtensionsAlways", func(t *testing.T) {
		var got []map[string]any
		ts.do("GET", "/profiles?Phone.PhoneNumber=6543210&extensions=Phone", nil).JSON(t, &got)
		if len(got) != 1 || len(got[0]["Phone"].([]any)) != 3 {
			t.Fatalf("got %v, want one customer with 3 phones", got)
		}
	})
	t.Run("ExplicitKey", func(t *testing.T) {
		var got []map[string]any
		ts.do("GET", "/profiles?LastName=Banner&id_key=name", nil).JSON(t, &got)
		if len(got) != 1 || got[0]["customer_id"] != id {
			t.Fatalf("got %v, want %s by the name key's prefix", got, id)
		}
	})
	t.Run("ExtraFilterMustHold", func(t *testing.T) {
		var got []map[string]any
		ts.do("GET", "/profiles?EmailAddress=b.banner@hulk.dom&FirstName=Betty", nil).JSON(t, &got)
		if len(got) != 0 {
			t.Fatalf("got %v, want none: FirstName does not match", got)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct{ query, code string }{
			{"", "NO_IDENTIFICATION_KEY"},
			{"Title=Dr", "NO_IDENTIFICATION_KEY"},
			{"Nope=1", "UNKNOWN_ATTRIBUTE"},
			{"Nope.PhoneNumber=1", "UNKNOWN_EXTENSION"},
			{"EmailAddress=a&id_key=nokey", "UNKNOWN_IDENTIFICATION_KEY"},
			{"EmailAddress=a&include_profile=maybe", "BAD_PARAMETER"},
			{"EmailAddress=a&EmailAddress=b", "BAD_PARAMETER"},
			{"EmailAddress=", "BAD_PARAMETER"},
			{"EmailAddress=a&extensions=Nope", "UNKNOWN_EXTENSION"},
			{".EmailAddress=bruce.banner@marvelous.com", "BAD_PARAMETER"}, // not the core attribute
			{"Phone.=1", "BAD_PARAMETER"},
			{"Phone.PhoneNumber.x=1", "BAD_PARAMETER"},
			{"EmailAddress=%FF", "INVALID_UTF8"},
		} {
			t.Run(tc.query, func(t *testing.T) {
				wantError(t, ts.do("GET", "/profiles?"+tc.query, nil), http.StatusBadRequest, tc.code)
			})
		}
	})
}

// TestIdentify_FoldsCase: identification ignores case as Unicode case
// folding has it (docs/api.md, "Matching ignores case"): a Greek surname in
// capitals finds it stored in lower case (Σ and final ς alike), STRASSE
// finds Straße, and an e-mail address in capitals finds its customer.
func TestIdentify_FoldsCase(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	greek := ts.mustCreate(`{"FirstName":"Γιώργος","LastName":"Παπαδόπουλος","EmailAddress":["giorgos@παράδειγμα.gr"]}`)
	german := ts.mustCreate(`{"FirstName":"Jörg","LastName":"Straße","EmailAddress":["jörg@straße.example"]}`)
	for _, tc := range []struct{ query, id string }{
		{"LastName=ΠΑΠΑΔΌΠΟΥΛΟΣ", greek},
		{"LastName=ΠΑΠΑΔΌΠΟΥΛΟΣ&FirstName=ΓΙΏΡΓΟΣ", greek},
		{"EmailAddress=GIORGOS@ΠΑΡΆΔΕΙΓΜΑ.GR", greek},
		{"LastName=STRASSE", german},
		{"EmailAddress=JÖRG@STRASSE.EXAMPLE", german},
	} {
		t.Run(tc.query, func(t *testing.T) {
			q := url.Values{}
			for part := range strings.SplitSeq(tc.query, "&") {
				name, value, _ := strings.Cut(part, "=")
				q.Set(name, value)
			}
			res := ts.do("GET", "/profiles?"+q.Encode(), nil)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			var got []map[string]any
			res.JSON(t, &got)
			if len(got) != 1 || got[0]["customer_id"] != tc.id {
				t.Fatalf("got %v, want only %s", got, tc.id)
			}
		})
	}
}

// TestIdentify_ReadsOnlyIndexEntries shows identify never scans: among many
// profiles, finding one visits one index entry and no other profile.
func TestIdentify_ReadsOnlyIndexEntries(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	bodies := make([]string, 300)
	for i := range bodies {
		bodies[i] = fmt.Sprintf(`{"LastName":"L%d","EmailAddress":["u%d@x.dom"],"Phone":[{"PhoneNumber":"%d"}]}`, i, i, 5550000+i)
	}
	ts.mustCreateAll(bodies)
	for _, q := range []string{"EmailAddress=u150@x.dom", "Phone.PhoneNumber=5550150"} {
		visitedBefore, readsBefore := ts.readStats()
		var got []map[string]any
		ts.do("GET", "/profiles?"+q, nil).JSON(t, &got)
		visitedAfter, readsAfter := ts.readStats()
		if len(got) != 1 {
			t.Fatalf("%s: got %d customers, want 1", q, len(got))
		}
		if visited := visitedAfter - visitedBefore; visited != 1 {
			t.Errorf("%s: visited %d index entries, want 1", q, visited)
		}
		if reads := readsAfter - readsBefore; reads != 0 {
			t.Errorf("%s: read %d profiles, want 0 without include_profile", q, reads)
		}
	}
}

func TestGetProfile(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	t.Run("ETag", func(t *testing.T) {
		res := ts.do("GET", "/profiles/"+id, nil)
		if tag := res.Header.Get("ETag"); !regexp.MustCompile(`^"[0-9]+"$`).MatchString(tag) {
			t.Errorf("ETag = %q, want a quoted revision number", tag)
		}
	})
	t.Run("ExtensionNamesIgnoreCase", func(t *testing.T) {
		var got map[string]any
		ts.do("GET", "/profiles/"+id+"?extensions=phone", nil).JSON(t, &got)
		if len(got["Phone"].([]any)) != 3 {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		wantError(t, ts.do("GET", "/profiles/nosuchcustomer", nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
	})
	t.Run("EscapedID", func(t *testing.T) {
		// Every character escaped: the same customer, in any route.
		var escaped strings.Builder
		for _, b := range []byte(id) {
			fmt.Fprintf(&escaped, "%%%02X", b)
		}
		var got map[string]any
		ts.do("GET", "/profiles/"+escaped.String()+"?extensions=Ph%6Fne", nil).JSON(t, &got)
		if got["customer_id"] != id || len(got["Phone"].([]any)) != 3 {
			t.Errorf("GET by the escaped id = %v", got)
		}
	})
	t.Run("ErrUnknownExtension", func(t *testing.T) {
		wantError(t, ts.do("GET", "/profiles/"+id+"?extensions=Nope", nil), http.StatusBadRequest, "UNKNOWN_EXTENSION")
	})
	t.Run("ErrUnknownParameter", func(t *testing.T) {
		wantError(t, ts.do("GET", "/profiles/"+id+"?expand=all", nil), http.StatusBadRequest, "BAD_PARAMETER")
	})
}

func TestCreateProfile_ClientID(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	t.Run("OK", func(t *testing.T) {
		if id := ts.mustCreate(`{"customer_id":"0004Va58A92T0017","FirstName":"A"}`); id != "0004Va58A92T0017" {
			t.Fatalf("id = %q", id)
		}
	})
	t.Run("ErrTaken", func(t *testing.T) {
		wantError(t, ts.do("POST", "/profiles", `{"customer_id":"0004Va58A92T0017","FirstName":"B"}`), http.StatusConflict, "PROFILE_EXISTS")
	})
	t.Run("ErrTooLong", func(t *testing.T) {
		wantError(t, ts.do("POST", "/profiles", `{"customer_id":"01234567890123456","FirstName":"B"}`), http.StatusBadRequest, "INVALID_CUSTOMER_ID")
	})
	t.Run("ErrPathTraversal", func(t *testing.T) {
		wantError(t, ts.do("POST", "/profiles", `{"customer_id":"../../etc","FirstName":"B"}`), http.StatusBadRequest, "INVALID_CUSTOMER_ID")
	})
	if n := ts.profileCount(); n != 1 {
		t.Errorf("profiles stored = %d, want 1", n)
	}
}

// TestBadInput covers each class of bad input: the status, the error body,
// and that nothing was stored.
func TestBadInput(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, `
  profile:
    - {name: FirstName, type: string, length: 10, mandatory: "true"}
    - {name: LastName, type: string}
    - {name: DOB, type: date}
    - {name: Age, type: integer}
    - {name: EmailAddress, type: string, multi_valued: true}
  extensions:
    - name: Phone
      type: multi-valued
      unique: [PhoneNumber]
      attributes:
        - {name: PhoneNumber, type: string, mandatory: true}
        - {name: PhoneType, type: integer, default: 0}
  identification_keys:
    - {name: email, attributes: [EmailAddress]}
`)
	// Values are held to the unauthorized strings only when configured.
	if err := os.WriteFile(cfg, append([]byte("genesys: {unauthorized_strings: {check_values: true}}\n"), mustRead(t, cfg)...), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := mustStartWith(t, cfg, t.TempDir()+"/p.db")
	big := `{"FirstName":"A","LastName":"` + strings.Repeat("x", 2<<20) + `"}`
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"MalformedJSON", `{"FirstName":`, 400, "MALFORMED_JSON"},
		{"NotAnObject", `["FirstName"]`, 400, "MALFORMED_JSON"},
		{"TrailingData", `{"FirstName":"A"} {}`, 400, "MALFORMED_JSON"},
		{"EmptyBody", ``, 400, "MALFORMED_JSON"},
		{"InvalidUTF8", "{\"FirstName\":\"\xff\xfe\"}", 400, "INVALID_UTF8"},
		{"UnknownAttribute", `{"FirstName":"A","Shoe":"42"}`, 400, "UNKNOWN_ATTRIBUTE"},
		{"UnknownExtensionAttribute", `{"FirstName":"A","Phone":[{"PhoneNumber":"1","Color":"red"}]}`, 400, "UNKNOWN_ATTRIBUTE"},
		{"WrongType", `{"FirstName":5}`, 400, "INVALID_TYPE"},
		{"WrongTypeInteger", `{"FirstName":"A","Age":"old"}`, 400, "INVALID_TYPE"},
		{"WrongTypeMultiValued", `{"FirstName":"A","EmailAddress":[{"a":1}]}`, 400, "INVALID_TYPE"},
		{"ExtensionNotArray", `{"FirstName":"A","Phone":"555"}`, 400, "INVALID_TYPE"},
		{"BadDate", `{"FirstName":"A","DOB":"1962-13-45"}`, 400, "INVALID_VALUE"},
		{"BadDateFormat", `{"FirstName":"A","DOB":"10/05/1962"}`, 400, "INVALID_VALUE"},
		{"OverLength", `{"FirstName":"Bartholomew-the-third"}`, 400, "VALUE_TOO_LONG"},
		{"MissingMandatory", `{"LastName":"Banner"}`, 400, "MISSING_MANDATORY_ATTRIBUTE"},
		{"MissingMandatoryInRecord", `{"FirstName":"A","Phone":[{"PhoneType":1}]}`, 400, "MISSING_MANDATORY_ATTRIBUTE"},
		{"UnauthorizedString", `{"FirstName":"Select"}`, 400, "UNAUTHORIZED_STRING"},
		{"UnauthorizedStringInRecord", `{"FirstName":"A","Phone":[{"PhoneNumber":"NULL"}]}`, 400, "UNAUTHORIZED_STRING"},
		{"DuplicateUniqueValues", `{"FirstName":"A","Phone":[{"PhoneNumber":"1"},{"PhoneNumber":"1"}]}`, 400, "DUPLICATE_UNIQUE_VALUES"},
		{"DuplicateNameByCase", `{"FirstName":"A","firstname":"B"}`, 400, "INVALID_BODY"},
		{"Oversize", big, 413, "BODY_TOO_LARGE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do("POST", "/profiles", tc.body), tc.status, tc.code)
			if n := ts.profileCount(); n != 0 {
				t.Fatalf("profiles stored = %d, want 0", n)
			}
		})
	}
	t.Run("UnauthorizedIsWholeValue", func(t *testing.T) {
		ts.mustCreate(`{"FirstName":"Selection"}`)
	})
}

func TestReplaceProfile(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	t.Run("OK", func(t *testing.T) {
		res := ts.do("PUT", "/profiles/"+id, `{"customer_id":"`+id+`","FirstName":"Robert","EmailAddress":["rb@x.dom"]}`)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var got map[string]any
		ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
		if got["FirstName"] != "Robert" || got["LastName"] != nil {
			t.Errorf("core attributes not replaced wholesale: %v", got)
		}
		if len(got["Phone"].([]any)) != 3 {
			t.Errorf("absent extension must stay untouched: %v", got["Phone"])
		}
		// The index follows: the old address no longer identifies, the new one does.
		var found []map[string]any
		ts.do("GET", "/profiles?EmailAddress=b.banner@hulk.dom", nil).JSON(t, &found)
		if len(found) != 0 {
			t.Errorf("old e-mail still identifies: %v", found)
		}
		ts.do("GET", "/profiles?EmailAddress=rb@x.dom", nil).JSON(t, &found)
		if len(found) != 1 {
			t.Errorf("new e-mail does not identify: %v", found)
		}
	})
	t.Run("ReplacesPresentExtension", func(t *testing.T) {
		ts.do("PUT", "/profiles/"+id, `{"FirstName":"Robert","Phone":[{"PhoneNumber":"42"}]}`)
		var got struct{ Phone []map[string]any }
		ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
		if len(got.Phone) != 1 || got.Phone[0]["PhoneNumber"] != "42" {
			t.Fatalf("Phone = %v, want the one new record", got.Phone)
		}
		var found []map[string]any
		ts.do("GET", "/profiles?Phone.PhoneNumber=6543210", nil).JSON(t, &found)
		if len(found) != 0 {
			t.Errorf("removed phone still identifies: %v", found)
		}
	})
	t.Run("IfMatch", func(t *testing.T) {
		etag := ts.do("GET", "/profiles/"+id, nil).Header.Get("ETag")
		if res := ts.do("PUT", "/profiles/"+id, `{"FirstName":"A"}`, "If-Match", etag); res.Status != http.StatusOK {
			t.Fatalf("matching If-Match: %d %s", res.Status, res.Body)
		}
		wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"B"}`, "If-Match", etag), http.StatusPreconditionFailed, "REVISION_MISMATCH")
		current := ts.do("GET", "/profiles/"+id, nil).Header.Get("ETag")
		wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"B"}`, "If-Match", "W/"+current), http.StatusPreconditionFailed, "REVISION_MISMATCH")
		wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"B"}`, "If-Match", "abc"), http.StatusBadRequest, "BAD_PARAMETER")
		var got map[string]any
		ts.do("GET", "/profiles/"+id, nil).JSON(t, &got)
		if got["FirstName"] != "A" {
			t.Errorf("a refused PUT changed the profile: %v", got)
		}
	})
	// Every write of one profile takes If-Match, not only PUT: a stale tag
	// is 412 and changes nothing, the current one lets the write through.
	t.Run("IfMatchOnEveryWrite", func(t *testing.T) {
		target := ts.mustCreate(`{"FirstName":"Cond","Phone":[{"PhoneNumber":"5551000"},{"PhoneNumber":"5551001"}]}`)
		source := ts.mustCreate(`{"FirstName":"Merged","Phone":[{"PhoneNumber":"5551003"}]}`)
		stale := ts.do("GET", "/profiles/"+target, nil).Header.Get("ETag")
		ts.do("PUT", "/profiles/"+target, `{"FirstName":"Cond2"}`) // moves the revision on
		writes := []struct{ method, path, body string }{
			{"POST", "/profiles/" + target + "/extensions", `{"Phone":[{"PhoneNumber":"5551002"}]}`},
			{"PUT", "/profiles/" + target + "/extensions/Phone/by/unique", `{"PhoneNumber":"5551000","description":"x"}`},
			{"PUT", "/profiles/" + target + "/extensions/Phone/delete/by/unique", `{"PhoneNumber":"5551001"}`},
			{"PUT", "/profiles/" + target + "/merge/" + source, `{}`},
			{"DELETE", "/profiles/" + target, ""},
		}
		for _, w := range writes {
			before := ts.do("GET", "/profiles/"+target+"?extensions=Phone", nil)
			var body any
			if w.body != "" {
				body = w.body
			}
			res := ts.do(w.method, w.path, body, "If-Match", stale)
			wantError(t, res, http.StatusPreconditionFailed, "REVISION_MISMATCH")
			if after := ts.do("GET", "/profiles/"+target+"?extensions=Phone", nil); string(after.Body) != string(before.Body) {
				t.Errorf("%s %s with a stale If-Match changed the profile:\n%s\n%s", w.method, w.path, before.Body, after.Body)
			}
			current := before.Header.Get("ETag")
			res = ts.do(w.method, w.path, body, "If-Match", current)
			if res.Status >= 300 {
				t.Errorf("%s %s with the current If-Match %s: %d %s", w.method, w.path, current, res.Status, res.Body)
			}
			// The answer's ETag is the new revision: conditional writes chain.
			if now := ts.do("GET", "/profiles/"+target, nil).Header.Get("ETag"); w.method != "DELETE" && res.Header.Get("ETag") != now {
				t.Errorf("%s %s answered ETag %q, the profile is at %q", w.method, w.path, res.Header.Get("ETag"), now)
			}
		}
		if res := ts.do("GET", "/profiles/"+target, nil); res.Status != http.StatusNotFound {
			t.Errorf("the conditional DELETE did not delete: %d", res.Status)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		wantError(t, ts.do("PUT", "/profiles/nosuch", `{"FirstName":"A"}`), http.StatusNotFound, "PROFILE_NOT_FOUND")
	})
	t.Run("ErrIDMismatch", func(t *testing.T) {
		wantError(t, ts.do("PUT", "/profiles/"+id, `{"customer_id":"other","FirstName":"A"}`), http.StatusBadRequest, "CUSTOMER_ID_MISMATCH")
	})
	t.Run("ErrInvalidLeavesProfile", func(t *testing.T) {
		wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"A","DOB":"yesterday"}`), http.StatusBadRequest, "INVALID_VALUE")
		var got map[string]any
		ts.do("GET", "/profiles/"+id, nil).JSON(t, &got)
		if got["FirstName"] != "A" || got["DOB"] != nil {
			t.Errorf("profile changed by a refused PUT: %v", got)
		}
	})
}

func TestDeleteProfile(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	if res := ts.do("DELETE", "/profiles/"+id, nil); res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	wantError(t, ts.do("GET", "/profiles/"+id, nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
	var found []map[string]any
	ts.do("GET", "/profiles?Phone.PhoneNumber=6543210", nil).JSON(t, &found)
	if len(found) != 0 {
		t.Errorf("deleted profile still identified: %v", found)
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		wantError(t, ts.do("DELETE", "/profiles/"+id, nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
	})
	t.Run("ReuseID", func(t *testing.T) {
		// Nothing of the deleted profile lingers: its records are gone too.
		ts.mustCreate(`{"customer_id":"` + id + `","FirstName":"New"}`)
		var got map[string]any
		ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
		if len(got["Phone"].([]any)) != 0 {
			t.Errorf("records of the deleted profile came back: %v", got)
		}
	})
}

func TestExtensionRecords(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	phones := func() []map[string]any {
		var got struct{ Phone []map[string]any }
		ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
		return got.Phone
	}
	t.Run("InsertUpsertsByUnique", func(t *testing.T) {
		res := ts.do("POST", "/profiles/"+id+"/extensions", `{"Phone":[{"PhoneNumber":"6543210","description":"new text"},{"PhoneNumber":"777"}]}`)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		got := phones()
		if len(got) != 4 {
			t.Fatalf("got %d records, want 4 (one replaced, one appended): %v", len(got), got)
		}
		if got[1]["description"] != "new text" {
			t.Errorf("record with the same unique value not replaced: %v", got[1])
		}
	})
	t.Run("UpdateByUnique", func(t *testing.T) {
		res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":"777","description":"updated"}`)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		got := phones()
		if got[3]["description"] != "updated" || got[3]["PhoneNumber"] != "777" {
			t.Errorf("record not updated: %v", got[3])
		}
	})
	t.Run("DeleteByUnique", func(t *testing.T) {
		// The vendor sample sends the whole record; extra fields are tolerated.
		res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/delete/by/unique", `{"PhoneNumber":"777","description":"updated","PhoneType":0}`)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		if got := phones(); len(got) != 3 {
			t.Errorf("got %d records, want 3", len(got))
		}
		var found []map[string]any
		ts.do("GET", "/profiles?Phone.PhoneNumber=777", nil).JSON(t, &found)
		if len(found) != 0 {
			t.Errorf("deleted record still identifies: %v", found)
		}
	})
	// A record whose unique attribute is unset reads with it null; sent
	// back as read, it selects itself for update and delete.
	t.Run("ByUniqueWithNull", func(t *testing.T) {
		cid := ts.mustCreate(`{"FirstName":"Nul","CustomAttribute":[{"name":"n"},{"name":"m","value":"v"}]}`)
		var read struct{ CustomAttribute []map[string]any }
		ts.do("GET", "/profiles/"+cid+"?extensions=CustomAttribute", nil).JSON(t, &read)
		if len(read.CustomAttribute) != 2 || read.CustomAttribute[0]["value"] != nil {
			t.Fatalf("records as read: %v", read.CustomAttribute)
		}
		if res := ts.do("PUT", "/profiles/"+cid+"/extensions/CustomAttribute/by/unique", `{"name":"n","value":null}`); res.Status != http.StatusNoContent {
			t.Fatalf("update by unique with null: %d %s", res.Status, res.Body)
		}
		asRead, err := json.Marshal(read.CustomAttribute[0])
		if err != nil {
			t.Fatal(err)
		}
		if res := ts.do("PUT", "/profiles/"+cid+"/extensions/CustomAttribute/delete/by/unique", asRead); res.Status != http.StatusNoContent {
			t.Fatalf("delete by unique with the record as read: %d %s", res.Status, res.Body)
		}
		ts.do("GET", "/profiles/"+cid+"?extensions=CustomAttribute", nil).JSON(t, &read)
		if len(read.CustomAttribute) != 1 || read.CustomAttribute[0]["name"] != "m" {
			t.Errorf("records after the delete: %v", read.CustomAttribute)
		}
		wantError(t, ts.do("PUT", "/profiles/"+cid+"/extensions/CustomAttribute/delete/by/unique", `{"name":"m"}`), http.StatusBadRequest, "MISSING_UNIQUE_ATTRIBUTE")
	})
	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code                     string
		}{
			{"InsertUnknownProfile", "POST", "/profiles/nosuch/extensions", `{"Phone":[{"PhoneNumber":"1"}]}`, 404, "PROFILE_NOT_FOUND"},
			{"InsertUnknownExtension", "POST", "/profiles/" + id + "/extensions", `{"Shoes":[{"size":1}]}`, 400, "UNKNOWN_ATTRIBUTE"},
			{"InsertCoreAttribute", "POST", "/profiles/" + id + "/extensions", `{"FirstName":"X"}`, 400, "UNKNOWN_EXTENSION"},
			{"InsertNothing", "POST", "/profiles/" + id + "/extensions", `{}`, 400, "NO_EXTENSIONS"},
			{"InsertDuplicates", "POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"9"},{"PhoneNumber":"9"}]}`, 400, "DUPLICATE_UNIQUE_VALUES"},
			{"UpdateNoSuchRecord", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"PhoneNumber":"000","description":"x"}`, 404, "RECORD_NOT_FOUND"},
			{"UpdateWithoutUnique", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"description":"x"}`, 400, "MISSING_UNIQUE_ATTRIBUTE"},
			{"UpdateBadType", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","PhoneType":"x"}`, 400, "INVALID_TYPE"},
			{"UpdateUnknownExtension", "PUT", "/profiles/" + id + "/extensions/Nope/by/unique", `{"a":"1"}`, 404, "UNKNOWN_EXTENSION"},
			{"UpdateUnknownProfile", "PUT", "/profiles/nosuch/extensions/Phone/by/unique", `{"PhoneNumber":"1"}`, 404, "PROFILE_NOT_FOUND"},
			{"DeleteNoSuchRecord", "PUT", "/profiles/" + id + "/extensions/Phone/delete/by/unique", `{"PhoneNumber":"000"}`, 404, "RECORD_NOT_FOUND"},
			{"UpdateNameTwiceOneNull", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","description":"new","DESCRIPTION":null}`, 400, "INVALID_BODY"},
			// No write takes a query parameter: one is refused, not ignored.
			{"InsertWithParameter", "POST", "/profiles/" + id + "/extensions?dryRun=true", `{"Phone":[{"PhoneNumber":"9"}]}`, 400, "BAD_PARAMETER"},
			{"DeleteRecordWithParameter", "PUT", "/profiles/" + id + "/extensions/Phone/delete/by/unique?dryRun=true", `{"PhoneNumber":"6543210"}`, 400, "BAD_PARAMETER"},
			{"DeleteWithParameter", "DELETE", "/profiles/" + id + "?dryRun=true", "", 400, "BAD_PARAMETER"},
			// A record's customer_id (spec §2.3) names its owner: another
			// customer's id is refused, not ignored.
			{"UpdateOtherOwner", "PUT", "/profiles/" + id + "/extensions/Phone/by/unique", `{"PhoneNumber":"6543210","description":"x","customer_id":"other"}`, 400, "CUSTOMER_ID_MISMATCH"},
			{"DeleteOtherOwner", "PUT", "/profiles/" + id + "/extensions/Phone/delete/by/unique", `{"PhoneNumber":"6543210","customer_id":"other"}`, 400, "CUSTOMER_ID_MISMATCH"},
			{"InsertOtherOwner", "POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"9","customer_id":"other"}]}`, 400, "CUSTOMER_ID_MISMATCH"},
			{"InsertOwnerNotAString", "POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"9","customer_id":7}]}`, 400, "CUSTOMER_ID_MISMATCH"},
			{"ReplaceOtherOwner", "PUT", "/profiles/" + id, `{"FirstName":"A","Phone":[{"PhoneNumber":"9","customer_id":"other"}]}`, 400, "CUSTOMER_ID_MISMATCH"},
			{"CreateOtherOwner", "POST", "/profiles", `{"customer_id":"OWNER1","Phone":[{"PhoneNumber":"9","customer_id":"OWNER2"}]}`, 400, "CUSTOMER_ID_MISMATCH"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := phones()
				wantError(t, ts.do(tc.method, tc.path, tc.body), tc.status, tc.code)
				if after := phones(); !reflect.DeepEqual(before, after) {
					t.Errorf("records changed by a refused request: %v → %v", before, after)
				}
			})
		}
	})
	t.Run("UpdateWithNullClears", func(t *testing.T) {
		// Reads show an unset attribute as null; sent back, null clears it.
		if res := ts.do("POST", "/profiles/"+id+"/extensions", `{"Phone":[{"PhoneNumber":"93","description":"desk","prefix":"+1"}]}`); res.Status != http.StatusOK {
			t.Fatalf("seeding the record: %d %s", res.Status, res.Body)
		}
		if res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":"93","description":null}`); res.Status != http.StatusNoContent {
			t.Fatalf("update with null: %d %s", res.Status, res.Body)
		}
		var got struct{ Phone []map[string]any }
		ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
		for _, r := range got.Phone {
			if r["PhoneNumber"] == "93" && (r["description"] != nil || r["prefix"] != "+1") {
				t.Errorf("after clearing description: %v", r)
			}
		}
		// A null unique attribute selects a record where it is unset;
		// PhoneNumber is mandatory, so none is.
		wantError(t, ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":null,"description":"x"}`), http.StatusNotFound, "RECORD_NOT_FOUND")
	})
	t.Run("RecordsNamingTheirOwner", func(t *testing.T) {
		// The customer's own id, or null, in a record is accepted.
		res := ts.do("POST", "/profiles/"+id+"/extensions", `{"Phone":[{"PhoneNumber":"91","customer_id":"`+id+`"},{"PhoneNumber":"92","customer_id":null}]}`)
		if res.Status != http.StatusOK {
			t.Errorf("records naming their owner: %d %s", res.Status, res.Body)
		}
	})
}

func TestMergeProfiles(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	dest := ts.mustCreate(`{"FirstName":"Bruce","EmailAddress":["a@x.dom"],"Phone":[{"PhoneNumber":"1","description":"dest"}]}`)
	src := ts.mustCreate(`{"FirstName":"Hulk","LastName":"Banner","EmailAddress":["a@x.dom","b@x.dom"],"Phone":[{"PhoneNumber":"1","description":"src"},{"PhoneNumber":"2"}]}`)
	t.Run("OK", func(t *testing.T) {
		if res := ts.do("PUT", "/profiles/"+dest+"/merge/"+src, `{}`); res.Status != http.StatusNoContent {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		var got struct {
			FirstName, LastName string
			EmailAddress        []string
			Phone               []map[string]any
		}
		ts.do("GET", "/profiles/"+dest+"?extensions=Phone", nil).JSON(t, &got)
		if got.FirstName != "Bruce" || got.LastName != "Banner" {
			t.Errorf("core attributes: %+v", got)
		}
		if !reflect.DeepEqual(got.EmailAddress, []string{"a@x.dom", "b@x.dom"}) {
			t.Errorf("EmailAddress = %v, want united without duplicates", got.EmailAddress)
		}
		if len(got.Phone) != 2 || got.Phone[0]["description"] != "dest" {
			t.Errorf("Phone = %v, want dest's record kept and src's other record copied", got.Phone)
		}
		wantError(t, ts.do("GET", "/profiles/"+src, nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
		var found []map[string]any
		ts.do("GET", "/profiles?EmailAddress=b@x.dom", nil).JSON(t, &found)
		if len(found) != 1 || found[0]["customer_id"] != dest {
			t.Errorf("merged address identifies %v, want %s", found, dest)
		}
	})
	t.Run("ErrSourceGone", func(t *testing.T) {
		wantError(t, ts.do("PUT", "/profiles/"+dest+"/merge/"+src, `{}`), http.StatusNotFound, "PROFILE_NOT_FOUND")
	})
	// A union past 100 values of an attribute is refused as a write of it
	// is, and changes nothing: what a merge leaves can be written back.
	t.Run("ErrTooManyValues", func(t *testing.T) {
		addrs := make([]string, 100)
		for i := range addrs {
			addrs[i] = fmt.Sprintf(`"full%d@x.dom"`, i)
		}
		full := ts.mustCreate(`{"FirstName":"Full","EmailAddress":[` + strings.Join(addrs, ",") + `]}`)
		extra := ts.mustCreate(`{"FirstName":"Extra","EmailAddress":["extra@x.dom"]}`)
		before := ts.do("GET", "/profiles/"+full, nil)
		res := ts.do("PUT", "/profiles/"+full+"/merge/"+extra, `{}`)
		wantError(t, res, http.StatusBadRequest, "INVALID_VALUE")
		if !strings.Contains(string(res.Body), "maximum 100 items") {
			t.Errorf("the refusal does not give the limit: %s", res.Body)
		}
		if after := ts.do("GET", "/profiles/"+full, nil); string(after.Body) != string(before.Body) {
			t.Errorf("the destination changed: %s", after.Body)
		}
		if res := ts.do("GET", "/profiles/"+extra, nil); res.Status != http.StatusOK {
			t.Errorf("the source after the refused merge: %d", res.Status)
		}
	})
	t.Run("ErrSelf", func(t *testing.T) {
		wantError(t, ts.do("PUT", "/profiles/"+dest+"/merge/"+dest, `{}`), http.StatusBadRequest, "MERGE_WITH_SELF")
	})
	t.Run("ErrUnknownField", func(t *testing.T) {
		other := ts.mustCreate(`{"FirstName":"X"}`)
		wantError(t, ts.do("PUT", "/profiles/"+dest+"/merge/"+other, `{"forcemerge":true}`), http.StatusBadRequest, "MALFORMED_JSON")
	})
	t.Run("LooseBody", func(t *testing.T) {
		other := ts.mustCreate(`{"FirstName":"Y","Phone":[{"PhoneNumber":"1","description":"other"}]}`)
		if res := ts.do("PUT", "/profiles/"+dest+"/merge/"+other, `{"agent_id":1234,"force_merge":"true","reason":"dup"}`); res.Status != http.StatusNoContent {
			t.Fatalf("merge with a loosely typed body: %d %s", res.Status, res.Body)
		}
		var got struct{ Phone []map[string]any }
		ts.do("GET", "/profiles/"+dest+"?extensions=Phone", nil).JSON(t, &got)
		if got.Phone[0]["description"] != "other" {
			t.Errorf("force_merge \"true\" did not take the source's record: %v", got.Phone)
		}
	})
}

// TestBasePath: published UCS 8.5 clients call /genesys/1/cs/profiles; the
// default config serves the API there as well as at the root.
func TestBasePath(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	res := ts.do("POST", "/genesys/1/cs/profiles", `{"FirstName":"Prefixed"}`)
	if res.Status != http.StatusCreated || !strings.HasPrefix(res.Header.Get("Location"), "/genesys/1/cs/profiles/") {
		t.Fatalf("create under the base path: %d, Location %q", res.Status, res.Header.Get("Location"))
	}
	if got := ts.do("GET", res.Header.Get("Location"), nil); got.Status != http.StatusOK {
		t.Errorf("following Location: %d", got.Status)
	}
	res = ts.do("POST", "/genesys/1/cs/metadata/identification-keys", `{"name":"title","attributes":["Title"]}`)
	if res.Header.Get("Location") != "/genesys/1/cs/metadata/identification-keys/title" {
		t.Errorf("key Location %q", res.Header.Get("Location"))
	}
	if got := ts.do("GET", "/profiles/"+strings.TrimPrefix(ts.do("POST", "/profiles", `{"FirstName":"Root"}`).Header.Get("Location"), "/profiles/"), nil); got.Status != http.StatusOK {
		t.Errorf("the root mount still serves: %d", got.Status)
	}
}

func TestRestart_KeepsEverything(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(exampleProfile(t))
	res := ts.do("POST", "/metadata/profiles/extensions", `{"name":"Address","type":"single-valued","attributes":[{"name":"City","type":"string"}]}`)
	if res.Status != http.StatusCreated {
		t.Fatalf("create extension: %d %s", res.Status, res.Body)
	}
	res = ts.do("POST", "/metadata/identification-keys", `{"name":"city","source":"Address","attributes":["City"]}`)
	if res.Status != http.StatusCreated {
		t.Fatalf("create key: %d %s", res.Status, res.Body)
	}
	ts.do("POST", "/profiles/"+id+"/extensions", `{"Address":{"City":"Dayton"}}`)

	ts = ts.restart()
	var got map[string]any
	ts.do("GET", "/profiles/"+id+"?extensions=Phone,Address", nil).JSON(t, &got)
	if got["FirstName"] != "Bruce" || len(got["Phone"].([]any)) != 3 || got["Address"].(map[string]any)["City"] != "Dayton" {
		t.Fatalf("after restart: %v", got)
	}
	for _, q := range []string{"EmailAddress=b.banner@hulk.dom", "Phone.PhoneNumber=6543210", "Address.City=Dayton"} {
		var found []map[string]any
		ts.do("GET", "/profiles?"+q, nil).JSON(t, &found)
		if len(found) != 1 {
			t.Errorf("after restart %s found %v", q, found)
		}
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	const tenant = "X-Genesys-TenantId"
	id := ts.mustCreate(exampleProfile(t), tenant, "101")
	other := ts.mustCreate(`{"FirstName":"Other"}`, tenant, "202")
	for _, as := range [][]string{{tenant, "202"}, {}} {
		name := "NoHeader"
		if len(as) > 0 {
			name = "OtherTenant"
		}
		t.Run(name, func(t *testing.T) {
			wantError(t, ts.do("GET", "/profiles/"+id, nil, as...), 404, "PROFILE_NOT_FOUND")
			wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"X"}`, as...), 404, "PROFILE_NOT_FOUND")
			wantError(t, ts.do("DELETE", "/profiles/"+id, nil, as...), 404, "PROFILE_NOT_FOUND")
			wantError(t, ts.do("POST", "/profiles/"+id+"/extensions", `{"Phone":[{"PhoneNumber":"5"}]}`, as...), 404, "PROFILE_NOT_FOUND")
			wantError(t, ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":"6543210"}`, as...), 404, "PROFILE_NOT_FOUND")
			wantError(t, ts.do("PUT", "/profiles/"+id+"/extensions/Phone/delete/by/unique", `{"PhoneNumber":"6543210"}`, as...), 404, "PROFILE_NOT_FOUND")
			wantError(t, ts.do("PUT", "/profiles/"+other+"/merge/"+id, `{}`, as...), 404, "PROFILE_NOT_FOUND")
			var found []map[string]any
			ts.do("GET", "/profiles?EmailAddress=b.banner@hulk.dom", nil, as...).JSON(t, &found)
			if len(found) != 0 {
				t.Errorf("identify crossed tenants: %v", found)
			}
		})
	}
	var got map[string]any
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil, tenant, "101").JSON(t, &got)
	if got["FirstName"] != "Bruce" || len(got["Phone"].([]any)) != 3 {
		t.Errorf("owner tenant's profile changed: %v", got)
	}
	t.Run("ErrBadTenant", func(t *testing.T) {
		wantError(t, ts.do("GET", "/profiles/"+id, nil, tenant, "../../x"), 400, "INVALID_TENANT")
		before := ts.profileCount()
		wantError(t, ts.do("POST", "/profiles", `{"FirstName":"Nobody"}`, tenant, ""), 400, "INVALID_TENANT") // empty is not the default tenant
		if after := ts.profileCount(); after != before {
			t.Errorf("a create with an empty tenant header stored a profile: %d -> %d", before, after)
		}
		req, _ := http.NewRequest("GET", ts.HTTP.URL+"/profiles/"+id, nil)
		req.Header.Add(tenant, "101")
		req.Header.Add(tenant, "202")
		res, err := testClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("two tenant headers: %d, want 400", res.StatusCode)
		}
	})
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	t.Run("ProfileSchema", func(t *testing.T) {
		var got []map[string]any
		ts.do("GET", "/metadata/profiles", nil).JSON(t, &got)
		if len(got) == 0 || got[0]["name"] != "FirstName" || got[0]["mandatory"] != "false" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("Extensions", func(t *testing.T) {
		var list []map[string]any
		ts.do("GET", "/metadata/profiles/extensions", nil).JSON(t, &list)
		if len(list) < 2 || list[0]["name"] != "Phone" || list[0]["type"] != "multi-valued" {
			t.Fatalf("list = %v", list)
		}
		res := ts.do("POST", "/metadata/profiles/extensions", `{"name":"Loyalty","type":"multi-valued","attributes":[{"name":"Program","type":"string","mandatory":"true"},{"name":"Points","type":"integer","default":0,"length":"6"}],"unique":["Program"]}`)
		if res.Status != http.StatusCreated || res.Header.Get("Location") != "/metadata/profiles/extensions/Loyalty" {
			t.Fatalf("create: %d %v %s", res.Status, res.Header, res.Body)
		}
		var one map[string]any
		ts.do("GET", "/metadata/profiles/extensions/loyalty", nil).JSON(t, &one)
		if one["name"] != "Loyalty" {
			t.Fatalf("get: %v", one)
		}
		id := ts.mustCreate(`{"FirstName":"L","Loyalty":[{"Program":"gold"}]}`)
		var p map[string]any
		ts.do("GET", "/profiles/"+id+"?extensions=Loyalty", nil).JSON(t, &p)
		if rec := p["Loyalty"].([]any)[0].(map[string]any); rec["Points"] != json.Number("0") {
			t.Errorf("default not applied: %v", rec)
		}
		if res := ts.do("DELETE", "/metadata/profiles/extensions/Loyalty", nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		wantError(t, ts.do("GET", "/metadata/profiles/extensions/Loyalty", nil), 404, "EXTENSION_NOT_FOUND")
		wantError(t, ts.do("GET", "/profiles/"+id+"?extensions=Loyalty", nil), 400, "UNKNOWN_EXTENSION")
	})
	t.Run("ExtensionErrors", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code                     string
		}{
			{"Duplicate", "POST", "/metadata/profiles/extensions", `{"name":"phone","type":"multi-valued"}`, 400, "EXTENSION_EXISTS"},
			{"BadName", "POST", "/metadata/profiles/extensions", `{"name":"1abc","type":"multi-valued"}`, 400, "INVALID_SCHEMA"},
			{"LongName", "POST", "/metadata/profiles/extensions", `{"name":"` + strings.Repeat("a", 27) + `","type":"multi-valued"}`, 400, "INVALID_SCHEMA"},
			{"ReservedName", "POST", "/metadata/profiles/extensions", `{"name":"Select","type":"multi-valued"}`, 400, "INVALID_SCHEMA"},
			{"BadType", "POST", "/metadata/profiles/extensions", `{"name":"X","type":"many"}`, 400, "INVALID_SCHEMA"},
			{"BadAttributeType", "POST", "/metadata/profiles/extensions", `{"name":"X","type":"single-valued","attributes":[{"name":"a","type":"text"}]}`, 400, "INVALID_SCHEMA"},
			{"UnknownField", "POST", "/metadata/profiles/extensions", `{"name":"X","type":"single-valued","colour":"red"}`, 400, "INVALID_SCHEMA"},
			{"ClashesWithAttribute", "POST", "/metadata/profiles/extensions", `{"name":"FirstName","type":"single-valued"}`, 400, "INVALID_SCHEMA"},
			{"GetUnknown", "GET", "/metadata/profiles/extensions/Nope", ``, 404, "EXTENSION_NOT_FOUND"},
			{"DeleteUnknown", "DELETE", "/metadata/profiles/extensions/Nope", ``, 404, "EXTENSION_NOT_FOUND"},
			{"DeleteFromConfig", "DELETE", "/metadata/profiles/extensions/Phone", ``, 403, "DEFINED_IN_CONFIG"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				wantError(t, ts.do(tc.method, tc.path, body), tc.status, tc.code)
			})
		}
	})
	t.Run("Keys", func(t *testing.T) {
		id := ts.mustCreate(`{"FirstName":"Key","Title":"Dr"}`)
		res := ts.do("POST", "/metadata/identification-keys", `{"name":"title","attributes":["Title"]}`)
		if res.Status != http.StatusCreated || res.Header.Get("Location") != "/metadata/identification-keys/title" {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		var found []map[string]any
		ts.do("GET", "/profiles?Title=Dr", nil).JSON(t, &found)
		if len(found) != 1 || found[0]["customer_id"] != id {
			t.Fatalf("existing profile not indexed by the new key: %v", found)
		}
		var keys []map[string]any
		ts.do("GET", "/metadata/identification-keys", nil).JSON(t, &keys)
		var phone map[string]any
		ts.do("GET", "/metadata/identification-keys/PHONE", nil).JSON(t, &phone)
		if fmt.Sprint(phone["attributes"]) != "[Phone.PhoneNumber]" {
			t.Errorf("extension key attributes = %v, want ext.attr form", phone["attributes"])
		}
		if res := ts.do("DELETE", "/metadata/identification-keys/title", nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		wantError(t, ts.do("GET", "/profiles?Title=Dr", nil), 400, "NO_IDENTIFICATION_KEY")
	})
	t.Run("KeyErrors", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			code                     string
		}{
			{"Duplicate", "POST", "/metadata/identification-keys", `{"name":"EMAIL","attributes":["EmailAddress"]}`, 400, "IDENTIFICATION_KEY_EXISTS"},
			{"UnknownAttribute", "POST", "/metadata/identification-keys", `{"name":"k","attributes":["Shoe"]}`, 400, "INVALID_SCHEMA"},
			{"MixedSources", "POST", "/metadata/identification-keys", `{"name":"k","attributes":["FirstName","Phone.PhoneNumber"]}`, 400, "INVALID_SCHEMA"},
			{"NoAttributes", "POST", "/metadata/identification-keys", `{"name":"k","attributes":[]}`, 400, "INVALID_SCHEMA"},
			{"GetUnknown", "GET", "/metadata/identification-keys/nope", ``, 404, "IDENTIFICATION_KEY_NOT_FOUND"},
			{"DeleteUnknown", "DELETE", "/metadata/identification-keys/nope", ``, 404, "IDENTIFICATION_KEY_NOT_FOUND"},
			{"DeleteFromConfig", "DELETE", "/metadata/identification-keys/email", ``, 403, "DEFINED_IN_CONFIG"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				wantError(t, ts.do(tc.method, tc.path, body), tc.status, tc.code)
			})
		}
	})
	t.Run("UniqueKeyConflict", func(t *testing.T) {
		ts.mustCreate(`{"FirstName":"U1","Title":"Same"}`)
		ts.mustCreate(`{"FirstName":"U2","Title":"Same"}`)
		wantError(t, ts.do("POST", "/metadata/identification-keys", `{"name":"utitle","attributes":["Title"],"unique":true}`), 409, "UNIQUE_KEY_VIOLATION")
		wantError(t, ts.do("GET", "/metadata/identification-keys/utitle", nil), 404, "IDENTIFICATION_KEY_NOT_FOUND")
	})
	t.Run("ExtensionInUse", func(t *testing.T) {
		ts.do("POST", "/metadata/profiles/extensions", `{"name":"Card","type":"multi-valued","attributes":[{"name":"CardNo","type":"string"}]}`)
		ts.do("POST", "/metadata/identification-keys", `{"name":"card","attributes":["Card.CardNo"]}`)
		wantError(t, ts.do("DELETE", "/metadata/profiles/extensions/Card", nil), 409, "EXTENSION_IN_USE")
	})
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	wantError(t, ts.do("GET", "/nothing/here", nil), 404, "NOT_FOUND")
	wantError(t, ts.do("PATCH", "/profiles/x", `{}`), 405, "METHOD_NOT_ALLOWED")
}

func TestIdentify_FiltersOnOneExtensionMatchOneRecord(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"X","Phone":[{"PhoneNumber":"111","PhoneType":0},{"PhoneNumber":"222","PhoneType":2}]}`)
	if got := ts.identifyIDs("Phone.PhoneNumber=111&Phone.PhoneType=2"); len(got) != 0 {
		t.Errorf("filters matched across two records: %v", got)
	}
	if got := ts.identifyIDs("Phone.PhoneNumber=222&Phone.PhoneType=2"); len(got) != 1 || got[0] != id {
		t.Errorf("filters on one record: %v, want [%s]", got, id)
	}
	t.Run("ErrSameFilterTwiceInOtherCase", func(t *testing.T) {
		wantError(t, ts.do("GET", "/profiles?EmailAddress=a@x.com&EMAILADDRESS=b@x.com", nil), 400, "BAD_PARAMETER")
		wantError(t, ts.do("GET", "/profiles?EmailAddress=a@x.com&ID_KEY=email&id_key=name", nil), 400, "BAD_PARAMETER")
		wantError(t, ts.do("GET", "/profiles?EmailAddress=a@x.com&id_key=", nil), 400, "BAD_PARAMETER")
		// Names ignore ASCII case only: with the Kelvin sign it is no id_key
		// but a filter on an attribute no schema has.
		wantError(t, ts.do("GET", "/profiles?EmailAddress=a@x.com&id_%E2%84%AAey=email", nil), 400, "UNKNOWN_ATTRIBUTE")
	})
}

// TestMetadata_VendorPhoneSchemaHoldsVendorNumbers: the Phone extension as
// the vendor's docs declare it (PhoneNumber: integer, length 15) stores
// the vendor's numbers, sent as strings as its examples do.
func TestMetadata_VendorPhoneSchemaHoldsVendorNumbers(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	if res := ts.do("POST", "/metadata/profiles/extensions", `{"name":"VPhone","type":"multi-valued","unique":["PhoneNumber"],"attributes":[{"name":"PhoneType","type":"integer","default":0,"mandatory":"true"},{"name":"PhoneNumber","type":"integer","length":15}]}`); res.Status != http.StatusCreated {
		t.Fatalf("create the vendor's Phone schema: %d %s", res.Status, res.Body)
	}
	id := ts.mustCreate(`{"FirstName":"Vendor","VPhone":[{"PhoneType":0,"PhoneNumber":"3145926535"}]}`)
	var got map[string]any
	ts.do("GET", "/profiles/"+id+"?extensions=VPhone", nil).JSON(t, &got)
	if fmt.Sprint(got["VPhone"]) != "[map[PhoneNumber:3145926535 PhoneType:0]]" {
		t.Errorf("VPhone read back: %v", got["VPhone"])
	}
	if res := ts.do("POST", "/profiles", `{"VPhone":[{"PhoneType":0,"PhoneNumber":"1000000000000000"}]}`); res.Status != http.StatusBadRequest {
		t.Errorf("a 16-digit PhoneNumber: %d %s, want 400", res.Status, res.Body)
	}
}

// TestPreconditions: If-None-Match makes a read 304 and a write 412 when it
// names the current ETag (or is *), and If-Match takes a list of tags; a
// refused write changes nothing.
func TestPreconditions(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Pre","EmailAddress":["pre@cond.example"]}`)
	tag := ts.do("GET", "/profiles/"+id, nil).Header.Get("ETag")
	res := ts.do("GET", "/profiles/"+id, nil, "If-None-Match", tag)
	if res.Status != http.StatusNotModified || len(res.Body) != 0 || res.Header.Get("ETag") != tag {
		t.Fatalf("GET naming the current ETag: %d, ETag %q, body %q", res.Status, res.Header.Get("ETag"), res.Body)
	}
	wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"Clobbered"}`, "If-None-Match", "*"), http.StatusPreconditionFailed, "REVISION_MISMATCH")
	wantError(t, ts.do("DELETE", "/profiles/"+id, nil, "If-None-Match", "W/"+tag), http.StatusPreconditionFailed, "REVISION_MISMATCH")
	wantError(t, ts.do("POST", "/profiles/"+id+"/extensions", `{"Phone":[{"PhoneNumber":"5551"}]}`, "If-Match", `"2", "3"`), http.StatusPreconditionFailed, "REVISION_MISMATCH")
	var got map[string]any
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
	if got["FirstName"] != "Pre" || len(got["Phone"].([]any)) != 0 {
		t.Fatalf("refused writes changed the profile: %v", got)
	}
	if res := ts.do("PUT", "/profiles/"+id, `{"FirstName":"Listed"}`, "If-Match", `"7", `+tag); res.Status != http.StatusOK || res.Header.Get("ETag") == tag {
		t.Fatalf("PUT with a list naming the current ETag: %d %s, ETag %q", res.Status, res.Body, res.Header.Get("ETag"))
	}
	if res := ts.do("GET", "/profiles/"+id, nil, "If-None-Match", tag); res.Status != http.StatusOK {
		t.Fatalf("GET naming an old ETag: %d", res.Status)
	}
	if res := ts.do("DELETE", "/profiles/"+id, nil, "If-None-Match", tag); res.Status != http.StatusOK {
		t.Fatalf("DELETE with If-None-Match naming an old ETag: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("PUT", "/profiles/"+id, `{"FirstName":"Gone"}`, "If-None-Match", "*"), http.StatusNotFound, "PROFILE_NOT_FOUND")
}

// TestPreconditions_TagOfAnEarlierCustomer: a customer deleted and created
// again under the same customer_id is another customer; an If-Match tag read
// from the first must not let a write through to the second.
func TestPreconditions_TagOfAnEarlierCustomer(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	ts.mustCreate(`{"customer_id":"AGAIN1","FirstName":"First"}`)
	old := ts.do("GET", "/profiles/AGAIN1", nil).Header.Get("ETag")
	if res := ts.do("DELETE", "/profiles/AGAIN1", nil); res.Status != http.StatusOK {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	ts.mustCreate(`{"customer_id":"AGAIN1","FirstName":"Second"}`)
	if res := ts.do("GET", "/profiles/AGAIN1", nil, "If-None-Match", old); res.Status != http.StatusOK {
		t.Errorf("GET with the first customer's tag: %d, want 200 (ETags %q then %q)", res.Status, old, res.Header.Get("ETag"))
	}
	wantError(t, ts.do("PUT", "/profiles/AGAIN1", `{"FirstName":"Clobbered"}`, "If-Match", old), http.StatusPreconditionFailed, "REVISION_MISMATCH")
	wantError(t, ts.do("POST", "/profiles/AGAIN1/erase", nil, "If-Match", old), http.StatusPreconditionFailed, "REVISION_MISMATCH")
	var got map[string]any
	if ts.do("GET", "/profiles/AGAIN1", nil).JSON(t, &got); got["FirstName"] != "Second" {
		t.Errorf("after writes with the first customer's tag: %v", got)
	}
}

// TestMetadata_ViewPostsBack: an extension schema or key as GET
// /metadata/... shows it can be POSTed again under another name (copying a
// schema to another environment, spec §5 list shape); the view's own
// fields must not make the body invalid.
func TestMetadata_ViewPostsBack(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	for _, c := range []struct{ get, post, name string }{
		{"/metadata/profiles/extensions/Phone", "/metadata/profiles/extensions", "PhoneCopy"},
		{"/metadata/identification-keys/name", "/metadata/identification-keys", "nameCopy"},
	} {
		var view map[string]any
		ts.do("GET", c.get, nil).JSON(t, &view)
		view["name"] = c.name
		body, err := json.Marshal(view)
		if err != nil {
			t.Fatal(err)
		}
		if res := ts.do("POST", c.post, body); res.Status != http.StatusCreated {
			t.Errorf("POST %s with the body GET %s gave (renamed): %d %s", c.post, c.get, res.Status, res.Body)
		}
	}
}

// A view posted back copies the extension whole: the copy accepts every body
// the original does, including the UCS-latest spelling start_availability,
// an alias of the default schema's Phone.start_availabilty.
func TestMetadata_ViewPostsBackWithAliases(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	var view map[string]any
	ts.do("GET", "/metadata/profiles/extensions/Phone", nil).JSON(t, &view)
	view["name"] = "PhoneCopy"
	body, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	if res := ts.do("POST", "/metadata/profiles/extensions", body); res.Status != http.StatusCreated {
		t.Fatalf("POST the view of Phone (renamed): %d %s", res.Status, res.Body)
	}
	for _, ext := range []string{"Phone", "PhoneCopy"} {
		res := ts.do("POST", "/profiles", `{"`+ext+`":[{"PhoneNumber":"5550100","start_availability":"2009-12-18T18:30:00.000Z"}]}`)
		if res.Status != http.StatusCreated {
			t.Errorf("a %s record spelt as UCS latest spells it: %d %s", ext, res.Status, res.Body)
		}
	}
}

// TestWrites_BodyInTheCharsetItsContentTypeNames: a Java client on Apache
// HttpClient's defaults labels its body ISO-8859-1 and sends it so, and
// the product this API imitates reads it as labelled; a body that is UTF-8
// stays UTF-8 whatever its label; one no charset accounts for is 400
// INVALID_UTF8 and writes nothing.
func TestWrites_BodyInTheCharsetItsContentTypeNames(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	latin1 := "{\"customer_id\":\"CS1\",\"FirstName\":\"Jos\xe9\"}"
	if res := ts.do("POST", "/profiles", latin1, "Content-Type", "text/plain; charset=ISO-8859-1"); res.Status != http.StatusCreated {
		t.Fatalf("create in ISO-8859-1: %d %s", res.Status, res.Body)
	}
	if res := ts.do("PUT", "/profiles/CS1", `{"FirstName":"José","LastName":"Müller"}`, "Content-Type", "application/json; charset=ISO-8859-1"); res.Status != http.StatusOK {
		t.Fatalf("replace in UTF-8 labelled ISO-8859-1: %d %s", res.Status, res.Body)
	}
	var got map[string]any
	ts.do("GET", "/profiles/CS1", nil).JSON(t, &got)
	if got["FirstName"] != "José" || got["LastName"] != "Müller" {
		t.Errorf("read back: %v", got)
	}
	wantError(t, ts.do("POST", "/profiles", strings.Replace(latin1, "CS1", "CS2", 1)), http.StatusBadRequest, "INVALID_UTF8")
	wantError(t, ts.do("GET", "/profiles/CS2", nil), http.StatusNotFound, "PROFILE_NOT_FOUND")
}
