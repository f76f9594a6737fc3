package egain

import (
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
