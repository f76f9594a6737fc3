package egain

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
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
