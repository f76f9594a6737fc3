package server_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Requests that published client code of both vendors sends, byte for byte.

// TestClients_DuplicateMembers: a Genesys body naming a member twice is 400
// INVALID_BODY (encoding/json let the last one win), and stores nothing.
func TestClients_DuplicateMembers(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Kept"}`)
	before := snapshot(ts, id)
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/profiles", `{"FirstName":"a","FirstName":"b"}`},
		{"POST", "/profiles", `{"customer_id":"dup1","customer_id":"dup2","FirstName":"a"}`},
		{"PUT", "/profiles/" + id, `{"FirstName":"a","LastName":"x","FirstName":"b"}`},
		{"POST", "/profiles/" + id + "/extensions", `{"Phone":[{"PhoneNumber":"1","PhoneNumber":"2"}]}`},
	} {
		res := ts.do(tc.method, tc.path, tc.body)
		wantError(t, res, http.StatusBadRequest, "INVALID_BODY")
	}
	before.unchanged(t, ts, 0)
}

// TestClients_ContactCenterId: Context Services 8.5 clients name the tenant
// in ContactCenterId; it is X-Genesys-TenantId by another name, and the two
// naming different tenants is 400.
func TestClients_ContactCenterId(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Acme"}`, "ContactCenterId", "acme")
	if res := ts.do("GET", "/profiles/"+id, nil, "X-Genesys-TenantId", "acme"); res.Status != http.StatusOK {
		t.Errorf("read through X-Genesys-TenantId: %d %s", res.Status, res.Body)
	}
	if res := ts.do("GET", "/profiles/"+id, nil, "ContactCenterId", "acme", "X-Genesys-TenantId", "acme"); res.Status != http.StatusOK {
		t.Errorf("both headers, one tenant: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("GET", "/profiles/"+id, nil), http.StatusNotFound, "PROFILE_NOT_FOUND") // another tenant's
	wantError(t, ts.do("GET", "/profiles/"+id, nil, "ContactCenterId", "acme", "X-Genesys-TenantId", "beta"), http.StatusBadRequest, "INVALID_TENANT")
	session := egLogin(t, ts)
	res := ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "ContactCenterId", "acme", "Accept", "application/json")
	if res.Status != http.StatusOK {
		t.Errorf("eGain read through ContactCenterId: %d %s", res.Status, res.Body)
	}
}

// TestClients_EncodedIDList: encodeURIComponent("7,8") is 7%2C8; the list
// reads as the two ids, with the limits and errors of the plain form.
func TestClients_EncodedIDList(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	for range 2 {
		res := ts.do("POST", "/ws/v12/interaction/customer", egIndividual("Enc", "Oded", "", ""), "Content-Type", "application/json", egSession, session)
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
	}
	get := func(ids string) response {
		return ts.do("GET", "/ws/v12/interaction/customer/"+ids, nil, egSession, session, "Accept", "application/json")
	}
	var got struct{ Customer []struct{ ID string } }
	get("1%2C2").JSON(t, &got)
	if len(got.Customer) != 2 || got.Customer[0].ID != "1" || got.Customer[1].ID != "2" {
		t.Errorf("1%%2C2 read %+v", got.Customer)
	}
	if res := get("1%2c2"); res.Status != http.StatusOK {
		t.Errorf("lower-case escape: %d %s", res.Status, res.Body)
	}
	wantWSError(t, get("1%2Cx"), http.StatusBadRequest, "400-103", "application/json")
	// Decoded once: 1%252C2 is the list "1%2C2", whose item is no number.
	wantWSError(t, get("1%252C2"), http.StatusBadRequest, "400-103", "application/json")
	many := "1"
	for i := 2; i <= 76; i++ {
		many += "%2C" + strconv.Itoa(i)
	}
	wantWSError(t, get(many), http.StatusBadRequest, "400-105", "application/json")
}

// TestClients_SurnamesAreNotKeywords: people are called Long, Null, Left,
// Right, Money and Date; by default values are not held to the
// unauthorized strings (names in schemas still are). With
// genesys.unauthorized_strings.check_values they are, as in UCS.
func TestClients_SurnamesAreNotKeywords(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	for _, name := range []string{"Long", "Null", "Left", "Right", "Money", "Date"} {
		id := ts.mustCreate(`{"FirstName":"Ann","LastName":"` + name + `"}`)
		var got struct{ LastName string }
		ts.do("GET", "/profiles/"+id, nil).JSON(t, &got)
		if got.LastName != name {
			t.Errorf("LastName %q stored as %q", name, got.LastName)
		}
	}
	session := egLogin(t, ts)
	res := ts.do("POST", "/ws/v12/interaction/customer", egIndividual("Ann", "Null", "", ""), "Content-Type", "application/json", egSession, session)
	if res.Status != http.StatusCreated {
		t.Errorf("eGain lastName Null: %d %s", res.Status, res.Body)
	}
	wantError(t, ts.do("POST", "/metadata/profiles/extensions", `{"name":"Select","type":"single-valued","attributes":[{"name":"a","type":"string"}]}`),
		http.StatusBadRequest, "INVALID_SCHEMA") // names: always ("extension name is a reserved keyword")

	strict := mustStartWith(t, configWith(t, "genesys:\n", "genesys:\n  unauthorized_strings: {check_values: true}\n"), t.TempDir()+"/p.db")
	wantError(t, strict.do("POST", "/profiles", `{"FirstName":"Ann","LastName":"Null"}`), http.StatusBadRequest, "UNAUTHORIZED_STRING")
	strict = mustStartWith(t, configWith(t, "genesys:\n", "genesys:\n  unauthorized_strings: [long]\n"), t.TempDir()+"/q.db")
	if res := strict.do("POST", "/profiles", `{"FirstName":"Ann","LastName":"Long"}`); res.Status != http.StatusCreated {
		t.Errorf("the list form (words only) checks names, not values: %d %s", res.Status, res.Body)
	}
}

// TestClients_EveryLinkResolves follows every href the facade emits in get
// and search answers, XML and JSON: none is a 404.
func TestClients_EveryLinkResolves(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	for _, ex := range []struct{ file, ct string }{{"egain-create-full.xml", "application/xml"}, {"egain-create-minimal.json", "application/json"}} {
		res := ts.do("POST", "/ws/v12/interaction/customer", string(mustRead(t, "../testdata/examples/"+ex.file)), "Content-Type", ex.ct, egSession, session)
		if res.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", ex.file, res.Status, res.Body)
		}
		if loc := res.Header.Get("Location"); ts.do("GET", loc, nil, egSession, session).Status != http.StatusOK {
			t.Errorf("Location %s does not resolve", loc)
		}
	}
	hrefs := regexp.MustCompile(`href="([^"]+)"|"href":"([^"]+)"`)
	followed := 0
	for _, path := range []string{"/ws/v12/interaction/customer/1,2", "/ws/v12/interaction/customer?email=john.russel@customer.com", "/system/ws/v12/interaction/customer/1?$attribute=all"} {
		for _, accept := range []string{"application/json", "application/xml"} {
			res := ts.do("GET", path, nil, egSession, session, "Accept", accept)
			if res.Status != http.StatusOK {
				t.Fatalf("%s (%s): %d %s", path, accept, res.Status, res.Body)
			}
			for _, m := range hrefs.FindAllStringSubmatch(string(res.Body), -1) {
				href := html.UnescapeString(m[1] + m[2])
				got := ts.do("GET", href, nil, egSession, session, "Accept", accept)
				followed++
				if got.Status == http.StatusNotFound || got.Status >= 500 {
					t.Errorf("%s in %s (%s) answers %d %s", href, path, accept, got.Status, got.Body)
				}
			}
		}
	}
	if followed < 12 {
		t.Errorf("followed only %d links", followed)
	}
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/case?customer=999", nil, egSession, session, "Accept", "application/json"), http.StatusNotFound, "404-101", "application/json")
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/case?customer=x", nil, egSession, session, "Accept", "application/json"), http.StatusBadRequest, "400-103", "application/json")
}

// TestClients_CustomerAttributes: GET /ws/v12/interaction/customer/attributes
// (vendor since 11.6) lists what the facade supports, configured custom
// attributes included, in XML and JSON; it is no longer read as an id.
func TestClients_CustomerAttributes(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	var got struct {
		Attribute []struct{ Name, Level, Kind string }
	}
	ts.do("GET", "/ws/v12/interaction/customer/attributes", nil, egSession, session, "Accept", "application/json").JSON(t, &got)
	has := map[string]bool{}
	for _, a := range got.Attribute {
		has[a.Level+"/"+a.Kind+"/"+a.Name] = true
	}
	for _, want := range []string{"customer/summary/customerName", "customer/extra/marketSegment", "customer/custom/preferredlang",
		"customer/custom/loyaltyId", "contactPerson/custom/isprimary", "contactPoint/custom/prioritysequence"} {
		if !has[want] {
			t.Errorf("attributes lack %s: %+v", want, got.Attribute)
		}
	}
	res := ts.do("GET", "/system/ws/v12/interaction/customer/attributes?$attribute=custom", nil, egSession, session, "Accept", "application/xml")
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "<name>preferredlang</name>") || strings.Contains(string(res.Body), "isprimary") {
		t.Errorf("XML custom attributes: %d %s", res.Status, res.Body)
	}
	if res := ts.do("GET", "/ws/v12/interaction/customer/attributes?$attribute=country", nil, egSession, session); res.Status != http.StatusNoContent {
		t.Errorf("countries (none configured): %d %s", res.Status, res.Body)
	}
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/customer/attributes?$attribute=shoes", nil, egSession, session, "Accept", "application/json"), http.StatusBadRequest, "400-103", "application/json")
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/customer/attributes", nil, "Accept", "application/json"), http.StatusUnauthorized, "401-101", "application/json")
}

// TestClients_EditContactPointByID: the vendor's "edit contact point" makes
// only id mandatory; a client changing an address sends the point's id and
// its payload, no type.value. The kind is the stored point's, the identify
// index follows the new address at once from both APIs, and a payload of
// another kind is refused naming the point.
func TestClients_EditContactPointByID(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	body := `{"type":{"value":"individual"},"contactPersons":{"contactPerson":[{"firstName":"Edna","lastName":"Mode","contactPoints":{"contactPoint":[` +
		`{"type":{"value":"email","email":{"emailAddress":"old@x.dom"}}},` +
		`{"type":{"value":"phone","phone":{"type":{"value":"home"},"phoneNo":"5550001"}}},` +
		`{"type":{"value":"postal","postal":{"type":{"value":"home"},"address_1":"1 Main St","city":"Metroville"}}}]}}]}}`
	res := ts.do("POST", "/ws/v12/interaction/customer", body, "Content-Type", "application/json", egSession, session)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var got struct {
		Customer []struct {
			ID             string
			ContactPersons struct {
				ContactPerson []struct {
					ID            string
					ContactPoints struct {
						ContactPoint []struct {
							ID   string
							Type map[string]any
						}
					}
				}
			}
		}
	}
	read := func() {
		t.Helper()
		ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "Accept", "application/json").JSON(t, &got)
	}
	read()
	person := got.Customer[0].ContactPersons.ContactPerson[0]
	points := person.ContactPoints.ContactPoint
	edit := func(pointID, typ string) response {
		return ts.do("PUT", "/ws/v12/interaction/customer", `{"id":"1","contactPersons":{"contactPerson":[{"id":"`+person.ID+
			`","contactPoints":{"contactPoint":[{"id":"`+pointID+`","type":`+typ+`}]}}]}}`,
			"Content-Type", "application/json", "Accept", "application/json", egSession, session)
	}
	for _, tc := range []struct{ point, typ string }{
		{points[0].ID, `{"email":{"emailAddress":"new@x.dom"}}`},
		{points[1].ID, `{"phone":{"phoneNo":"5550002"}}`},
		{points[2].ID, `{"postal":{"city":"Nomanisan"}}`},
	} {
		if res := edit(tc.point, tc.typ); res.Status != http.StatusNoContent {
			t.Errorf("edit %s with %s: %d %s", tc.point, tc.typ, res.Status, res.Body)
		}
	}
	read()
	after := got.Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint
	if fmt.Sprint(after[0].Type["email"]) != "map[emailAddress:new@x.dom]" || after[0].ID != points[0].ID {
		t.Errorf("e-mail point after the edit: %+v", after[0])
	}
	if phone := after[1].Type["phone"].(map[string]any); phone["phoneNo"] != "5550002" || phone["type"] == nil {
		t.Errorf("phone point after the edit: %+v", after[1])
	}
	if postal := after[2].Type["postal"].(map[string]any); postal["city"] != "Nomanisan" || postal["address_1"] != "1 Main St" {
		t.Errorf("postal point after the edit: %+v", after[2])
	}
	for _, q := range []struct{ genesys, egain, want string }{
		{"EmailAddress=old@x.dom", "email=old@x.dom", ""},
		{"EmailAddress=new@x.dom", "email=new@x.dom", "1"},
		{"Phone.PhoneNumber=5550001", "phone=5550001", ""},
		{"Phone.PhoneNumber=5550002", "phone=5550002", "1"},
	} {
		identified := ts.do("GET", "/profiles?"+q.genesys, nil)
		if found := strings.Contains(string(identified.Body), "customer_id"); found != (q.want != "") {
			t.Errorf("Genesys identify %s: %s", q.genesys, identified.Body)
		}
		searched := ts.do("GET", "/ws/v12/interaction/customer?"+q.egain, nil, egSession, session, "Accept", "application/json")
		if found := searched.Status == http.StatusOK; found != (q.want != "") {
			t.Errorf("eGain search %s: %d %s", q.egain, searched.Status, searched.Body)
		}
	}
	res = edit(points[0].ID, `{"phone":{"phoneNo":"5550003"}}`)
	wantWSError(t, res, http.StatusBadRequest, "400-103", "application/json")
	if !strings.Contains(string(res.Body), points[0].ID) || !strings.Contains(string(res.Body), "email") {
		t.Errorf("the refusal does not name the point and its kind: %s", res.Body)
	}
	wantWSError(t, edit(points[0].ID, `{"value":"phone","phone":{"phoneNo":"5550003"}}`), http.StatusBadRequest, "400-103", "application/json")
}

// TestClients_DepartmentIDs: the vendor's XML shows <department id="1000">
// <name>…; departments have ids in config, answers carry both, and create
// and edit accept either.
func TestClients_DepartmentIDs(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	const ns = `xmlns="http://bindings.egain.com/ws/model/v12/gen/interaction/customer" xmlns:pl="http://bindings.egain.com/ws/model/v12/gen/platform" xmlns:cp="http://bindings.egain.com/ws/model/v12/gen/interaction/contactperson"`
	create := func(department string) response {
		return ts.do("POST", "/ws/v12/interaction/customer", `<customer `+ns+`><department `+department+`<type><value>individual</value></type>`+
			`<contactPersons><cp:contactPerson><cp:firstName>Dee</cp:firstName></cp:contactPerson></contactPersons></customer>`,
			"Content-Type", "application/xml", egSession, session)
	}
	for _, dept := range []string{`id="1000"/>`, `><pl:name>Service</pl:name></department>`, `id="1000"><pl:name>service</pl:name></department>`} {
		if res := create(dept); res.Status != http.StatusCreated {
			t.Errorf("department %s: %d %s", dept, res.Status, res.Body)
		}
	}
	res := ts.do("GET", "/ws/v12/interaction/customer/1,2,3", nil, egSession, session, "Accept", "application/xml")
	if n := strings.Count(string(res.Body), `<department id="1000"><ns2:name>Service</ns2:name></department>`); n != 3 {
		t.Errorf("%d customers carry the department's id and name:\n%s", n, res.Body)
	}
	wantWSError(t, create(`id="4242"/>`), http.StatusBadRequest, "400-103", "application/xml")
	wantWSError(t, create(`id="1000"><pl:name>Sales</pl:name></department>`), http.StatusBadRequest, "400-103", "application/xml")
	edit := ts.do("PUT", "/ws/v12/interaction/customer", `{"id":"1","department":{"id":"1000"}}`, "Content-Type", "application/json", egSession, session)
	if edit.Status != http.StatusNoContent {
		t.Errorf("edit naming the department by id: %d %s", edit.Status, edit.Body)
	}
	var got struct {
		Customer []struct{ Department struct{ ID, Name string } }
	}
	ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "Accept", "application/json").JSON(t, &got)
	if d := got.Customer[0].Department; d.ID != "1000" || d.Name != "Service" {
		t.Errorf("JSON department = %+v", d)
	}
	// A department that is not configured, by name: it keeps no old id.
	ts.do("PUT", "/ws/v12/interaction/customer", `{"id":"1","department":{"name":"Sales"}}`, "Content-Type", "application/json", egSession, session)
	got.Customer = nil
	ts.do("GET", "/ws/v12/interaction/customer/1", nil, egSession, session, "Accept", "application/json").JSON(t, &got)
	if d := got.Customer[0].Department; d.ID != "" || d.Name != "Sales" {
		t.Errorf("after moving to an unconfigured department: %+v", d)
	}
}

// TestClients_AvailabilitySpellings: the UCS-latest sample spells
// start_availability, the CS sample start_availabilty; both are accepted
// (an alias in the default config), stored and returned under the declared
// name, and accepted by identify and update-by-unique.
func TestClients_AvailabilitySpellings(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	id := ts.mustCreate(`{"FirstName":"Ava","Phone":[{"PhoneNumber":"5557001","PhoneType":2,"start_availability":"2009-12-18T18:30:00.000Z","end_availability":"2009-12-18T20:30:00.000Z"}]}`)
	var got struct{ Phone []map[string]any }
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
	if p := got.Phone[0]; p["start_availabilty"] == nil || p["end_availabilty"] == nil || p["start_availability"] != nil {
		t.Errorf("stored as %v, want the declared spelling", p)
	}
	// No key covers availability: the alias is known (NO_IDENTIFICATION_KEY), not unknown.
	res := ts.do("GET", "/profiles?Phone.start_availability=2009-12-18T18:30:00.000Z", nil)
	if res.Status != http.StatusBadRequest || strings.Contains(string(res.Body), "UNKNOWN_ATTRIBUTE") {
		t.Errorf("identify naming the alias: %d %s", res.Status, res.Body)
	}
	if res := ts.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":"5557001","end_availability":"2009-12-18T21:00:00.000Z"}`); res.Status >= 300 {
		t.Fatalf("update by unique with the alias: %d %s", res.Status, res.Body)
	}
	ts.do("GET", "/profiles/"+id+"?extensions=Phone", nil).JSON(t, &got)
	if got.Phone[0]["end_availabilty"] != "2009-12-18T21:00:00.000Z" {
		t.Errorf("after update: %v", got.Phone[0])
	}
	wantError(t, ts.do("POST", "/profiles", `{"Phone":[{"PhoneNumber":"1","start_availabilty":"2009-12-18T18:30:00.000Z","start_availability":"2009-12-18T18:30:00.000Z"}]}`),
		http.StatusBadRequest, "INVALID_BODY") // the same attribute twice
}

// TestClients_MergeOfEGainCustomersKeepsBothContacts: a Genesys merge of
// two customers an eGain client created keeps the source's contact points
// (its postal address, phone details and their custom attributes) beside
// the destination's: both number their persons and points from 1, and
// merged by those numbers as they were, the source's were dropped as the
// destination's duplicates.
func TestClients_MergeOfEGainCustomersKeepsBothContacts(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	session := egLogin(t, ts)
	full := string(mustRead(t, "../testdata/examples/egain-create-full.json"))
	numA := egCreate(t, ts, session, full, "")
	numB := egCreate(t, ts, session, strings.NewReplacer("john.russel@customer.com", "b@merge.dom", "234 3456", "555 0102", "Mountain View", "Sunnyvale").Replace(full), "")
	genesysID := func(email string) string {
		t.Helper()
		var found []struct {
			CustomerID string `json:"customer_id"`
		}
		ts.do("GET", "/profiles?EmailAddress="+email, nil).JSON(t, &found)
		if len(found) != 1 {
			t.Fatalf("identify %s: %v", email, found)
		}
		return found[0].CustomerID
	}
	a, b := genesysID("john.russel@customer.com"), genesysID("b@merge.dom")
	view := func(num string) string {
		t.Helper()
		res := ts.do("GET", "/ws/v12/interaction/customer/"+num, nil, egSession, session, "Accept", "application/json")
		if res.Status != http.StatusOK {
			t.Fatalf("eGain get %s: %d %s", num, res.Status, res.Body)
		}
		return string(res.Body)
	}
	before := strings.Count(view(numA), `"contactPoint"`)
	points := strings.Count(view(numA), `"priority":{"value"`)
	if res := ts.do("PUT", "/profiles/"+a+"/merge/"+b, `{}`); res.Status != http.StatusNoContent {
		t.Fatalf("merge: %d %s", res.Status, res.Body)
	}
	merged := view(numA)
	for _, want := range []string{`"city":"Mountain View"`, `"city":"Sunnyvale"`, `"phoneNo":"234 3456"`, `"phoneNo":"555 0102"`, `"emailAddress":"b@merge.dom"`} {
		if !strings.Contains(merged, want) {
			t.Errorf("the merged customer lacks %s:\n%s", want, merged)
		}
	}
	if got := strings.Count(merged, `"priority":{"value"`); got != 2*points {
		t.Errorf("the merged customer shows %d points with their priority, want %d (both customers'):\n%s", got, 2*points, merged)
	}
	if strings.Count(merged, `"contactPoint"`) < before {
		t.Errorf("the merged customer shows fewer contact point lists than before:\n%s", merged)
	}
	wantWSError(t, ts.do("GET", "/ws/v12/interaction/customer/"+numB, nil, egSession, session, "Accept", "application/json"), http.StatusNotFound, "404-101", "application/json")
}

// TestClients_StrictValuesStillSelectStoredRecords: with
// genesys.unauthorized_strings.check_values, a value the eGain facade
// stored unchecked (a custom attribute "None") must still be addressable by
// delete/by/unique: the body only selects the record, it writes no value.
func TestClients_StrictValuesStillSelectStoredRecords(t *testing.T) {
	t.Parallel()
	strict := mustStartWith(t, configWith(t, "genesys:\n", "genesys:\n  unauthorized_strings: {check_values: true}\n"), t.TempDir()+"/p.db")
	session := egLogin(t, strict)
	body := `{"type":{"value":"individual"},"customAttributes":{"customAttribute":[{"attribName":"preferredlang","attribValues":{"attribValue":[{"value":"None"}]}}]},"contactPersons":{"contactPerson":[{"firstName":"Ann"}]}}`
	if res := strict.do("POST", "/ws/v12/interaction/customer", body, "Content-Type", "application/json", egSession, session); res.Status != http.StatusCreated {
		t.Fatalf("eGain create: %d %s", res.Status, res.Body)
	}
	var found []struct {
		ID string `json:"customer_id"`
	}
	strict.do("GET", "/profiles?CustomAttribute.name=preferredlang&CustomAttribute.value=None", nil).JSON(t, &found)
	if len(found) != 1 {
		t.Fatalf("identify by the custom attribute: %+v", found)
	}
	res := strict.do("PUT", "/profiles/"+found[0].ID+"/extensions/CustomAttribute/delete/by/unique", `{"name":"preferredlang","value":"None"}`)
	if res.Status != http.StatusNoContent {
		t.Errorf("delete by unique of a stored record whose unique value is a keyword: %d %s; want 204", res.Status, res.Body)
	}
}
