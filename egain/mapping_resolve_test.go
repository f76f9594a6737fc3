package egain

import (
	"os"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// TestMapping_LegacyDocumentRenamedWithAlias: egain.mapping.legacy_document
// names an attribute of the customer extension like phone.number does, so a
// rename that keeps the old name as an alias (docs/config.md) must keep the
// facade reading a customer stored as a legacy document. CheckMapping
// accepts the mapping (e.Attribute finds the alias), but resolved() leaves
// LegacyDocument as configured, stored() looks for "document" in a record
// read under "legacyDocument", shows a customer built from the (empty)
// records, and the next eGain edit writes the customer record whole,
// dropping the document.
func TestMapping_LegacyDocumentRenamedWithAlias(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := "{name: document,                 type: string, length: 524288}"
	renamed := strings.Replace(string(data), old, "{name: legacyDocument, type: string, length: 524288, aliases: [document]}", 1)
	if renamed == string(data) {
		t.Fatal("config.yaml has no document attribute to rename")
	}
	cfg, c := mappedConfig(t, renamed)
	m := mapper{EGainMapping: cfg.EGain.Mapping}.resolved(c)
	if m.LegacyDocument != "legacyDocument" {
		t.Errorf("resolved LegacyDocument = %q, want the declared name legacyDocument", m.LegacyDocument)
	}
	p := &profile.Profile{Extensions: map[string][]schema.Record{
		"EgainCustomer": {{"legacyDocument": `{"customerName":"Acme Ltd","type":{"value":"group"}}`}},
	}}
	if got := m.stored(p); str(got.CustomerName) != "Acme Ltd" {
		t.Errorf("customer stored as a legacy document read as %+v: the document was not found", got)
	}
}

// mappedConfig parses config text, compiles its schema and checks its eGain
// mapping against it.
func mappedConfig(t *testing.T, text string) (*config.Config, *schema.Compiled) {
	t.Helper()
	cfg, err := config.Parse("config.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.LoadSchema(schema.Document{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMapping(cfg.EGain.Mapping, c); err != nil {
		t.Fatalf("CheckMapping: %v", err)
	}
	return cfg, c
}
