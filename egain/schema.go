package egain

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Namespace URIs of the v12 bindings (spec §4).
const (
	NSCustomer      = "http://bindings.egain.com/ws/model/v12/gen/interaction/customer"
	NSContactPerson = "http://bindings.egain.com/ws/model/v12/gen/interaction/contactperson"
	NSContactPoint  = "http://bindings.egain.com/ws/model/v12/gen/interaction/contactpoint"
	NSPlatform      = "http://bindings.egain.com/ws/model/v12/gen/platform"
	NSCommon        = "http://bindings.egain.com/ws/model/v12/gen/common"
	NSCase          = "http://bindings.egain.com/ws/model/v12/gen/interaction/case"
)

// nsKeys resolves the short namespace keys used in struct tags.
var nsKeys = map[string]string{
	"cu":   NSCustomer,
	"cp":   NSContactPerson,
	"pt":   NSContactPoint,
	"pl":   NSPlatform,
	"co":   NSCommon,
	"case": NSCase,
}

// field is one parsed `egain` struct tag.
type field struct {
	index int
	name  string // element local name, attribute name or JSON property
	attr  bool
	// ns is the namespace of the element, or of the repeated items for a
	// list; "" means "same as the enclosing element".
	ns   string
	item string // for lists: the repeated element inside the wrapper
	kind fieldKind
}

type fieldKind uint8

const (
	kindString fieldKind = iota // *string
	kindStruct                  // *T
	kindList                    // []T
)

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf returns the wire description of struct type t. The tags are fixed
// at compile time, so a malformed tag is a programming error and panics
// (the tests decode and encode every type, so it cannot ship).
func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	fs := make([]field, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("egain")
		if !ok {
			continue
		}
		fs = append(fs, parseTag(i, sf, tag))
	}
	fieldCache.Store(t, fs)
	return fs
}

func parseTag(index int, sf reflect.StructField, tag string) field {
	parts := strings.Split(tag, ",")
	f := field{index: index, name: parts[0]}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "attr":
			f.attr = true
		case "ns":
			uri, ok := nsKeys[v]
			if !ok {
				panic(fmt.Sprintf("egain: unknown namespace key %q on %s", v, sf.Name))
			}
			f.ns = uri
		case "item":
			f.item = v
		default:
			panic(fmt.Sprintf("egain: bad tag option %q on %s", p, sf.Name))
		}
	}
	switch {
	case sf.Type == reflect.TypeFor[*string]():
		f.kind = kindString
	case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct && !f.attr:
		f.kind = kindStruct
	case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct && f.item != "" && !f.attr:
		f.kind = kindList
	default:
		panic(fmt.Sprintf("egain: unsupported field %s %s", sf.Name, sf.Type))
	}
	return f
}

// elemNS is the namespace of the element f names, inside an element in parent.
// For lists that is the wrapper, which always follows its owner.
func (f field) elemNS(parent string) string {
	if f.ns == "" || f.kind == kindList {
		return parent
	}
	return f.ns
}

// itemNS is the namespace of a list's repeated items.
func (f field) itemNS(parent string) string {
	if f.ns == "" {
		return parent
	}
	return f.ns
}
