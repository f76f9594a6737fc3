package egain

import (
	"net/http"
	"testing"
)

// TestCreate_DateOfBirthAsXSDDateWithZone: a JAXB client prints an
// XMLGregorianCalendar holding a date and a timezone (what
// DatatypeFactory.newXMLGregorianCalendarDate(y, m, d, offset) gives, or a
// GregorianCalendar's date fields) as the xs:date lexical form with its zone:
// 1965-12-09Z, 1965-12-09+01:00. That is an ISO-8601 date (XML Schema
// Part 2, 3.2.9.1); the plain date is taken, and the zone must not make it
// 400-103. The day is kept as written, as for a date-time.
func TestCreate_DateOfBirthAsXSDDateWithZone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	for _, dob := range []string{"1965-12-09Z", "1965-12-09+01:00", "1965-12-09-05:00"} {
		{
			num := h.create(s, `<ns3:customer xmlns:ns3="`+NSCustomer+`" xmlns:ns4="`+NSContactPerson+`">`+
				`<ns3:type><ns3:value>individual</ns3:value></ns3:type><ns3:contactPersons><ns4:contactPerson>`+
				`<ns4:firstName>Zoned</ns4:firstName><ns4:dateOfBirth>`+dob+`</ns4:dateOfBirth>`+
				`</ns4:contactPerson></ns3:contactPersons></ns3:customer>`)
			got := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].DateOfBirth
			if want := "1965-12-09T00:00:00.000Z"; got != want {
				t.Errorf("dateOfBirth sent as %s = %q, want %q", dob, got, want)
			}
		}
	}
	// An edit takes it too.
	num := h.create(s, individual("Edit", "Zoned", "", ""))
	person := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].ID
	h.do("PUT", "/ws/v12/interaction/customer", `{"id":"`+num+`","contactPersons":{"contactPerson":[{"id":"`+person+`","dateOfBirth":"1970-01-02Z"}]}}`,
		SessionHeader, s, "Content-Type", "application/json").want(t, http.StatusNoContent)
	if got, want := h.getJSON(s, num).Customer[0].ContactPersons.ContactPerson[0].DateOfBirth, "1970-01-02T00:00:00.000Z"; got != want {
		t.Errorf("edited dateOfBirth = %q, want %q", got, want)
	}
}
