package egain

import (
	"mime"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/internal/textenc"
)

// Paging defaults and bounds of the common parameters (spec §7).
const (
	DefaultPageSize = 25
	MaxPageSize     = 75
	MaxIDs          = 75
	maxActivitySpan = 14 * 24 * time.Hour
	// maxStart bounds $pagenum and $rangestart so offsets fit in 32 bits.
	maxStart = 9_999_999
)

// Page is the window of results to return, 0-based.
type Page struct {
	Offset, Limit int
}

// TimeRange is an inclusive range; a zero bound is open.
type TimeRange struct {
	From, To time.Time
}

// Contains reports whether t lies within the range, bounds included.
func (r TimeRange) Contains(t time.Time) bool {
	return (r.From.IsZero() || !t.Before(r.From)) && (r.To.IsZero() || !t.After(r.To))
}

// ActivityCriterion is the activity search criterion. eGain fixes every
// property but the date range; they are kept so the meaning stays explicit.
type ActivityCriterion struct {
	Type     string // always "email"
	Mode     string // always "outbound"
	IsRead   bool   // always false
	IsSecure bool   // always true
	SentDate TimeRange
}

// Attributes is the parsed $attribute parameter: the extra attributes to
// return on top of the summary (spec §3.5).
type Attributes struct {
	All   bool
	Names []string // e.g. "level", "custom.loyaltyId"
}

// Has reports whether attribute name was requested.
func (a Attributes) Has(name string) bool {
	return a.All || slices.Contains(a.Names, name)
}

// SearchQuery is a validated customer search (spec §6). Criteria combine
// with AND; at least one is set.
type SearchQuery struct {
	Phone      string            // "" when not given
	Email      string            // "" when not given
	Custom     map[string]string // custom attribute name → value
	Activity   *ActivityCriterion
	Created    *TimeRange
	Page       Page
	Sort       string // "" for the store's order
	Desc       bool
	Attributes Attributes
}

// GetQuery is a validated get-by-IDs request (spec §5.3).
type GetQuery struct {
	IDs        []string // canonical decimal, duplicates removed, in request order
	Sort       string
	Desc       bool
	Attributes Attributes
}

var (
	sortFields      = []string{"id", "type", "customerName", "created", "lastModified"}
	extraAttributes = []string{"level", "preferredAgent", "role", "pin", "howReferred", "created", "createdBy", "industry", "marketSegment", "entitlements"}
	pagingParams    = []string{"$pagenum", "$pagesize"}
	rangeParams     = []string{"$rangestart", "$rangesize"}
)

func badParam(name, format string, args ...any) *errs.Error {
	return errs.Invalid(CodeInvalidParameter, name, format, args...)
}

func unknownParam(name string) *errs.Error {
	return errs.Invalid(CodeUnknownParameter, name, "query parameter %q is not supported", name)
}

// singleValues flattens q, refusing repeated parameters, and returns the
// names sorted so the first error reported does not depend on map order.
func singleValues(q url.Values) (map[string]string, []string, error) {
	vals := make(map[string]string, len(q))
	names := make([]string, 0, len(q))
	for name, vs := range q {
		names = append(names, name)
		if len(vs) != 1 {
			return nil, nil, errs.Invalid(CodeRepeatedParameter, name, "query parameter %q is given more than once", name)
		}
		if !utf8.ValidString(vs[0]) { // no stored value is such text: a search by it is a client's mistake
			return nil, nil, badParam(name, "query parameter %q is not UTF-8 once decoded", strings.ToValidUTF8(name, "\uFFFD"))
		}
		vals[name] = vs[0]
	}
	sort.Strings(names)
	return vals, names, nil
}

// ParseSearchQuery validates the query of GET /interaction/customer?....
// customAttrs are the configured customer-level custom attribute names.
func ParseSearchQuery(q url.Values, customAttrs []string) (*SearchQuery, error) {
	vals, names, err := singleValues(q)
	if err != nil {
		return nil, err
	}
	sq := &SearchQuery{}
	for _, name := range names {
		if strings.HasPrefix(name, "$") {
			continue
		}
		if err := sq.criterion(name, vals[name], customAttrs); err != nil {
			return nil, err
		}
	}
	if sq.Phone == "" && sq.Email == "" && sq.Custom == nil && sq.Activity == nil && sq.Created == nil {
		return nil, errs.Invalid(CodeMissingCriterion, "", "at least one search criterion (phone, email, custom.<name>, activity, created) is required")
	}
	c, err := parseCommon(vals, names, customAttrs, true)
	if err != nil {
		return nil, err
	}
	sq.Page, sq.Sort, sq.Desc, sq.Attributes = c.page, c.sort, c.desc, c.attributes
	return sq, nil
}

func (sq *SearchQuery) criterion(name, value string, customAttrs []string) error {
	if value == "" {
		return badParam(name, "query parameter %q must not be empty", name)
	}
	switch name {
	case "phone":
		sq.Phone = value
	case "email":
		sq.Email = value
	case "created":
		r, err := parseRange(name, value, true)
		if err != nil {
			return err
		}
		sq.Created = &r
	case "activity":
		a, err := parseActivity(value)
		if err != nil {
			return err
		}
		sq.Activity = a
	default:
		attr, ok := strings.CutPrefix(name, "custom.")
		if !ok {
			return unknownParam(name)
		}
		if !slices.Contains(customAttrs, attr) {
			return badParam(name, "custom attribute %q is not configured", attr)
		}
		if sq.Custom == nil {
			sq.Custom = map[string]string{}
		}
		sq.Custom[attr] = value
	}
	return nil
}

// ParseGetByIDs validates the {IDs} path segment and the query of
// GET /interaction/customer/{IDs}, which takes only $attribute, $sort and
// $order.
func ParseGetByIDs(ids string, q url.Values, customAttrs []string) (*GetQuery, error) {
	list, err := parseIDs(ids)
	if err != nil {
		return nil, err
	}
	vals, names, err := singleValues(q)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if slices.Contains(pagingParams, name) || slices.Contains(rangeParams, name) || !strings.HasPrefix(name, "$") {
			return nil, unknownParam(name)
		}
	}
	c, err := parseCommon(vals, names, customAttrs, false)
	if err != nil {
		return nil, err
	}
	return &GetQuery{IDs: list, Sort: c.sort, Desc: c.desc, Attributes: c.attributes}, nil
}

// customerNum reads a customer id as GET and PUT take it alike: digits
// (ok), naming a customer id can have: 1 to 2^63-1 (inRange; leading zeros
// allowed).
func customerNum(s string) (n uint64, ok, inRange bool) {
	if !isDigits(s, len(s)) {
		return 0, false, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v == 0 {
		return 0, true, false
	}
	return uint64(v), true, true
}

func parseIDs(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) > MaxIDs {
		return nil, errs.Invalid(CodeLimitExceeded, "IDs", "at most %d customer ids may be requested at once", MaxIDs)
	}
	var ids []string
	for _, p := range parts {
		n, ok, inRange := customerNum(p)
		if !ok {
			return nil, errs.Invalid(CodeInvalidValue, "IDs", "customer id %q is not a number", p)
		}
		if !inRange {
			return nil, errs.Invalid(CodeInvalidValue, "IDs", "customer id %q is out of range", p)
		}
		id := strconv.FormatUint(n, 10)
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

type common struct {
	page       Page
	sort       string
	desc       bool
	attributes Attributes
}

// parseCommon reads the $ parameters; any other $ name is unsupported.
func parseCommon(vals map[string]string, names, customAttrs []string, paging bool) (common, error) {
	c := common{page: Page{Limit: DefaultPageSize}}
	for _, name := range names {
		v := vals[name]
		var err error
		switch {
		case !strings.HasPrefix(name, "$"):
			continue
		case name == "$sort":
			c.sort, err = parseSort(v, customAttrs)
		case name == "$order":
			c.desc, err = parseOrder(v)
		case name == "$attribute":
			c.attributes, err = parseAttributes(v, customAttrs)
		case paging && (slices.Contains(pagingParams, name) || slices.Contains(rangeParams, name)):
			continue // read together below
		default:
			err = unknownParam(name)
		}
		if err != nil {
			return c, err
		}
	}
	if _, ok := vals["$order"]; ok && c.sort == "" {
		return c, badParam("$order", "$order requires $sort")
	}
	if paging {
		page, err := parsePage(vals)
		if err != nil {
			return c, err
		}
		c.page = page
	}
	return c, nil
}

func parseSort(v string, customAttrs []string) (string, error) {
	if slices.Contains(sortFields, v) {
		return v, nil
	}
	if name, ok := strings.CutPrefix(v, "custom."); ok && slices.Contains(customAttrs, name) {
		return v, nil
	}
	return "", badParam("$sort", "$sort must be one of %s or custom.<name>, not %q", strings.Join(sortFields, ", "), v)
}

func parseOrder(v string) (bool, error) {
	switch v {
	case "asc":
		return false, nil
	case "desc":
		return true, nil
	}
	return false, badParam("$order", "$order must be asc or desc, not %q", v)
}

func parseAttributes(v string, customAttrs []string) (Attributes, error) {
	var a Attributes
	for name := range strings.SplitSeq(v, ",") {
		custom, isCustom := strings.CutPrefix(name, "custom.")
		switch {
		case name == "all":
			a.All = true
		case slices.Contains(extraAttributes, name), isCustom && slices.Contains(customAttrs, custom):
			if !slices.Contains(a.Names, name) {
				a.Names = append(a.Names, name)
			}
		default:
			return Attributes{}, badParam("$attribute", "$attribute value %q is not supported", name)
		}
	}
	return a, nil
}

// parsePage reads $pagenum/$pagesize or $rangestart/$rangesize, never both.
func parsePage(vals map[string]string) (Page, error) {
	has := func(names []string) bool {
		return slices.ContainsFunc(names, func(n string) bool { _, ok := vals[n]; return ok })
	}
	if has(pagingParams) && has(rangeParams) {
		return Page{}, badParam("$rangestart", "pagination ($pagenum, $pagesize) and range ($rangestart, $rangesize) parameters cannot be mixed")
	}
	first, size := "$pagenum", "$pagesize"
	if has(rangeParams) {
		first, size = "$rangestart", "$rangesize"
	}
	start, err := positive(vals, first, 1, maxStart)
	if err != nil {
		return Page{}, err
	}
	limit, err := positive(vals, size, DefaultPageSize, MaxPageSize)
	if err != nil {
		return Page{}, err
	}
	if first == "$pagenum" {
		return Page{Offset: (start - 1) * limit, Limit: limit}, nil
	}
	return Page{Offset: start - 1, Limit: limit}, nil
}

// positive reads an integer parameter in [1, max], or def when absent.
// Only plain digits are accepted: no sign, no spaces.
func positive(vals map[string]string, name string, def, max int) (int, error) {
	v, ok := vals[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if !isDigits(v, 10) || err != nil || n < 1 || n > max {
		return 0, badParam(name, "%s must be an integer from 1 to %d", name, max)
	}
	return n, nil
}

// parseRange reads "[start,end]" (spec §7): inclusive ISO-8601 bounds, one
// of which may be empty. A date-only end covers that whole day. A space
// stands for '+': an offset like +05:30 sent unencoded arrives decoded as
// a space, and a date-time has no other use for one.
func parseRange(name, v string, wholeEnd bool) (TimeRange, error) {
	v = strings.ReplaceAll(v, " ", "+")
	inner, ok := strings.CutPrefix(v, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "]")
	}
	start, end, comma := strings.Cut(inner, ",")
	if !ok || !comma || strings.Contains(end, ",") {
		return TimeRange{}, badParam(name, "%s must be a range [start,end]", name)
	}
	if start == "" && end == "" {
		return TimeRange{}, badParam(name, "%s needs at least one bound", name)
	}
	var r TimeRange
	if start != "" {
		t, ok := parseISO(start)
		if !ok {
			return TimeRange{}, badParam(name, "%s start %q is not an ISO-8601 date or date-time", name, start)
		}
		r.From = t
	}
	if end != "" {
		t, ok := parseISO(end)
		if !ok {
			return TimeRange{}, badParam(name, "%s end %q is not an ISO-8601 date or date-time", name, end)
		}
		switch {
		case len(end) == len(time.DateOnly):
			t = t.Add(24*time.Hour - time.Nanosecond)
		case wholeEnd:
			t = t.Add(precision(end) - time.Nanosecond)
		}
		r.To = t
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.From.After(r.To) {
		return TimeRange{}, badParam(name, "%s start is after its end", name)
	}
	return r, nil
}

// precision is the unit of the last digit of date-time s: an inclusive end
// of created covers it whole, so a bound copied from a customer's created
// (shown in milliseconds, stored in nanoseconds) includes that customer.
// The activity range keeps date-time ends exact, for its 14-day limit; a
// date-only end still covers its day, so [d,d+13] is the longest range of
// dates.
func precision(s string) time.Duration {
	_, clock, _ := strings.Cut(strings.ToUpper(s), "T")
	if i := strings.IndexAny(clock, "Z+-"); i >= 0 {
		clock = clock[:i]
	}
	if _, frac, ok := strings.Cut(clock, "."); ok {
		d := time.Second
		for range min(len(frac), 9) {
			d /= 10
		}
		return d
	}
	return time.Second // parseISO takes seconds always
}

// activityFixed are the properties eGain only accepts with one value.
var activityFixed = map[string]string{"type": "email", "isRead": "false", "isSecure": "true", "mode": "outbound"}

// parseActivity reads the activity criterion, a URL-encoded JSON object.
// Booleans may be JSON booleans or strings.
func parseActivity(v string) (*ActivityCriterion, error) {
	root, err := parseJSONTree([]byte(v), Limits{MaxDepth: 2, MaxElements: 16}, "activity")
	if err != nil || root.shape != shapeObject {
		return nil, badParam("activity", "activity must be a JSON object")
	}
	got := map[string]string{}
	for _, k := range root.kids {
		if _, fixed := activityFixed[k.name]; (!fixed && k.name != "sentDate") || k.shape != shapeScalar {
			return nil, badParam("activity."+k.name, "activity property %q is not supported", k.name)
		}
		got[k.name] = string(k.text)
	}
	for _, name := range []string{"type", "isRead", "isSecure", "mode"} {
		if got[name] != activityFixed[name] {
			return nil, badParam("activity."+name, "activity.%s must be %q", name, activityFixed[name])
		}
	}
	sent, ok := got["sentDate"]
	if !ok {
		return nil, badParam("activity.sentDate", "activity.sentDate is required")
	}
	r, err := parseRange("activity.sentDate", sent, false)
	if err != nil {
		return nil, err
	}
	if r.From.IsZero() || r.To.IsZero() || r.To.Sub(r.From) > maxActivitySpan {
		return nil, badParam("activity.sentDate", "activity.sentDate must be a closed range of at most 14 days")
	}
	return &ActivityCriterion{Type: "email", Mode: "outbound", IsSecure: true, SentDate: r}, nil
}

// SupportedLanguages are the Accept-Language values the facade serves
// (spec §9); the first is the default.
var SupportedLanguages = []string{"en-US", "es-ES", "fr-FR", "it-IT", "de-DE", "nl-NL", "pt-BR", "pt-PT", "da-DK", "ru-RU", "fr-CA", "zh-CN", "ja-JP", "ko-KR", "sv-SE"}

// NegotiateLanguage picks the supported language the Accept-Language header
// prefers, ignoring case. An empty header, or "*", gets the default; a bare
// language ("fr") or an unsupported region of a supported language ("en-GB")
// gets the language's first supported region. Nothing acceptable → 406.
func NegotiateLanguage(header string) (string, error) {
	if strings.TrimSpace(header) == "" {
		return SupportedLanguages[0], nil
	}
	best, bestQ := "", 0.0
	for part := range strings.SplitSeq(header, ",") {
		tag, q, ok := weighted(part)
		if !ok || q <= bestQ {
			continue
		}
		if lang := matchLanguage(tag); lang != "" {
			best, bestQ = lang, q
		}
	}
	if best == "" {
		return "", errs.Invalid(CodeUnsupportedLanguage, "Accept-Language", "Accept-Language %q names no supported language", header)
	}
	return best, nil
}

func matchLanguage(tag string) string {
	if tag == "*" {
		return SupportedLanguages[0]
	}
	for _, l := range SupportedLanguages {
		if strings.EqualFold(l, tag) {
			return l
		}
	}
	want, _, _ := strings.Cut(tag, "-")
	for _, l := range SupportedLanguages {
		if primary, _, _ := strings.Cut(l, "-"); strings.EqualFold(primary, want) {
			return l
		}
	}
	return ""
}

// weighted splits "value;q=0.8" into value and weight (1 when absent).
func weighted(part string) (string, float64, bool) {
	value, params, _ := strings.Cut(part, ";")
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				return "", 0, false
			}
			q = f
		}
	}
	return strings.TrimSpace(value), q, true
}

// responseOffers are the media types an answer can have, in the order a
// tie prefers them: application/xml first, as for an absent Accept (spec
// §10 Q14); text/xml last, so that a client ruling out application/xml
// beside a wildcard gets JSON.
var responseOffers = []struct {
	typ, sub string
	format   Format
}{{"application", "xml", FormatXML}, {"application", "json", FormatJSON}, {"text", "xml", FormatTextXML}}

// ResponseFormat picks the response format from the Accept header as RFC
// 9110 §12.5.1 does: each offer takes the weight of the most specific range
// that matches it (so "application/xml;q=0, */*" rules XML out), the
// heaviest wins, a tie goes to the range listed first, then to XML. No
// offer with a weight above 0 → 406. An absent header means XML.
func ResponseFormat(accept string) (Format, error) {
	if strings.TrimSpace(accept) == "" {
		return FormatXML, nil
	}
	type mediaRange struct {
		typ, sub string
		q        float64
	}
	ranges := make([]mediaRange, 0, 8) // on the stack for the usual header: this runs on every eGain call
	for part := range strings.SplitSeq(accept, ",") {
		mt, q, ok := weighted(part)
		if !ok || mt == "" {
			continue
		}
		typ, sub, _ := strings.Cut(strings.ToLower(mt), "/")
		ranges = append(ranges, mediaRange{strings.TrimSpace(typ), strings.TrimSpace(sub), q})
	}
	best, bestQ, bestAt := FormatXML, 0.0, len(ranges)
	for _, o := range responseOffers {
		q, at, specificity := 0.0, -1, 0
		for i, r := range ranges {
			s := 0
			switch {
			case r.typ == o.typ && r.sub == o.sub:
				s = 3
			case r.typ == o.typ && r.sub == "*":
				s = 2
			case r.typ == "*" && r.sub == "*":
				s = 1
			}
			if s > specificity {
				q, at, specificity = r.q, i, s
			}
		}
		if q > bestQ || (q > 0 && q == bestQ && at < bestAt) {
			best, bestQ, bestAt = o.format, q, at
		}
	}
	if bestQ == 0 {
		return FormatXML, errs.Invalid(CodeNotAcceptable, "Accept", "Accept %q allows none of application/xml, application/json and text/xml", accept)
	}
	return best, nil
}

// RequestFormat maps a request Content-Type to a format, and the charset it
// names ("" if none): any the WHATWG Encoding standard knows (Apache
// HttpClient labels a body ISO-8859-1 unless told otherwise, .NET may send
// UTF-16), which the decoder turns into UTF-8 (JSON only where it is not
// UTF-8 already: textenc.JSON). Anything else → 415.
func RequestFormat(contentType string) (Format, string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err == nil {
		cs, named := params["charset"]
		format := FormatXML
		switch mt {
		case "application/json":
			format = FormatJSON
			fallthrough
		case "application/xml", "text/xml":
			if !named || textenc.Lookup(cs) != nil {
				return format, cs, nil
			}
			return format, "", errs.Invalid(CodeUnsupportedMediaType, "Content-Type", "Content-Type %q is not supported: bodies are read in UTF-8 or another charset of the WHATWG Encoding standard", contentType)
		}
	}
	return FormatXML, "", errs.Invalid(CodeUnsupportedMediaType, "Content-Type", "Content-Type %q is not supported; use application/xml or application/json", contentType)
}
