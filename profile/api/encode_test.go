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
