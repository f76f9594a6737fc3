package schema

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// DefaultUnauthorizedStrings are the keywords Context Services refuses as
// attribute values and schema names (spec §7): reserved to Context Services,
// reserved to the database, and type keywords.
var DefaultUnauthorizedStrings = []string{
	"extension", "none", "profile", "service", "state", "task",
	"alter", "by", "comment", "constraint", "create", "cursor", "database", "delete", "from",
	"having", "identity", "index", "inner", "insert", "is", "join", "left", "null", "order", "outer",
	"prepare", "primary", "procedure", "return", "right", "select", "set", "size", "table",
	"truncate", "union", "update", "when", "where",
	"bigint", "binary", "bit", "blob", "boolean", "char", "clob", "currency", "date", "datetime",
	"decimal", "double", "float", "int", "integer", "long", "longvarbinary", "money", "nchar",
	"number", "numeric", "real", "smalldatetime", "smallint", "smallmoney", "string", "time",
	"timestamp", "tinyint", "varbinary", "varchar", "varchar2",
}

// Unauthorized is a set of forbidden values, matched case-insensitively
// against whole values (spec §10 Q8: 'Select' is refused, 'selection' is not).
type Unauthorized struct {
	words   map[string]struct{}
	longest int
	// Values applies the set to attribute values too, not only to names.
	// Whole-value matching refuses real surnames ("Long", "Null", "Date"),
	// so it is off unless genesys.unauthorized_strings.check_values is set.
	Values bool
}

// NewUnauthorized builds the set from a list of keywords.
func NewUnauthorized(words []string) Unauthorized {
	u := Unauthorized{words: make(map[string]struct{}, len(words))}
	for _, w := range words {
		w = strings.ToLower(strings.TrimSpace(w))
		u.words[w] = struct{}{}
		u.longest = max(u.longest, len(w))
	}
	return u
}

// unauthorizedForm is a set as the schema hash covers it.
type unauthorizedForm struct {
	Words  []string
	Values bool
}

// form is u for the schema hash: nil for the default set without value
// checks.
func (u Unauthorized) form() *unauthorizedForm {
	words := slices.Sorted(maps.Keys(u.words))
	if !u.Values && slices.Equal(words, defaultWords()) {
		return nil
	}
	return &unauthorizedForm{Words: words, Values: u.Values}
}

// defaultWords is DefaultUnauthorizedStrings as a set holds them: lower
// case, sorted.
var defaultWords = sync.OnceValue(func() []string {
	return slices.Sorted(maps.Keys(NewUnauthorized(DefaultUnauthorizedStrings).words))
})

// Contains reports whether s is one of the keywords, ignoring case.
func (u Unauthorized) Contains(s string) bool {
	if len(s) > u.longest { // cheap exit for the common case: no lower-casing copy
		return false
	}
	_, found := u.words[strings.ToLower(s)]
	return found
}
