package egain

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/profile"
)

// TestWithoutUnchanged: an edit is validated and applied on what it
// changes against the stored customer.
func TestWithoutUnchanged(t *testing.T) {
	const num = 7
	stored := func() *Customer {
		c, err := DecodeCustomerJSON(strings.NewReader(`{"id":"7","pin":"a\u0001b","marketSegment":"retail",
			"department":{"id":"1000","name":"Service"},
			"customAttributes":{"customAttribute":[{"attribName":"odd","attribValues":{"attribValue":[{"value":"v"}]}}]},
			"contactPersons":{"contactPerson":[{"id":"1","firstName":"Ann","salutation":"Dr.",
				"contactPoints":{"contactPoint":[{"id":"2","type":{"value":"alien"},"priority":{"value":"urgent"}}]}}]}}`), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	person, point := externalID(num, "1"), externalID(num, "2")
	tests := []struct {
		name, body, want string // want: the changes as JSON
	}{
		{"all as read", `{"id":"7","pin":"a\u0001b","marketSegment":"retail","department":{"id":"1000","name":"Service"},
			"customAttributes":{"customAttribute":[{"attribName":"odd","attribValues":{"attribValue":[{"value":"v"}]}}]},
			"contactPersons":{"contactPerson":[{"id":"` + person + `","firstName":"Ann","salutation":"Dr.",
				"contactPoints":{"contactPoint":[{"id":"` + point + `","type":{"value":"alien"},"priority":{"value":"urgent"}}]}}]}}`,
			`{"id":"7"}`},
		{"pin as XML shows it", `{"id":"7","pin":"a` + "\uFFFD" + `b"}`, `{"id":"7"}`},
		{"a changed field", `{"id":"7","pin":"a\u0001b","marketSegment":"web"}`, `{"id":"7","marketSegment":"web"}`},
		{"a department changes whole", `{"id":"7","department":{"id":"1001","name":"Service"}}`, `{"id":"7","department":{"id":"1001","name":"Service"}}`},
		{"a changed point keeps its id", `{"id":"7","contactPersons":{"contactPerson":[{"id":"` + person + `","firstName":"Ann",
			"contactPoints":{"contactPoint":[{"id":"` + point + `","type":{"value":"alien"},"priority":{"value":"low"}}]}}]}}`,
			`{"id":"7","contactPersons":{"contactPerson":[{"id":"` + person + `","contactPoints":{"contactPoint":[{"id":"` + point + `","priority":{"value":"low"}}]}}]}}`},
		{"a point sending only its id", `{"id":"7","contactPersons":{"contactPerson":[{"id":"` + person + `","contactPoints":{"contactPoint":[{"id":"` + point + `"}]}}]}}`,
			`{"id":"7","contactPersons":{"contactPerson":[{"id":"` + person + `","contactPoints":{"contactPoint":[{"id":"` + point + `"}]}}]}}`},
		{"new and unknown items whole", `{"id":"7","contactPersons":{"contactPerson":[{"firstName":"Ann"},{"id":"99","firstName":"Ann"}]}}`,
			`{"id":"7","contactPersons":{"contactPerson":[{"firstName":"Ann"},{"id":"99","firstName":"Ann"}]}}`},
		{"a custom value changed", `{"id":"7","customAttributes":{"customAttribute":[{"attribName":"odd","attribValues":{"attribValue":[{"value":"w"}]}}]}}`,
			`{"id":"7","customAttributes":{"customAttribute":[{"attribName":"odd","attribValues":{"attribValue":[{"value":"w"}]}}]}}`},
		{"a cleared field", `{"id":"7","marketSegment":""}`, `{"id":"7","marketSegment":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := stored()
			cur.ContactPersons[0].ID, cur.ContactPersons[0].ContactPoints[0].ID = Str("1"), Str("2") // stored ids are local
			edit, err := DecodeCustomerJSON(strings.NewReader(tt.body), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			changes, _ := withoutUnchanged(edit, cur, num)
			want, err := DecodeCustomerJSON(strings.NewReader(tt.want), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := customerJSON(t, &changes), customerJSON(t, want); got != want {
				t.Errorf("changes\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func customerJSON(t *testing.T, c *Customer) string {
	t.Helper()
	var b strings.Builder
	if err := EncodeCustomersJSON(&b, "/", []Customer{*c}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestEdit_PhoneNumberChangeKeepsGenesysFields: an eGain edit that changes
// the number of a phone point keeps what a Genesys client wrote on that
// point's Phone record (prefix, description, PhoneType): the record moves
// with the point instead of being replaced by a bare one.
func TestEdit_PhoneNumberChangeKeepsGenesysFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, individual("Phil", "Rename", "phil@rename.example", "5550001"))
	id := h.customerID("", num)
	h.do("PUT", "/profiles/"+id+"/extensions/Phone/by/unique", `{"PhoneNumber":"5550001","prefix":"+49","description":"desk","PhoneType":3}`,
		"Content-Type", "application/json").want(t, http.StatusNoContent)

	c := h.getJSON(s, num).Customer[0]
	person := c.ContactPersons.ContactPerson[0]
	var pointID string
	for _, pt := range person.ContactPoints.ContactPoint {
		if pt.Type.Value == "phone" {
			pointID = pt.ID
		}
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+
		`","contactPoints":{"contactPoint":[{"id":"`+pointID+`","type":{"phone":{"phoneNo":"5550002"}}}]}}]}}`,
		"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)

	res := h.do("GET", "/profiles/"+id+"?extensions=Phone", "").want(t, http.StatusOK)
	var p struct {
		Phone []map[string]any `json:"Phone"`
	}
	if err := json.Unmarshal([]byte(res.Body), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Phone) != 1 {
		t.Fatalf("Phone = %v, want one record", p.Phone)
	}
	r := p.Phone[0]
	if r["PhoneNumber"] != "5550002" || r["prefix"] != "+49" || r["description"] != "desk" || r["PhoneType"] != float64(3) {
		t.Errorf("Phone record after the number changed = %v, want 5550002 with prefix +49, description desk, PhoneType 3", r)
	}
}

// TestEdit_KeepsPointsTheViewHides: contact points a Genesys client wrote
// that the eGain view hides (an e-mail point whose address is not in
// EmailAddress, a phone point without a Phone record) and their contact
// attributes survive an eGain edit of something else, and a point the
// edit adds does not take their numbers.
func TestEdit_KeepsPointsTheViewHides(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	p, num := h.stored(t, map[string]any{"FirstName": "Hid", "EmailAddress": []any{"shown@x.dom"},
		"ContactPoint": []any{
			map[string]any{"pointId": "2", "type": "postal", "city": "Lyon"},
			map[string]any{"pointId": "3", "type": "email", "emailAddress": "hidden@x.dom"},
			map[string]any{"pointId": "4", "type": "phone", "phoneNo": "5550444"},
		},
		"ContactAttribute": []any{map[string]any{"owner": "3", "name": "note", "value": "work"}},
	})
	view := h.getJSON(s, num).Customer[0]
	person := view.ContactPersons.ContactPerson[0]
	var shown []string
	for _, pt := range person.ContactPoints.ContactPoint {
		shown = append(shown, pt.Type.Value)
	}
	if slices.Contains(shown, "phone") || len(shown) != 2 {
		t.Fatalf("the view shows points %v, want the postal one and the e-mail point of EmailAddress", shown)
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"1234","contactPersons":{"contactPerson":[{"id":"`+person.ID+
		`","contactPoints":{"contactPoint":[{"type":{"value":"web","web":{"url":"https://x.dom"}}}]}}]}}`,
		"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)

	stored := h.storedProfile(t, p.Num, "ContactPoint", "ContactAttribute")
	byID := map[string]string{}
	for _, r := range stored.Extensions["ContactPoint"] {
		var values []string
		for _, name := range []string{"type", "emailAddress", "phoneNo", "city", "url"} {
			if v, ok := r[name].(string); ok {
				values = append(values, v)
			}
		}
		byID[fmt.Sprint(r["pointId"])] = strings.Join(values, " ")
	}
	for id, want := range map[string]string{"2": "postal Lyon", "3": "email hidden@x.dom", "4": "phone 5550444"} {
		if byID[id] != want {
			t.Errorf("point %s after the edit: %q, want %q (all points: %v)", id, byID[id], want, byID)
		}
	}
	if len(byID) != 5 { // and the new web point, and the e-mail point of EmailAddress
		t.Errorf("points after the edit: %v, want 5", byID)
	}
	if attrs := stored.Extensions["ContactAttribute"]; len(attrs) != 1 || attrs[0]["owner"] != "3" {
		t.Errorf("contact attributes after the edit: %v, want the hidden point's", attrs)
	}
}

// TestEdit_PointNumberedAsAPersonIsNotDuplicated: a Genesys client numbered its person 1 and its point 1 (one numbering in
// the facade, two unique keys in the store): eGain edits must not multiply
// the point.
func TestEdit_PointNumberedAsAPersonIsNotDuplicated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	p, num := h.stored(t, map[string]any{"FirstName": "Dup", "EmailAddress": []any{"a@x.dom"},
		"ContactPerson": []any{map[string]any{"personId": "1"}},
		"ContactPoint": []any{
			map[string]any{"pointId": "1", "personId": "1", "type": "email", "emailAddress": "a@x.dom"},
		},
	})
	for i := 0; i < 3; i++ {
		h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"123`+fmt.Sprint(i)+`"}`,
			"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)
		stored := h.storedProfile(t, p.Num, "ContactPoint")
		if n := len(stored.Extensions["ContactPoint"]); n != 1 {
			t.Errorf("after edit %d %d point records are stored, want 1: %v", i+1, n, stored.Extensions["ContactPoint"])
		}
		view := h.getJSON(s, num).Customer[0]
		n := 0
		for _, person := range view.ContactPersons.ContactPerson {
			n += len(person.ContactPoints.ContactPoint)
		}
		if n != 1 {
			t.Errorf("after edit %d the view shows %d points, want 1", i+1, n)
		}
	}
}

// TestEdit_HiddenAddressAddedBack: a Genesys client dropped an address
// from EmailAddress (its point is now hidden); an agent adds it back
// through eGain, as it was or in another case under Unicode folding (ß /
// SS, which the e-mail index and the view take for the same address): the
// hidden point is not kept beside its twin, and later edits work.
func TestEdit_HiddenAddressAddedBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	for hidden, added := range map[string]string{"old@x.dom": "old@x.dom", "old@maß.dom": "OLD@MASS.DOM"} {
		p, num := h.stored(t, map[string]any{"FirstName": "Back", "EmailAddress": []any{"shown@x.dom"},
			"ContactPerson": []any{map[string]any{"personId": "1"}},
			"ContactPoint": []any{
				map[string]any{"pointId": "2", "personId": "1", "type": "email", "emailAddress": "shown@x.dom"},
				map[string]any{"pointId": "3", "personId": "1", "type": "email", "emailAddress": hidden},
			},
		})
		person := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0]
		h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+
			`","contactPoints":{"contactPoint":[{"type":{"value":"email","email":{"emailAddress":"`+added+`"}}}]}}]}}`,
			"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)
		stored := h.storedProfile(t, p.Num, "ContactPoint")
		if n := len(stored.Extensions["ContactPoint"]); n != 2 {
			t.Errorf("%s added back as %s: %d point records, want 2 (the hidden one not beside its twin): %v", hidden, added, n, stored.Extensions["ContactPoint"])
		}
		h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"4321"}`,
			"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)
	}
}

// TestEdit_WritesOnlyWhatChanged: an eGain edit of one customer field
// writes, and its audit entry names, only the extension that holds it;
// the records the edit left as they were are not rewritten.
func TestEdit_WritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, string(mustRead(t, "../testdata/examples/egain-create-full.json")))
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"4321"}`,
		"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)
	page, err := h.svc.Audit(t.Context(), "", profile.AuditQuery{Op: profile.OpEdit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || !slices.Equal(page.Entries[0].Extensions, []string{"EgainCustomer"}) {
		t.Fatalf("edit entries %+v, want one naming EgainCustomer alone", page.Entries)
	}
	if got := h.view(t, s, num)["pin"]; got != "4321" {
		t.Errorf("pin after the edit: %v", got)
	}
}

// TestEdit_AddressesAnEarlierReleaseToldApart: a customer an earlier
// release stored with two e-mail points whose addresses differ only as
// case folding joins them (ß and SS) shows both, each as spelled, and an
// edit of something else is not refused as a duplicate address.
func TestEdit_AddressesAnEarlierReleaseToldApart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	_, num := h.stored(t, map[string]any{"FirstName": "Otto", "EmailAddress": []any{"otto@GROSS.example", "otto@groß.example"},
		"ContactPerson": []any{map[string]any{"personId": "1", "firstName": "Otto"}},
		"ContactPoint": []any{
			map[string]any{"pointId": "2", "personId": "1", "type": "email", "emailAddress": "otto@GROSS.example"},
			map[string]any{"pointId": "3", "personId": "1", "type": "email", "emailAddress": "otto@groß.example"},
		},
	})
	shown := func() []string {
		var addrs []string
		for _, pt := range h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint {
			if pt.Type.Email != nil {
				addrs = append(addrs, pt.Type.Email.EmailAddress)
			}
		}
		return addrs
	}
	if got := shown(); !slices.Equal(got, []string{"otto@GROSS.example", "otto@groß.example"}) {
		t.Fatalf("the view shows %v, want each address as stored", got)
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"42"}`,
		"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)
	if got := shown(); !slices.Equal(got, []string{"otto@GROSS.example", "otto@groß.example"}) {
		t.Errorf("after an edit of the pin the view shows %v", got)
	}
	// A third spelling is a duplicate, as ever.
	person := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0]
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+
		`","contactPoints":{"contactPoint":[{"type":{"value":"email","email":{"emailAddress":"OTTO@GROSS.EXAMPLE"}}}]}}]}}`,
		"Content-Type", "application/json", SessionHeader, s).wantError(t, http.StatusBadRequest, "400-107", FormatXML)
}

// TestEdit_StoredAddressAddedTwiceIsADuplicate: an exact copy of a stored
// address, added as a second point, is a duplicate (spec §3.3), stored or
// not.
func TestEdit_StoredAddressAddedTwiceIsADuplicate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	_, num := h.stored(t, map[string]any{"FirstName": "Ann", "EmailAddress": []any{"ann@x.example"},
		"ContactPerson": []any{map[string]any{"personId": "1", "firstName": "Ann"}},
		"ContactPoint": []any{
			map[string]any{"pointId": "2", "personId": "1", "type": "email", "emailAddress": "ann@x.example"},
		},
	})
	person := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0]
	r := h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+
		`","contactPoints":{"contactPoint":[{"type":{"value":"email","email":{"emailAddress":"ann@x.example"}}}]}}]}}`,
		"Content-Type", "application/json", SessionHeader, s)
	r.wantError(t, http.StatusBadRequest, "400-107", FormatXML)
}

// TestEdit_NewSpellingBeforeTheStoredOneIsADuplicate: a new spelling that
// folds like a stored address, sent before the stored spelling, is a
// duplicate too.
func TestEdit_NewSpellingBeforeTheStoredOneIsADuplicate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	_, num := h.stored(t, map[string]any{"FirstName": "Otto", "EmailAddress": []any{"otto@gross.example"},
		"ContactPerson": []any{map[string]any{"personId": "1", "firstName": "Otto"}},
		"ContactPoint": []any{
			map[string]any{"pointId": "2", "personId": "1", "type": "email", "emailAddress": "otto@gross.example"},
		},
	})
	c := h.getJSON(s, num).Customer[0]
	person := c.ContactPersons.ContactPerson[0]
	pt := person.ContactPoints.ContactPoint[0]
	r := h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person.ID+
		`","contactPoints":{"contactPoint":[{"id":"`+pt.ID+`","type":{"value":"email","email":{"emailAddress":"otto@groß.example"}}},{"type":{"value":"email","email":{"emailAddress":"otto@gross.example"}}}]}}]}}`,
		"Content-Type", "application/json", SessionHeader, s)
	r.wantError(t, http.StatusBadRequest, "400-107", FormatXML)
}

// TestEdit_GenesysRecasesOneOfTwoAddressesFoldingAlike: of two stored
// addresses that fold alike, a Genesys client re-cases one: the view shows
// each as the profile spells it, and an eGain edit keeps both.
func TestEdit_GenesysRecasesOneOfTwoAddressesFoldingAlike(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	p, err := h.svc.Create(t.Context(), "", map[string]any{"FirstName": "Otto", "EmailAddress": []any{"otto@GROSS.example", "otto@groß.example"},
		"ContactPerson": []any{map[string]any{"personId": "1", "firstName": "Otto"}},
		"ContactPoint": []any{
			map[string]any{"pointId": "2", "personId": "1", "type": "email", "emailAddress": "otto@GROSS.example"},
			map[string]any{"pointId": "3", "personId": "1", "type": "email", "emailAddress": "otto@groß.example"},
		},
	}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Replace(t.Context(), "", p.ID, map[string]any{"FirstName": "Otto", "EmailAddress": []any{"otto@GROSS.example", "OTTO@groß.example"}}, profile.ReplaceOptions{}); err != nil {
		t.Fatal(err)
	}
	num := strconv.FormatUint(p.Num, 10)
	var addrs []string
	for _, pt := range h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ContactPoints.ContactPoint {
		if pt.Type.Email != nil {
			addrs = append(addrs, pt.Type.Email.EmailAddress)
		}
	}
	if !slices.Equal(addrs, []string{"otto@GROSS.example", "OTTO@groß.example"}) {
		t.Errorf("view %v, want each address as the profile spells it", addrs)
	}
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","pin":"42"}`,
		"Content-Type", "application/json", SessionHeader, s).want(t, http.StatusNoContent)
	stored := h.storedProfile(t, p.Num)
	if got := stored.Attributes["EmailAddress"]; !reflect.DeepEqual(got, []any{"otto@GROSS.example", "OTTO@groß.example"}) {
		t.Errorf("after a pin edit EmailAddress is %v", got)
	}
}

// stored creates a profile from body through the domain (as a Genesys
// client or an earlier release would have written it) and returns it and
// its eGain number.
func (h *harness) stored(t *testing.T, body map[string]any) (*profile.Profile, string) {
	t.Helper()
	p, err := h.svc.Create(t.Context(), "", body, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p, strconv.FormatUint(p.Num, 10)
}
