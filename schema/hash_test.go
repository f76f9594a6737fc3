package schema_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/schema"
)

// TestHash_CoversTheUnauthorizedStrings: replicas whose
// genesys.unauthorized_strings differ judge names and values differently,
// so schema_hash (which scale-out.md has operators compare across
// replicas) differs too; the default set, in any order or case, adds
// nothing, so a store's hash under a default config stays what earlier
// releases computed (golden below, from the release before).
func TestHash_CoversTheUnauthorizedStrings(t *testing.T) {
	t.Parallel()
	hash := func(u schema.Unauthorized) string {
		t.Helper()
		return compileWith(t, "profile:\n  - {name: LastName, type: string, length: 64}\n", u).Hash
	}
	defaults := schema.NewUnauthorized(schema.DefaultUnauthorizedStrings)
	shuffled := slices.Clone(schema.DefaultUnauthorizedStrings)
	slices.Reverse(shuffled)
	for i := range shuffled {
		shuffled[i] = strings.ToUpper(shuffled[i])
	}
	valuesChecked := defaults
	valuesChecked.Values = true
	const golden = "59559c0cf1212f696be445ff0e17b6b6d546ce8f1d8749dfbc1d977215bbd610"
	if got := hash(defaults); got != golden {
		t.Errorf("hash under the default set = %s, want %s as before", got, golden)
	}
	if got := hash(schema.NewUnauthorized(shuffled)); got != golden {
		t.Errorf("hash under the default set in another order and case = %s, want %s", got, golden)
	}
	if hash(valuesChecked) == golden || hash(schema.NewUnauthorized([]string{"long"})) == golden || hash(valuesChecked) == hash(schema.NewUnauthorized([]string{"long"})) {
		t.Error("value checks or another word list leave the hash as it was")
	}
}
