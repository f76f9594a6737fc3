package profile_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
	"golang.org/x/text/unicode/norm"
)

// TestIndexText_OneFormPerValue: identification indexes hold text
// lower-cased and in Unicode NFC, so an address typed with a combining mark
// and one typed precomposed are one value, and an index built by an earlier
// version (lower-cased only) is rebuilt when the service starts on it.
func TestIndexText_OneFormPerValue(t *testing.T) {
	ctx := context.Background()
	s, db, cfg := profiletest.New(t, "../config.yaml")
	if err := s.SyncSchema(ctx); err != nil { // as the server at start: the manifest is stored
		t.Fatal(err)
	}
	decomposed := "Jo\u0308rg@Bu\u0308cher.example" // o and u with U+0308
	composed := norm.NFC.String(strings.ToLower(decomposed))
	if composed == strings.ToLower(decomposed) {
		t.Fatal("the address is the same in both forms: the test proves nothing")
	}
	p, err := s.Create(ctx, "", map[string]any{"FirstName": "Jörg", "EmailAddress": []any{decomposed}}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := func(s *profile.Service, value string) bool {
		t.Helper()
		res, err := s.Identify(ctx, "", profile.IdentifyQuery{Filters: []profile.Filter{profile.ParseFilter("EmailAddress", value)}})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Profiles) == 1 && res.Profiles[0].ID == p.ID
	}
	if !found(s, composed) || !found(s, decomposed) {
		t.Fatal("the address is not found in both forms")
	}
	// A second customer may not take it in the other form where it is unique.
	if _, err := s.Create(ctx, "", map[string]any{"FirstName": "Other", "EmailAddress": []any{composed}}, profile.CreateOptions{UniqueKeys: []string{"email"}}); err == nil {
		t.Error("the composed form of a taken address passed the unique check")
	}

	// The index as the previous version built it: lower-cased, not NFC,
	// under a manifest without the text form.
	state, err := db.SchemaState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(state.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		m[k] = strings.TrimSuffix(v, "|text=lower+nfc")
	}
	old, _ := json.Marshal(m)
	err = db.UpdateSchema(ctx, state.Version, state.Overlay, old, func(tenant string, tx profile.Tx) error {
		if err := tx.DropIndex("email"); err != nil {
			return err
		}
		return tx.AddIndexEntry("email", []string{strings.ToLower(decomposed)}, p.ID, false)
	})
	if err != nil {
		t.Fatal(err)
	}

	// The service starts on it: the index is rebuilt in the new form.
	registry, err := profile.LoadRegistry(ctx, db, config.SchemaSource(cfg.File), cfg.Unauthorized())
	if err != nil {
		t.Fatal(err)
	}
	restarted := profile.NewService(db, registry)
	if err := restarted.SyncSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if !found(restarted, composed) || !found(restarted, decomposed) {
		t.Error("after the start on an index of the previous form, the address is not found in both forms")
	}
}
