package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/schema"
)

// The metadata views follow the vendor's list responses (spec §5):
// "mandatory" is the string "true"/"false" as in the vendor samples, and
// keys on an extension list their attributes as ext.attr.

type attributeView struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Default     any    `json:"default,omitempty"`
	Length      int    `json:"length,omitempty"`
	Mandatory   string `json:"mandatory"`
	MultiValued bool   `json:"multi_valued,omitempty"`
	// Aliases are the other names the attribute is accepted under, so a
	// view posted back (a schema copied elsewhere) accepts what this does.
	Aliases []string `json:"aliases,omitempty"`
}

type extensionView struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Required   bool            `json:"required"`
	Attributes []attributeView `json:"attributes"`
	Unique     []string        `json:"unique,omitempty"`
	Origin     string          `json:"origin"`
}

type keyView struct {
	Name       string   `json:"name"`
	Source     string   `json:"source,omitempty"`
	Attributes []string `json:"attributes"`
	Unique     bool     `json:"unique"`
	Origin     string   `json:"origin"`
}

func viewAttributes(attrs []schema.Attribute) []attributeView {
	out := make([]attributeView, len(attrs))
	for i, a := range attrs {
		out[i] = attributeView{Name: a.Name, Type: string(a.Type), Default: a.Default, Length: a.Length,
			Mandatory: strconv.FormatBool(a.Mandatory), MultiValued: a.MultiValued, Aliases: a.Aliases}
	}
	return out
}

func viewExtension(e *schema.Extension) extensionView {
	required := false
	for _, a := range e.Attributes {
		required = required || a.Mandatory
	}
	return extensionView{Name: e.Name, Type: string(e.Kind), Required: required,
		Attributes: viewAttributes(e.Attributes), Unique: e.Unique, Origin: string(e.Origin)}
}

func viewKey(k *schema.IdentificationKey) keyView {
	v := keyView{Name: k.Name, Source: k.Source, Unique: k.Unique, Origin: string(k.Origin)}
	for _, a := range k.Attributes {
		if k.Source != "" {
			a = k.Source + "." + a
		}
		v.Attributes = append(v.Attributes, a)
	}
	return v
}

func (h *Handler) profileSchema(c echo.Context) error {
	return c.JSON(http.StatusOK, viewAttributes(h.profiles.Schema().Def.Profile))
}

func (h *Handler) listExtensions(c echo.Context) error {
	def := h.profiles.Schema().Def
	out := make([]extensionView, len(def.Extensions))
	for i := range def.Extensions {
		out[i] = viewExtension(&def.Extensions[i])
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) getExtension(c echo.Context) error {
	e, ok := h.profiles.Schema().Extension(c.Param("name"))
	if !ok {
		return errs.NotFound("EXTENSION_NOT_FOUND", "extension %q is not defined", c.Param("name"))
	}
	return c.JSON(http.StatusOK, viewExtension(e))
}

func (h *Handler) createExtension(c echo.Context) error {
	var doc schema.ExtensionDoc
	if err := decodeStrict(c, &doc, schema.CodeInvalidSchema); err != nil {
		return err
	}
	e, err := h.profiles.CreateExtension(c.Request().Context(), doc)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, childLocation(c, e.Name))
	return c.JSON(http.StatusCreated, map[string]string{"name": e.Name})
}

func (h *Handler) deleteExtension(c echo.Context) error {
	if err := h.profiles.DeleteExtension(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) listKeys(c echo.Context) error {
	keys := h.profiles.Schema().Keys()
	out := make([]keyView, len(keys))
	for i := range keys {
		out[i] = viewKey(&keys[i])
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) getKey(c echo.Context) error {
	k, ok := h.profiles.Schema().Key(c.Param("key"))
	if !ok {
		return errs.NotFound("IDENTIFICATION_KEY_NOT_FOUND", "identification key %q is not defined", c.Param("key"))
	}
	return c.JSON(http.StatusOK, viewKey(k))
}

func (h *Handler) createKey(c echo.Context) error {
	var doc schema.KeyDoc
	if err := decodeStrict(c, &doc, schema.CodeInvalidSchema); err != nil {
		return err
	}
	k, err := h.profiles.CreateKey(c.Request().Context(), doc)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, childLocation(c, k.Name))
	return c.JSON(http.StatusCreated, map[string]string{"name": k.Name})
}

func (h *Handler) deleteKey(c echo.Context) error {
	if err := h.profiles.DeleteKey(c.Request().Context(), c.Param("key")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
