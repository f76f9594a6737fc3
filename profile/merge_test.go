package profile_test

import (
	"context"
	"testing"

	"github.com/contactcenter/profiled/errs"
	"github.com/contactcenter/profiled/profile"
	"github.com/contactcenter/profiled/schema"
)

// TestMerge_MandatoryAttribute: after a reload makes an attribute
// mandatory, merging two customers that both lack it is refused as a write
// of the result would be, and changes nothing; with it on the source the
// merge goes through.
func TestMerge_MandatoryAttribute(t *testing.T) {
	ctx := context.Background()
	s, path, base := reloadableService(t)
	create := func(body map[string]any) string {
		t.Helper()
		p, err := s.Create(ctx, "", body, profile.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	dest, src := create(map[string]any{"FirstName": "Dest"}), create(map[string]any{"FirstName": "Src"})
	const title = "    - {name: Title,        type: string, length: 64}"
	reloadWith(t, s, path, edited(t, base, title, title+"\n    - {name: Loyalty,      type: string, mandatory: true}"))

	_, err := s.Merge(ctx, "", dest, src, profile.MergeOptions{})
	if e := errs.As(err); e == nil || e.Code != schema.CodeMissingMandatory || e.Field != "Loyalty" {
		t.Fatalf("merge of two customers without the mandatory attribute = %v, want MISSING_MANDATORY_ATTRIBUTE on Loyalty", err)
	}
	if _, err := s.Get(ctx, "", src, nil); err != nil {
		t.Errorf("the source after the refused merge: %v", err)
	}
	if _, err := s.Replace(ctx, "", src, map[string]any{"FirstName": "Src", "Loyalty": "gold"}, profile.ReplaceOptions{}); err != nil {
		t.Fatal(err)
	}
	merged, err := s.Merge(ctx, "", dest, src, profile.MergeOptions{})
	if err != nil || merged.Attributes["Loyalty"] != "gold" {
		t.Errorf("merge with the attribute on the source = %v, %v", merged, err)
	}
}
