package jsonw

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckInput(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"a":"b","n":-12.5e-3,"t":true}`, nil},
		{`{"a":"\u00e9\ud83d\ude00\\u0000 \"\\ud800\""}`, nil}, // a pair; escaped backslashes are text
		{`{"a":1e400,"b":-1E-400,"c":1e+400}`, nil},
		{`{"n":` + strings.Repeat("9", 64) + `}`, nil},
		{`{"n":` + strings.Repeat("9", 65) + `}`, ErrNumber},
		{`{"n":` + strings.Repeat("9", 1_000_000) + `}`, ErrNumber},
		{`{"PhoneType":1e1000000000}`, ErrNumber},
		{`{"PhoneType":1e-401}`, ErrNumber},
		{`{"PhoneType":1e99999999999999999999}`, ErrNumber},
		{`["a\ud800b"]`, ErrEscape},
		{`["a\udc00"]`, ErrEscape},
		{`["\ud800\u0041"]`, ErrEscape},
		{`["\ud800`, ErrEscape},
		{`["a\u0000b"]`, ErrEscape},
		{`{"9999999999999999999999999999999999999999999999999999999999999999999":1}`, nil}, // digits in a name are text
	} {
		err := CheckInput([]byte(tc.in))
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("CheckInput(%.80q) = %v, want %v", tc.in, err, tc.want)
		}
	}
}

// FuzzInputChecks: CheckInput never panics, and on valid JSON it passes
// ParseUnique refuses nothing but duplicate member names.
func FuzzInputChecks(f *testing.F) {
	for _, s := range []string{`{"a":1e400}`, `["\ud800"]`, `{"a":"\u0000"}`, `{"a":1,"a":2}`, `{"n":-0.5E-3,"s":"\\u0000"}`, `[1e99999]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checked := CheckInput(data)
		if checked != nil && !errors.Is(checked, ErrNumber) && !errors.Is(checked, ErrEscape) {
			t.Fatalf("CheckInput(%q) = %v: neither ErrNumber nor ErrEscape", data, checked)
		}
		if checked != nil || !json.Valid(data) {
			return
		}
		if _, err := ParseUnique(data); err != nil && !errors.Is(err, ErrDuplicate) {
			t.Fatalf("ParseUnique(%q) = %v on JSON that encoding/json accepts", data, err)
		}
	})
}
