package egain

import (
	"bytes"
	"reflect"

	"github.com/contactcenter/profiled/errs"
)

// binder fills a struct from a node tree using the struct's egain tags.
// In XML mode names must match in their namespace and attributes are
// separate; in JSON mode namespaces do not exist and attributes are
// properties like any other.
type binder struct {
	xml bool
}

func unknownElement(path, format string, args ...any) *errs.Error {
	return errs.Invalid(CodeUnknownElement, path, format, args...)
}

// bindStruct fills v (a struct) from n, an element in namespace ns.
func (b binder) bindStruct(n *node, v reflect.Value, ns, path string) error {
	if n.shape == shapeNull { // a list item or the root: a field that is null is absent before it gets here
		return errs.Invalid(CodeInvalidValue, path, "%s must not be null", elementPhrase(path))
	}
	if err := b.checkContainer(n, path); err != nil {
		return err
	}
	fs := fieldsOf(v.Type())
	seen := make(map[int]bool, len(n.kids)+len(n.attrs))
	for _, a := range n.attrs {
		i := findField(fs, a.Name.Local, true)
		attrPath := joinPath(path, "@"+a.Name.Local)
		if i < 0 || a.Name.Space != "" {
			return unknownElement(attrPath, "unknown attribute %q on %s", a.Name.Local, elemName(path))
		}
		if seen[i] {
			return errs.Invalid(CodeDuplicateElement, attrPath, "attribute %q appears more than once", a.Name.Local)
		}
		seen[i] = true
		v.Field(fs[i].index).Set(reflect.ValueOf(&a.Value))
	}
	for _, k := range n.kids {
		kidPath := joinPath(path, k.name)
		i := findField(fs, k.name, !b.xml)
		if i < 0 {
			return unknownElement(kidPath, "unknown element %q", kidPath)
		}
		f := fs[i]
		if want := f.elemNS(ns); b.xml && k.space != want {
			return unknownElement(kidPath, "element %q is in namespace %q, expected %q", kidPath, k.space, want)
		}
		if seen[i] {
			return errs.Invalid(CodeDuplicateElement, kidPath, "element %q appears more than once", kidPath)
		}
		seen[i] = true
		if err := b.bindField(k, f, v.Field(f.index), ns, kidPath); err != nil {
			return err
		}
	}
	return nil
}

// findField returns the index in fs of the field called name, or -1.
// Attributes match only when withAttrs (always in JSON, never for XML elements).
func findField(fs []field, name string, withAttrs bool) int {
	for i, f := range fs {
		if f.name == name && (!f.attr || withAttrs) {
			return i
		}
	}
	return -1
}

func (b binder) bindField(k *node, f field, fv reflect.Value, ns, path string) error {
	if k.shape == shapeNull {
		return nil // JSON null reads as "absent"; clients clear a field with ""
	}
	if k.shape == shapeArray && f.kind != kindList {
		return errs.Invalid(CodeInvalidValue, path, "%s must not be an array", path)
	}
	switch f.kind {
	case kindString:
		s, err := b.scalar(k, path)
		if err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(&s))
		return nil
	case kindStruct:
		p := reflect.New(fv.Type().Elem())
		if err := b.bindStruct(k, p.Elem(), f.elemNS(ns), path); err != nil {
			return err
		}
		fv.Set(p)
		return nil
	default:
		return b.bindList(k, f, fv, ns, path)
	}
}

// scalar returns the text of a simple-content element or JSON scalar.
func (b binder) scalar(k *node, path string) (string, error) {
	if !b.xml {
		if k.shape != shapeScalar {
			return "", errs.Invalid(CodeInvalidValue, path, "%s must be a string", path)
		}
		return string(k.text), nil
	}
	if len(k.attrs) > 0 {
		a := k.attrs[0].Name.Local
		return "", unknownElement(joinPath(path, "@"+a), "unknown attribute %q on %s", a, elemName(path))
	}
	if len(k.kids) > 0 {
		kidPath := joinPath(path, k.kids[0].name)
		return "", unknownElement(kidPath, "unknown element %q", kidPath)
	}
	return string(k.text), nil
}

// checkContainer rejects content a complex element cannot have: text in XML,
// anything but an object in JSON (a scalar where an object belongs).
func (b binder) checkContainer(n *node, path string) error {
	if b.xml {
		if len(bytes.TrimSpace(n.text)) > 0 {
			return errs.Invalid(CodeInvalidValue, path, "%s must not contain text", elementPhrase(path))
		}
		return nil
	}
	if n.shape != shapeObject {
		return errs.Invalid(CodeInvalidValue, path, "%s must be an object", elemName(path))
	}
	return nil
}

// bindList fills a slice from its wrapper: repeated XML elements, or in JSON
// {"item": [...]} — a lone object instead of the array is accepted, as eGain's
// own JSON layer emits one-element arrays that way.
func (b binder) bindList(w *node, f field, fv reflect.Value, ns, path string) error {
	if b.xml && len(w.attrs) > 0 {
		a := w.attrs[0].Name.Local
		return unknownElement(joinPath(path, "@"+a), "unknown attribute %q on %s", a, path)
	}
	if err := b.checkContainer(w, path); err != nil {
		return err
	}
	itemNS := f.itemNS(ns)
	items := reflect.MakeSlice(fv.Type(), 0, len(w.kids))
	for _, k := range w.kids {
		kidPath := joinPath(path, k.name)
		if k.name != f.item || (b.xml && k.space != itemNS) {
			return unknownElement(kidPath, "unknown element %q", kidPath)
		}
		elems := []*node{k}
		switch {
		case k.shape == shapeArray:
			elems = k.kids
		case k.shape == shapeNull && !b.xml:
			// "customAttribute": null is a list the client never filled
			// (Jackson, Newtonsoft and System.Text.Json write unset members
			// as null): no items, as [] and as null anywhere else. An item
			// that is null ([null], or xsi:nil on a repeated element) is
			// still refused.
			elems = nil
		}
		for _, e := range elems {
			item := reflect.New(fv.Type().Elem()).Elem()
			if err := b.bindStruct(e, item, itemNS, indexPath(kidPath, items.Len())); err != nil {
				return err
			}
			items = reflect.Append(items, item)
		}
	}
	fv.Set(items)
	return nil
}

// elementPhrase names the element at path in a sentence.
func elementPhrase(path string) string {
	if path == "" {
		return elemName(path)
	}
	return "element " + path
}

// elemName names the element at path for messages; the root has no path.
func elemName(path string) string {
	if path == "" {
		return "the root element"
	}
	return path
}
