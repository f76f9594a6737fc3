package api

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// maxIdentifyFilters bounds attribute filters in one identify request.
const maxIdentifyFilters = 32

// identify answers GET /profiles?... (spec §3.5). Every query parameter that
// is not one of the reserved names below is an attribute filter.
func (h *Handler) identify(c echo.Context) error {
	tenant, err := Tenant(c.Request())
	if err != nil {
		return err
	}
	q, err := parseIdentify(c)
	if err != nil {
		return err
	}
	result, err := h.profiles.Identify(c.Request().Context(), tenant, q)
	if err != nil {
		return err
	}
	if result.Truncated {
		c.Response().Header().Set("X-Result-Truncated", "true")
	}
	sc := h.profiles.Schema()
	return writeJSONWith(c, http.StatusOK, func(b []byte) []byte {
		b = append(b, '[')
		for i, p := range result.Profiles {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendProfile(b, sc, p, q.IncludeProfile)
		}
		return append(b, ']')
	})
}

func parseIdentify(c echo.Context) (profile.IdentifyQuery, error) {
	var q profile.IdentifyQuery
	params := c.QueryParams()
	reserved := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(params)) { // errors name the same parameter every time
		values := params[name]
		if !utf8.ValidString(name) || slices.ContainsFunc(values, func(v string) bool { return !utf8.ValidString(v) }) {
			return q, errs.Invalid(CodeInvalidUTF8, "", "query parameter %q is not UTF-8 once decoded", strings.ToValidUTF8(name, "\uFFFD"))
		}
		lower := schema.LowerASCII(name)
		if len(values) > 1 || reserved[lower] {
			return q, errs.Invalid(CodeBadParameter, name, "query parameter %q is given more than once", name)
		}
		v := values[0]
		switch lower {
		case "id_key", "include_profile", "extensions", "include_extensions":
			reserved[lower] = true
		}
		switch lower {
		case "id_key":
			if v == "" {
				return q, errs.Invalid(CodeBadParameter, name, "id_key has no value")
			}
			q.Key = v
		case "include_profile":
			switch schema.LowerASCII(v) {
			case "yes", "true":
				q.IncludeProfile = true
			case "no", "false", "":
			default:
				return q, errs.Invalid(CodeBadParameter, name, "include_profile must be yes or no")
			}
		case "extensions":
			q.Extensions = splitList(v)
		case "include_extensions":
			switch schema.LowerASCII(v) {
			case "always", "":
			case "unique":
				q.OnlyIfUnique = true
			default:
				return q, errs.Invalid(CodeBadParameter, name, "include_extensions must be always or unique")
			}
		default:
			if v == "" {
				return q, errs.Invalid(CodeBadParameter, name, "identify parameter %q has no value", name)
			}
			if len(q.Filters) == maxIdentifyFilters {
				return q, errs.Invalid(CodeBadParameter, name, "at most %d attribute filters are allowed", maxIdentifyFilters)
			}
			f, ok := profile.ParseFilter(name, v)
			if !ok {
				return q, errs.Invalid(CodeBadParameter, name, "identify parameter %q is neither an attribute nor extension.attribute", name)
			}
			q.Filters = append(q.Filters, f)
		}
	}
	return q, nil
}
