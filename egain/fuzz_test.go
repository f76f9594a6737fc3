package egain

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
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
	// Bodies in other encodings: by declaration, and UTF-16 by its BOM.
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><customer xmlns="` + NSCustomer + `"><customerName>Jos` + "\xe9" + `</customerName></customer>`))
	f.Add([]byte(`<?xml version="1.0" encoding="Shift_JIS"?><customer xmlns="` + NSCustomer + `"><customerName>` + "\x93\x8c" + `</customerName></customer>`))
	f.Add([]byte("\xff\xfe<\x00c\x00/\x00>\x00"))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := DecodeCustomerXML(bytes.NewReader(body), Limits{MaxBytes: 1 << 16})
		checkDecodeError(t, err)
		if err == nil {
			// Whatever decodes must encode (as the reflection encoder did)
			// and validate without panicking.
			var buf bytes.Buffer
			if err := EncodeCustomersXML(&buf, "/", []Customer{*c}); err != nil {
				t.Fatal(err)
			}
			if want := refEncodeXML("/", []Customer{*c}); !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("XML differs from the reflection encoder's\ngot  %s\nwant %s", buf.Bytes(), want)
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
			if want := refEncodeJSON("/", []Customer{*c}); !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("JSON differs from the reflection encoder's\ngot  %s\nwant %s", buf.Bytes(), want)
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

// FuzzWriteBodies sends arbitrary JSON and XML bodies to create and edit
// through the real facade, store and HTTP stack: never 5xx, and every
// refusal is a WSError.
func FuzzWriteBodies(f *testing.F) {
	for _, name := range exampleNames {
		f.Add(readExample(f, name+".json"), false)
		f.Add(readExample(f, name+".xml"), true)
	}
	for _, s := range []string{
		`{"type":{"value":"individual"},"pin":1e1000000000}`,
		`{"type":{"value":"individual"},"pin":` + strings.Repeat("9", 5000) + `}`,
		`{"id":"1","contactPersons":{"contactPerson":[{"id":"1000001","firstName":"a\ud800"}]}}`,
		`{"id":"1","level":{"value":"a\u0000"}}`,
		`{"id":"99999999999999999999","level":{"value":"x"}}`,
	} {
		f.Add([]byte(s), false)
	}
	h := newHarness(f)
	session := h.login("agent")
	h.create(session, individual("Ann", "Fuzz", "ann@fuzz.example", "5550100"))
	f.Fuzz(func(t *testing.T, body []byte, xml bool) {
		ct := "application/json"
		if xml {
			ct = "application/xml"
		}
		for _, method := range []string{"POST", "PUT"} {
			req, err := http.NewRequest(method, h.srv.URL+"/ws/v12/interaction/customer", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(SessionHeader, session)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Accept", "application/json")
			res := fuzzSend(t, req)
			if res.Status >= 500 {
				t.Fatalf("%s %q: %d %s", method, body, res.Status, res.Body)
			}
			if res.Status >= 400 {
				var e struct{ Code, DeveloperMessage string }
				if err := json.Unmarshal([]byte(res.Body), &e); err != nil || e.Code == "" || e.DeveloperMessage == "" {
					t.Fatalf("%s: %d with a bad WSError (%v): %s", method, res.Status, err, res.Body)
				}
			}
		}
	})
}

// fuzzSend is harness.do for a fuzz function, which must not use the F.
func fuzzSend(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(data)}
}
