package api

import (
	"fmt"
	"testing"

	"github.com/contactcenter/profiled/profile"
)

// TestStored_SearchByHalvesFindsWhatALinearSearchFinds: on a large sorted
// object (as the service stores them), the search by halves answers as the
// linear one for every name, names given twice (the last counts) and
// absent names included.
func TestStored_SearchByHalvesFindsWhatALinearSearchFinds(t *testing.T) {
	var members []profile.Member
	for i := range 40 {
		name := fmt.Sprintf("a%02d", i)
		members = append(members, profile.Member{Name: name, Value: []byte(fmt.Sprint(i))})
		if i%7 == 0 {
			members = append(members, profile.Member{Name: name, Value: []byte(fmt.Sprint(-i))})
		}
	}
	halves := storedOf(members)
	if !halves.sorted {
		t.Fatal("a sorted object of 46 members is searched linearly")
	}
	linear := stored{members: members}
	for i := -1; i <= 41; i++ {
		name := fmt.Sprintf("a%02d", i)
		if got, want := string(halves.append(nil, name)), string(linear.append(nil, name)); got != want {
			t.Errorf("%s: %s by halves, %s linearly", name, got, want)
		}
	}
	members[3], members[30] = members[30], members[3]
	if storedOf(members).sorted {
		t.Error("an unsorted object is searched by halves")
	}
}

// TestStored_NameInAnotherCase: a value stored under a declared name in
// another case (the config changed only the name's case) is shown under the
// declared name, by either search; an exact name wins over a folded one.
func TestStored_NameInAnotherCase(t *testing.T) {
	small := []profile.Member{{Name: "FirstName", Value: []byte(`"Casey"`)}, {Name: "text", Value: []byte(`"t"`)}}
	if got := string(storedOf(small).append(nil, "firstName")); got != `"Casey"` {
		t.Errorf("firstName: %s", got)
	}
	var large []profile.Member
	for i := range 20 {
		large = append(large, profile.Member{Name: fmt.Sprintf("A%02d", i), Value: []byte(fmt.Sprint(i))})
	}
	large = append(large, profile.Member{Name: "a05", Value: []byte("-5")}) // sorts after the capitals
	s := storedOf(large)
	if !s.sorted {
		t.Fatal("not searched by halves")
	}
	if got := string(s.append(nil, "a07")); got != "7" {
		t.Errorf("a07: %s", got)
	}
	if got := string(s.append(nil, "a05")); got != "-5" {
		t.Errorf("a05: %s, want the exact name's value", got)
	}
	if got := string(s.append(nil, "b01")); got != "null" {
		t.Errorf("b01: %s", got)
	}
}
