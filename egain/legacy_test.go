package egain

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/config"
)

// The fixture testdata/legacy/profiles.db was written by the binary of
// 2026-12-01 (before customers were stored as records): a Genesys profile
// and three eGain customers (the full XML and minimal JSON vendor
// examples, and a group with a postal, web and multi-valued custom
// attribute), each kept as one JSON document. legacy-view.json and
// legacy-view.xml are what that binary answered for
// GET /ws/v12/interaction/customer/1,2,3,4?$attribute=all.
const legacyFixture = "../testdata/legacy/"

const legacyView = "/ws/v12/interaction/customer/1,2,3,4?$attribute=all"

// TestLegacyDataFile: a data file written by the previous storage model
// reads exactly as it did, and a customer's next eGain write stores it as
// records, which the Genesys API then sees.
func TestLegacyDataFile(t *testing.T) {
	t.Parallel()
	// The binary that wrote the fixture had no department ids: with none
	// configured the answers must be its answers byte for byte.
	h := newHarnessFrom(t, legacyFixture+"profiles.db", func(c *config.EGain) { c.Departments = nil })
	s := h.login("agent")
	for _, f := range []Format{FormatJSON, FormatXML} {
		want, err := os.ReadFile(legacyFixture + "legacy-view." + map[Format]string{FormatJSON: "json", FormatXML: "xml"}[f])
		if err != nil {
			t.Fatal(err)
		}
		got := h.do("GET", legacyView, "", SessionHeader, s, "Accept", f.ContentType()).want(t, http.StatusOK)
		if got.Body != string(want) {
			t.Errorf("%s view differs from the old binary's:\ngot  %s\nwant %s", f.ContentType(), got.Body, want)
		}
	}

	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"4","level":{"value":"platinum"}}`,
		SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)

	var stored struct {
		EgainCustomer   map[string]any
		ContactPerson   []map[string]any
		ContactPoint    []map[string]any
		CustomAttribute []map[string]any
	}
	res := h.do("GET", "/profiles/"+h.customerID("", "4")+"?extensions=EgainCustomer,ContactPerson,ContactPoint,CustomAttribute", "").want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(res.Body), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.EgainCustomer["document"] != nil {
		t.Errorf("the JSON document survived the write: %v", stored.EgainCustomer)
	}
	if c := stored.EgainCustomer; c["type"] != "group" || c["level"] != "platinum" || c["groupRegion"] != "West" || c["customerName"] != "The Smiths" {
		t.Errorf("EgainCustomer = %v", c)
	}
	if len(stored.ContactPerson) != 2 || stored.ContactPerson[1]["firstName"] != "Bob" {
		t.Errorf("ContactPerson = %v", stored.ContactPerson)
	}
	if len(stored.ContactPoint) != 4 || stored.ContactPoint[0]["city"] != "Springfield" || stored.ContactPoint[3]["url"] != "https://smith.example" ||
		stored.ContactPoint[3]["personId"] != stored.ContactPerson[1]["personId"] {
		t.Errorf("ContactPoint = %v", stored.ContactPoint)
	}
	if got := recordValues(stored.CustomAttribute, "value"); !reflect.DeepEqual(got, []string{"L-1", "L-2"}) {
		t.Errorf("CustomAttribute values = %v", got)
	}

	// The eGain view of the converted customer is the old one but for
	// what the edit changed.
	var before, after map[string]any
	if err := json.Unmarshal(mustRead(t, legacyFixture+"legacy-view.json"), &before); err != nil {
		t.Fatal(err)
	}
	res = h.do("GET", legacyView, "", SessionHeader, s, "Accept", "application/json").want(t, http.StatusOK)
	if err := json.Unmarshal([]byte(res.Body), &after); err != nil {
		t.Fatal(err)
	}
	old, converted := customerAt(before, 3), customerAt(after, 3)
	if reflect.DeepEqual(converted["lastModified"], old["lastModified"]) {
		t.Errorf("lastModified did not move")
	}
	old["level"] = map[string]any{"value": "platinum"}
	delete(old, "lastModified")
	delete(converted, "lastModified")
	if !reflect.DeepEqual(old, converted) {
		t.Errorf("converted customer reads\n%v\nwant\n%v", converted, old)
	}
	for i := range 3 {
		if !reflect.DeepEqual(customerAt(before, i), customerAt(after, i)) {
			t.Errorf("customer %d changed though not written", i+1)
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func customerAt(view map[string]any, i int) map[string]any {
	return view["customer"].([]any)[i].(map[string]any)
}

func recordValues(recs []map[string]any, attr string) []string {
	var out []string
	for _, r := range recs {
		if s, ok := r[attr].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestContactPointsAcrossAPIs: a contact point an eGain client writes is a
// ContactPoint record to the Genesys API, and one the Genesys API adds is a
// contact point to eGain clients; both are found by the same
// identification index.
func TestContactPointsAcrossAPIs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, string(mustRead(t, "../testdata/examples/egain-create-full.json")))
	id := h.customerID("", num)
	person := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0]
	var points []map[string]any
	pointsOf := func() {
		t.Helper()
		var p struct{ ContactPoint []map[string]any }
		res := h.do("GET", "/profiles/"+id+"?extensions=ContactPoint", "").want(t, http.StatusOK)
		if err := json.Unmarshal([]byte(res.Body), &p); err != nil {
			t.Fatal(err)
		}
		points = p.ContactPoint
	}
	pointsOf()
	egainPoints := person.ContactPoints.ContactPoint
	if len(points) != len(egainPoints) || len(points) == 0 {
		t.Fatalf("Genesys sees %d ContactPoint records, eGain %d points", len(points), len(egainPoints))
	}
	for i, pt := range egainPoints {
		if kind := points[i]["type"]; kind != pt.Type.Value {
			t.Errorf("record %d type %v, eGain point %s", i, kind, pt.Type.Value)
		}
		if pt.Type.Email != nil && points[i]["emailAddress"] != pt.Type.Email.EmailAddress {
			t.Errorf("record %d = %v, eGain point e-mail %s", i, points[i], pt.Type.Email.EmailAddress)
		}
	}

	// A Genesys client adds a postal point, and an e-mail point with its
	// address (identification reads EmailAddress), to contact person 1.
	personID := strings.TrimPrefix(person.ID, num+"00000")
	h.do("POST", "/profiles/"+id+"/extensions", `{"ContactPoint":[`+
		`{"pointId":"900","personId":"`+personID+`","type":"postal","postalType":"office","address_1":"5 Gamma Rd","city":"Dayton"},`+
		`{"pointId":"901","personId":"`+personID+`","type":"email","emailAddress":"hulk@gamma.example","priority":"high"}]}`,
		"Content-Type", "application/json").want(t, http.StatusOK)
	res := h.do("GET", "/profiles/"+id, "").want(t, http.StatusOK)
	var core struct{ EmailAddress []string }
	if err := json.Unmarshal([]byte(res.Body), &core); err != nil {
		t.Fatal(err)
	}
	h.do("PUT", "/profiles/"+id, `{"EmailAddress":`+mustJSON(t, append(core.EmailAddress, "hulk@gamma.example"))+`}`,
		"Content-Type", "application/json").want(t, http.StatusOK)

	res = h.do("GET", "/ws/v12/interaction/customer/"+num+"?$attribute=all", "", SessionHeader, s, "Accept", "application/json").want(t, http.StatusOK)
	for _, want := range []string{`"id":"` + num + `000900"`, `"city":"Dayton"`, `"address_1":"5 Gamma Rd"`, `"id":"` + num + `000901"`, `"emailAddress":"hulk@gamma.example"`, `"priority":{"value":"high"}`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("eGain view lacks %s: %s", want, res.Body)
		}
	}
	found := h.do("GET", "/ws/v12/interaction/customer?email=hulk@gamma.example", "", SessionHeader, s, "Accept", "application/json")
	if got := ids(t, found); !reflect.DeepEqual(got, []string{num}) {
		t.Errorf("eGain search by the Genesys-added address = %v, want [%s]", got, num)
	}
	res = h.do("GET", "/profiles?EmailAddress=hulk@gamma.example", "").want(t, http.StatusOK)
	if !strings.Contains(res.Body, id) {
		t.Errorf("Genesys identify by the address = %s, want %s", res.Body, id)
	}

	// An eGain edit of the Genesys-added point is seen by Genesys.
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+
		`","contactPoints":{"contactPoint":[{"id":"`+num+`000900","type":{"value":"postal","postal":{"city":"Toledo"}}}]}}]}}`,
		SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
	pointsOf()
	var postal map[string]any
	for _, p := range points {
		if p["pointId"] == "900" {
			postal = p
		}
	}
	if postal["city"] != "Toledo" || postal["address_1"] != "5 Gamma Rd" {
		t.Errorf("Genesys sees the edited point as %v", postal)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestContactIDsFromGenesys: numbers a Genesys client writes into pointId
// are kept only when the id scheme can carry them; others (too large, not
// canonical, already taken by a person) are renumbered, so every id the
// facade shows is unique and within the customer's range.
func TestContactIDsFromGenesys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("Ida", "Num", "ida@x.com", ""))
	id := h.customerID("", num)
	person := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0]
	personSeq := strings.TrimPrefix(person.ID, num+"00000")
	h.do("POST", "/profiles/"+id+"/extensions", `{"ContactPoint":[`+
		`{"pointId":"999999","type":"web","url":"https://a.example"},`+
		`{"pointId":"0007","type":"web","url":"https://b.example"},`+
		`{"pointId":"`+personSeq+`","type":"web","url":"https://c.example"},`+
		`{"pointId":"42","type":"web","url":"https://d.example"}]}`,
		"Content-Type", "application/json").want(t, http.StatusOK)
	n, _ := strconv.ParseUint(num, 10, 64)
	seen := map[string]bool{person.ID: true}
	points := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint
	for _, pt := range points {
		v, err := strconv.ParseUint(pt.ID, 10, 64)
		if err != nil || v/idSpan != n || seen[pt.ID] {
			t.Errorf("point id %s: out of customer %d's range or taken twice (%v)", pt.ID, n, points)
		}
		seen[pt.ID] = true
	}
	if !seen[num+"000042"] {
		t.Errorf("a usable number (42) was not kept: %v", points)
	}
}
