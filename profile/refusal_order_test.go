package profile_test

import (
	"testing"

	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/profile/profiletest"
)

// TestRefusals_NameTheSameExtensionEveryTime: a body wrong in two
// extensions is refused naming the same one at every call, not whichever
// a map's order reached first: a client comparing answers, or a test,
// sees one.
func TestRefusals_NameTheSameExtensionEveryTime(t *testing.T) {
	t.Parallel()
	s, _, _ := profiletest.New(t, "../config.yaml")
	twice := map[string]any{
		"FirstName": "Twice",
		"Phone":     []any{map[string]any{"PhoneNumber": "5550001"}, map[string]any{"PhoneNumber": "5550001"}},
		"Activity":  []any{map[string]any{"ActivityId": "A1", "type": "chat"}, map[string]any{"ActivityId": "A1", "type": "chat"}},
	}
	p, err := s.Create(t.Context(), "", map[string]any{"FirstName": "Held"}, profile.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"Create": func() error {
			_, err := s.Create(t.Context(), "", twice, profile.CreateOptions{})
			return err
		},
		"Replace": func() error {
			_, err := s.Replace(t.Context(), "", p.ID, twice, profile.ReplaceOptions{})
			return err
		},
		"InsertRecords": func() error {
			_, err := s.InsertRecords(t.Context(), "", p.ID, map[string]any{"Phone": twice["Phone"], "Activity": twice["Activity"]}, 0)
			return err
		},
	} {
		first := call()
		if first == nil {
			t.Fatalf("%s: a body with duplicate records was accepted", name)
		}
		for range 30 {
			if err := call(); err == nil || err.Error() != first.Error() {
				t.Fatalf("%s: refused as %q, then as %v", name, first, err)
			}
		}
	}
}
