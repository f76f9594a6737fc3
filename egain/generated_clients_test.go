package egain

import (
	"net/http"
	"testing"
)

// TestJSON_NullListOfAWrapper: Jackson (default inclusion, field access as
// on xjc-generated classes), Newtonsoft and System.Text.Json write a list
// they never filled as null inside its wrapper:
// "customAttributes":{"customAttribute":null}. null is absent everywhere
// else (docs/egain.md), and an empty wrapper or [] is accepted, so a null
// list is no items, not a null item refused with 400-103.
func TestJSON_NullListOfAWrapper(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	num := h.create(s, `{"id":null,"type":{"value":"individual","group":null},"pin":null,`+
		`"customAttributes":{"customAttribute":null},`+
		`"contactPersons":{"contactPerson":[{"id":null,"firstName":"Null","lastName":"Lists",`+
		`"customAttributes":{"customAttribute":null},"contactPoints":{"contactPoint":null}}]}}`)
	num2 := h.create(s, individual("Keeps", "Custom", "keeps@custom.example", "", "loyaltyId", "L1"))
	before := h.view(t, s, num2)
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num2+`","marketSegment":"Retail",`+
		`"customAttributes":{"customAttribute":null},"contactPersons":{"contactPerson":null}}`,
		SessionHeader, s, "Content-Type", "application/json", "Accept", "application/json").want(t, http.StatusNoContent)
	after := h.view(t, s, num2)
	if got, want := mustJSON(t, after["customAttributes"]), mustJSON(t, before["customAttributes"]); got != want {
		t.Errorf("custom attributes after the edit: %s, want %s", got, want)
	}
	if got, want := mustJSON(t, after["contactPersons"]), mustJSON(t, before["contactPersons"]); got != want {
		t.Errorf("contact persons after the edit: %s, want %s", got, want)
	}
	if after["marketSegment"] != "Retail" {
		t.Errorf("marketSegment = %v, want Retail", after["marketSegment"])
	}
	_ = num
}
