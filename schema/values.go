package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/cases"

	"github.com/contactcenter/profiled/internal/jsonw"
)

// Canonical layouts. Dates and datetimes are stored in one form so that the
// identification indexes compare like with like and sort by time.
const (
	DateLayout     = "2006-01-02"
	DatetimeLayout = "2006-01-02T15:04:05.000Z"
)

// jsonSchemaFor returns the JSON Schema fragment that validates one value of
// type a.Type. Loose forms (numeric strings, "true") are coerced before
// validation (see coerce), so each type is one plain schema.
func jsonSchemaFor(a *Attribute) map[string]any {
	switch a.valueType() {
	case TypeBoolean:
		return map[string]any{"type": "boolean"}
	case TypeString:
		s := map[string]any{"type": "string"}
		if a.Length > 0 {
			s["maxLength"] = a.Length
		}
		return s
	case TypeInteger, TypeLong:
		lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
		if a.valueType() == TypeLong {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		if a.Length > 0 && a.Length < 19 { // length counts digits
			limit := int64(math.Pow10(a.Length)) - 1
			lo, hi = max(lo, -limit), min(hi, limit)
		}
		return map[string]any{"type": "integer", "minimum": lo, "maximum": hi}
	case TypeDouble, TypeCurrency:
		return map[string]any{"type": "number"}
	case TypeDate:
		return map[string]any{"type": "string", "format": formatDate}
	case TypeDatetime:
		return map[string]any{"type": "string", "format": formatDatetime}
	}
	panic("schema: unknown type " + string(a.Type))
}

// coerce turns the loose forms clients send (spec §10 Q7: "42" for an
// integer, "true" for a boolean) into the JSON type the schema declares,
// before JSON Schema validation. A value that does not fit is left as it is
// for JSON Schema to report.
func coerce(t Type, v any) any {
	if _, isString := v.(string); !isString || t == TypeString || t == TypeDate || t == TypeDatetime {
		return v
	}
	if nv, err := normalize(t, v); err == nil {
		return nv
	}
	return v
}

// Custom JSON Schema formats registered on every compiler.
const (
	formatDate     = "ucs-date"
	formatDatetime = "ucs-datetime"
)

func isDate(v any) bool {
	s, ok := v.(string)
	if !ok {
		return true // format only constrains strings
	}
	_, err := parseDate(s)
	return err == nil
}

func isDatetime(v any) bool {
	s, ok := v.(string)
	if !ok {
		return true
	}
	_, err := parseDatetime(s)
	return err == nil
}

// parseDate accepts yyyy-MM-dd and, because eGain sends dates of birth as
// midnight datetimes, an ISO 8601 datetime, whose calendar date is kept as
// written (in its own offset: 1962-05-10T00:00:00+14:00 is May 10).
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(DateLayout, s); err == nil {
		return t, nil
	}
	if t, ok := ParseZonedDate(s); ok {
		return t, nil
	}
	t, _, ok := ParseISODatetime(s)
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not a date (yyyy-MM-dd)", s)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), nil
}

// Date-time layouts ISO 8601 allows beside RFC 3339 that clients write:
// minutes without seconds, the basic offset +hhmm (Java's SimpleDateFormat
// "Z"), and, for a date only, no offset at all (.NET's DateTime). Go's
// parser takes a fraction after the seconds without a layout for it.
var (
	zonedLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z0700"}
	localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04"}
)

// ParseISODatetime reads an ISO 8601 date-time as the schema's date and
// datetime types take them; zoned is false for one without an offset,
// whose clock is local to nobody knows where.
func ParseISODatetime(s string) (t time.Time, zoned, ok bool) {
	for _, layout := range zonedLayouts {
		if t, err := time.Parse(layout, s); err == nil && ValidOffset(t, s) {
			return t, true, true
		}
	}
	for _, layout := range localLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, false, true
		}
	}
	return time.Time{}, false, false
}

// ParseZonedDate reads the XML Schema xs:date form with a timezone,
// 1965-12-09Z or 1965-12-09+01:00 (what JAXB prints for an
// XMLGregorianCalendar holding a date and a zone), as its calendar date as
// written (midnight UTC), the zone set aside as a date-time's offset is.
func ParseZonedDate(s string) (time.Time, bool) {
	t, err := time.Parse("2006-01-02Z07:00", s)
	if err != nil || !ValidOffset(t, s) {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}

// ValidOffset reports whether the offset of t, parsed from s, is one RFC
// 3339 allows: hours 00-23 and minutes 00-59 (Go's parser takes 24 hours,
// and 60 minutes, which it folds into the hours). The minutes are the last
// two characters of a numeric offset (+hh:mm, +hhmm).
func ValidOffset(t time.Time, s string) bool {
	_, off := t.Zone()
	minutesOK := strings.HasSuffix(s, "Z") || len(s) < 2 || s[len(s)-2] <= '5'
	return off > -24*3600 && off < 24*3600 && minutesOK
}

// parseDatetime accepts ISO 8601 with an offset or Z, with or without
// seconds and fractional seconds, the offset also as +hhmm, and a bare
// date (midnight UTC). A date-time without an offset is refused: which
// instant it means depends on a zone it does not name.
//
// The stored form is UTC, so a time whose UTC year leaves 0000-9999 (such
// as 9999-12-31T23:59:59-01:00) is refused: it could not be written back.
func parseDatetime(s string) (time.Time, error) {
	if t, zoned, ok := ParseISODatetime(s); ok && zoned {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return time.Time{}, fmt.Errorf("%q is outside years 0000-9999 in UTC, the stored form", s)
		}
		return t.UTC(), nil
	} else if ok {
		return time.Time{}, fmt.Errorf("%q has no offset: add Z (UTC) or one such as +02:00", s)
	}
	if t, err := time.Parse(DateLayout, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date-time (yyyy-MM-ddTHH:mm:ss.SSSZ)", s)
}

// normalize converts a value that passed JSON Schema validation to its stored
// form: booleans as bool, numbers as json.Number in canonical text, dates and
// datetimes in the canonical layouts, strings unchanged.
func normalize(t Type, v any) (any, error) {
	switch t {
	case TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			// Spaces around the word are ignored as around a numeric
			// string's digits (numberText).
			if b = strings.TrimSpace(b); strings.EqualFold(b, "true") || strings.EqualFold(b, "false") {
				return strings.EqualFold(b, "true"), nil
			}
		}
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case TypeInteger, TypeLong:
		bits, lo, hi := 32, int64(math.MinInt32), int64(math.MaxInt32)
		if t == TypeLong {
			bits, lo, hi = 64, math.MinInt64, math.MaxInt64
		}
		// Integral numbers written as 1.0 or 1e3 are integers too.
		var r *big.Rat
		text, ok := decimalText(v)
		if ok {
			r, ok = new(big.Rat).SetString(text)
		}
		if !ok || !r.IsInt() || !r.Num().IsInt64() || r.Num().Int64() < lo || r.Num().Int64() > hi {
			return nil, fmt.Errorf("%v is not a %d-bit integer", v, bits)
		}
		return json.Number(strconv.FormatInt(r.Num().Int64(), 10)), nil
	case TypeDouble:
		var f float64
		text, ok := decimalText(v)
		if ok {
			var err error
			f, err = strconv.ParseFloat(text, 64)
			ok = err == nil
		}
		if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%v is not a finite number", v)
		}
		if f == 0 {
			f = 0 // -0 is 0, as for amounts: stored and indexed in one form, so -0 and 0 find each other
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	case TypeCurrency:
		// Amounts are exact decimals with at most 4 places, stored in one
		// form (1.50 and 1.5 are one amount, -0 is 0) so they compare and
		// index alike.
		var r *big.Rat
		text, ok := decimalText(v)
		if ok {
			r, ok = new(big.Rat).SetString(text)
		}
		if !ok || !new(big.Rat).Mul(r, big.NewRat(10000, 1)).IsInt() {
			return nil, fmt.Errorf("%v is not an amount with at most 4 decimals", v)
		}
		text = strings.TrimSuffix(strings.TrimRight(r.FloatString(4), "0"), ".")
		if len(text) > jsonw.MaxNumberLength { // 1e399 is short only as written
			return nil, fmt.Errorf("%v is an amount of %d characters written out (at most %d)", v, len(text), jsonw.MaxNumberLength)
		}
		return json.Number(text), nil
	case TypeDate:
		if s, ok := v.(string); ok {
			d, err := parseDate(s)
			if err != nil {
				return nil, err
			}
			return d.UTC().Format(DateLayout), nil
		}
	case TypeDatetime:
		if s, ok := v.(string); ok {
			d, err := parseDatetime(s)
			if err != nil {
				return nil, err
			}
			return d.Format(DatetimeLayout), nil
		}
	}
	return nil, fmt.Errorf("%v is not a %s", v, t)
}

// Retyped returns v, a value stored for a, in the form a write under a's
// type now stores it, and whether that differs from v: a reload may change
// an attribute's type (UCS lets an administrator retype one), and values
// written before keep their old form (a string "2020-05-10T00:00:00.000Z"
// of an attribute now a date, "007" of one now an integer) until their
// customer is written again. Read so, they are identified, matched and
// indexed as values written now are. A value the type cannot take (a
// word under a date) is left as stored. Strings under the string type,
// nearly every value, cost one type switch.
func (a *Attribute) Retyped(v any) (any, bool) {
	t := a.valueType()
	if t == "" || v == nil {
		return v, false
	}
	if list, ok := v.([]any); ok && a.MultiValued {
		if !slices.ContainsFunc(list, func(item any) bool { return !inForm(t, item) }) {
			return v, false
		}
	} else if !a.MultiValued && inForm(t, v) {
		return v, false
	}
	nv, err := normalizeAttribute(a, v)
	if err != nil || reflect.DeepEqual(nv, v) { // double and currency: in form, though not said so above
		return v, false
	}
	return nv, true
}

// inForm reports, cheaply, whether v is already what normalize makes of it
// under type t (what a write under t stored): reads check every value
// stored, and nearly all are. Types whose form takes as long to check as
// to make (double, currency) say no.
func inForm(t Type, v any) bool {
	switch t {
	case TypeString:
		_, ok := v.(string)
		return ok
	case TypeBoolean:
		_, ok := v.(bool)
		return ok
	case TypeInteger, TypeLong:
		n, ok := v.(json.Number)
		if !ok || !canonicalInteger(string(n)) {
			return false
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		return err == nil && (t == TypeLong || i >= math.MinInt32 && i <= math.MaxInt32)
	case TypeDate:
		s, ok := v.(string)
		return ok && shapedAs(s, DateLayout)
	case TypeDatetime:
		s, ok := v.(string)
		return ok && shapedAs(s, DatetimeLayout)
	}
	return false
}

// canonicalInteger reports whether s is an integer as FormatInt writes it:
// an optional minus, no leading zero, not -0.
func canonicalInteger(s string) bool {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] == '0' && (len(digits) > 1 || len(s) > len(digits)) {
		return false
	}
	return strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// shapedAs reports whether s has the shape of layout: a digit where it has
// one, its other bytes as they are. That is enough for inForm: such a
// string is either a valid date in the layout, which normalize gives back
// unchanged, or no date at all, which normalize refuses (so Retyped leaves
// it as stored either way). Parsing and formatting it instead was 3-4 % of
// an eGain search's CPU (a profile read checks every stored date).
func shapedAs(s, layout string) bool {
	if len(s) != len(layout) {
		return false
	}
	for i := 0; i < len(layout); i++ {
		if isDigit(layout[i]) != isDigit(s[i]) || !isDigit(layout[i]) && layout[i] != s[i] {
			return false
		}
	}
	return true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// decimalPattern is a number as people write it in a string: a sign,
// decimal digits (leading zeros allowed), a fraction (5. and .5 too), an
// exponent. The parsers
// behind normalize take more (0x10, 0b101, 1_000, 1/2, Inf), which no
// client means.
var decimalPattern = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// isDecimal reports whether v, a number or a numeric string, is written
// in decimal (a JSON number always is).
// decimalText is v's number text, and whether it is a decimal within
// jsonw's bounds (length, exponent). The bounds are checked before big.Rat
// or ParseFloat see the text: checkNumbers bounds number literals only,
// and a numeric string like "1e999999" made big.Rat build a million-digit
// number (121 ms for one value; a 45 KB body of such strings took 20 s).
func decimalText(v any) (string, bool) {
	text := numberText(v)
	return text, isDecimal(v) && jsonw.CheckNumber(text) == nil
}

func isDecimal(v any) bool {
	s, isString := v.(string)
	return !isString || decimalPattern.MatchString(strings.TrimSpace(s))
}

func numberText(v any) string {
	switch n := v.(type) {
	case json.Number:
		return n.String()
	case string:
		return strings.TrimSpace(n)
	case float64:
		return strconv.FormatFloat(n, 'g', -1, 64)
	case int:
		return strconv.Itoa(n)
	case int64:
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprint(v)
}

// IndexText renders a stored value as the text identification indexes hold.
// Matching is case-insensitive (e-mail addresses and names are looked up the
// way people type them), so text is case-folded (Fold).
//
// Every index entry in a store was computed by this function: a change of
// what it returns for any value must change IndexTextVersion, or stores
// indexed before keep entries that queries no longer find.
func IndexText(v any) string {
	switch x := v.(type) {
	case string:
		return Fold(x)
	case bool:
		return strconv.FormatBool(x)
	default:
		return numberText(v)
	}
}

// IndexTextVersion names the text IndexText makes. The index manifest
// records it for every identification key (profile.manifestOf), so that a
// store whose entries an earlier release computed otherwise is re-indexed
// at the first start of this one. "" was strings.ToLower (the releases
// without text versions); "fold" is Unicode full case folding.
const IndexTextVersion = "fold"

// foldCase is Unicode full case folding. Unlike the language-specific
// Casers of x/text/cases, the one Fold returns is documented stateless and
// safe for concurrent use (its transformer keeps its state on the stack of
// each call), so one serves every goroutine; TestFold_Concurrent runs it
// under -race.
var foldCase = cases.Fold()

// Fold returns s under Unicode full case folding (CaseFolding.txt, status
// C and F; no Turkic mappings): "ΠΑΠΑΔΌΠΟΥΛΟΣ" and "Παπαδόπουλος" both
// become "παπαδόπουλοσ", "STRASSE" and "straße" both "strasse". Lower-casing
// is not enough for that (a final sigma stays ς, ß stays ß). It is the
// identity identification matching uses: whatever must agree with the
// indexes (unique keys, record identity, e-mail de-duplication) compares
// Fold of both sides. Text is not normalised (NFC and NFD spellings of "é"
// stay apart, as they were).
//
// Text is lower-cased (strings.ToLower) before it is folded, so that
// whatever earlier releases matched still matches: folding alone takes İ
// to "i" and a combining dot (İBRAHİM no longer found ibrahim, as
// lower-casing did) and folds Cherokee capitals and small letters to each
// other's case (x/text: Fold("Ꭰ") is "ꭰ" but Fold("ꭰ") is "Ꭰ"), never
// alike (TestFold_MatchesWhatLowerCasingMatched).
//
// ASCII text takes strings.ToLower, which folds it alike (TestFold checks
// every byte) and is what releases before folding stored, so ASCII entries
// stay valid; and the fast path matters: BenchmarkIndexText (2 shared
// cores) has an ASCII e-mail address at ~60 ns through it (ToLower alone
// ~45) against ~850 ns and 272 B through the Caser, which allocates a
// buffer whatever the text. Non-ASCII text costs ~450-750 ns either way.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return foldCase.String(strings.ToLower(s))
		}
	}
	return strings.ToLower(s)
}

// AttributeTexts is IndexTexts of attribute name of row (core attributes,
// or a record), whose stored spelling may differ in case: names ignore
// case, and a reload may re-case a declared name while data keeps the old
// spelling until it is written. The exact spelling first, as reads under
// the live schema have it, then any other: index builds and checks walk
// stored data as it is.
func AttributeTexts(row map[string]any, name string) []string {
	if v, ok := row[name]; ok {
		return IndexTexts(v)
	}
	for k, v := range row {
		if strings.EqualFold(k, name) {
			return IndexTexts(v)
		}
	}
	return IndexTexts(nil)
}

// IndexTexts returns the index texts of a stored attribute value: "" when
// absent (so a key's shorter prefixes still find the profile), one per value
// of a multi-valued attribute.
func IndexTexts(v any) []string {
	switch x := v.(type) {
	case nil:
		return []string{""}
	case []any:
		if len(x) == 0 {
			return []string{""}
		}
		out := make([]string, len(x))
		for i, item := range x {
			out[i] = IndexText(item)
		}
		return out
	default:
		return []string{IndexText(x)}
	}
}
