package egain

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/contactcenter/profiled/errs"
)

// checkDecodeError fails unless err is nil or a client error: a decoder may
// only ever blame the body.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	e := errs.As(err)
	if e == nil || (e.Kind != errs.KindInvalid && e.Kind != errs.KindTooLarge) {
		t.Fatalf("got %T %v, want *errs.Error of kind invalid or too_large", err, err)
	}
}

func FuzzDecodeCustomerXML(f *testing.F) {
	for _, name := range exampleNames {
		f.Add(readExample(f, name+".xml"))
	}
	f.Add([]byte(`<!DOCTYPE customer [<!ENTITY x "y">]><customer/>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := DecodeCustomerXML(bytes.NewReader(body), Limits{MaxBytes: 1 << 16})
		checkDecodeError(t, err)
		if err == nil {
			// Whatever decodes must encode and validate without panicking.
			var buf bytes.Buffer
			if err := EncodeCustomersXML(&buf, "/", []Customer{*c}); err != nil {
				t.Fatal(err)
			}
			_ = ValidateForCreate(c, testOpts)
			_ = ValidateForEdit(c, testOpts)
		}
	})
}

func FuzzDecodeCustomerJSON(f *testing.F) {
	for _, name := range exampleNames {
		f.Add(readExample(f, name+".json"))
	}
	f.Add([]byte(`{"pin": 1, "contactPersons": {"contactPerson": {"firstName": true}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := DecodeCustomerJSON(bytes.NewReader(body), Limits{MaxBytes: 1 << 16})
		checkDecodeError(t, err)
		if err == nil {
			var buf bytes.Buffer
			if err := EncodeCustomersJSON(&buf, "/", []Customer{*c}); err != nil {
				t.Fatal(err)
			}
			_ = ValidateForCreate(c, testOpts)
			_ = ValidateForEdit(c, testOpts)
		}
	})
}

func FuzzParseSearchQuery(f *testing.F) {
	seeds := []string{
		"phone=5550100&$pagenum=1&$pagesize=2",
		"email=a@b.com&$sort=type&$order=desc",
		"custom.loyaltyId=A17&$rangestart=1&$rangesize=5",
		"created=%5B2015-12-23T08:39:16.000Z%2C%5D&$attribute=all",
		"activity=" + url.QueryEscape(activity("[2015-12-01,2015-12-14]")),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		_, err = ParseSearchQuery(q, customNames)
		checkDecodeError(t, err)
		_, err = ParseGetByIDs(raw, q, customNames)
		checkDecodeError(t, err)
	})
}
