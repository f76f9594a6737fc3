package egain

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/errs"
)

// AttributeInfo describes one attribute of the customer resource in the
// answer of GET /interaction/customer/attributes (vendor since 11.6).
type AttributeInfo struct {
	Name string `json:"name" xml:"name"`
	// Level is where the attribute sits: customer, contactPerson or
	// contactPoint.
	Level string `json:"level" xml:"level"`
	// Kind is summary (always returned), extra (returned when $attribute
	// names it) or custom (a configured custom attribute; at customer level
	// requested as custom.<name>).
	Kind string `json:"kind" xml:"kind"`
}

// attributesXML is the XML form: <attributes xmlns="…/common"><attribute>….
type attributesXML struct {
	XMLName    xml.Name        `xml:"attributes"`
	NS         string          `xml:"xmlns,attr"`
	Attributes []AttributeInfo `xml:"attribute"`
}

// attributeSets are the $attribute values of the vendor's call this facade
// answers, and which attributes each selects.
var attributeSets = map[string]func(AttributeInfo) bool{
	"all":            func(AttributeInfo) bool { return true },
	"custom":         func(a AttributeInfo) bool { return a.Kind == "custom" && a.Level == "customer" },
	"contactPersons": func(a AttributeInfo) bool { return a.Level != "customer" },
	// The vendor's lists of configured values (countries, industries,
	// levels, group types and regions) are not kept by profiled: nothing
	// is configured, so these answer 204 as the vendor does then.
	"type": func(AttributeInfo) bool { return false }, "country": func(AttributeInfo) bool { return false },
	"industry": func(AttributeInfo) bool { return false }, "level": func(AttributeInfo) bool { return false },
}

// customerAttributes lists what the facade supports, configured custom
// attributes included.
func (f *Facade) customerAttributes() []AttributeInfo {
	var out []AttributeInfo
	for _, name := range []string{"id", "link", "cases", "customerName", "department", "type", "lastModified", "contactPersons"} {
		out = append(out, AttributeInfo{name, "customer", "summary"})
	}
	for _, name := range extraAttributes {
		out = append(out, AttributeInfo{name, "customer", "extra"})
	}
	for _, level := range []struct {
		name  string
		attrs []string
	}{
		{"customer", f.cfg.CustomAttributes.Customer},
		{"contactPerson", f.cfg.CustomAttributes.ContactPerson},
		{"contactPoint", f.cfg.CustomAttributes.ContactPoint},
	} {
		for _, name := range level.attrs {
			out = append(out, AttributeInfo{name, level.name, "custom"})
		}
	}
	return out
}

// attributes serves GET /interaction/customer/attributes[?$attribute=…].
func (f *Facade) attributes(c echo.Context) error {
	format, err := negotiate(c)
	if err != nil {
		return err
	}
	id := sessionID(c.Request())
	if _, err := f.sessions.touch(id); err != nil {
		return err // no permission is needed, only a session
	}
	vals, names, err := singleValues(c.QueryParams())
	if err != nil {
		return err
	}
	for _, name := range names {
		if name != "$attribute" {
			return errs.Invalid(CodeUnknownParameter, name, "unknown query parameter %q", name)
		}
	}
	set := "all"
	if v, ok := vals["$attribute"]; ok {
		set = v
	}
	keep, ok := attributeSets[set]
	if !ok {
		return errs.Invalid(CodeInvalidParameter, "$attribute", "$attribute must be one of all, custom, contactPersons, type, country, industry, level")
	}
	var list []AttributeInfo
	for _, a := range f.customerAttributes() {
		if keep(a) {
			list = append(list, a)
		}
	}
	c.Response().Header().Set(SessionHeader, id)
	if len(list) == 0 {
		return noContent(c, format, id, http.StatusNoContent)
	}
	var buf bytes.Buffer
	if format == FormatJSON {
		err = json.NewEncoder(&buf).Encode(map[string][]AttributeInfo{"attribute": list})
	} else {
		buf.WriteString(xml.Header)
		err = xml.NewEncoder(&buf).Encode(attributesXML{NS: NSCommon, Attributes: list})
	}
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, format.ContentType(), buf.Bytes())
}
