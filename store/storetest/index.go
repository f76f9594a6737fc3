package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/contactcenter/profiled/profile"
)

func testScanIndex(t *testing.T, s Store) {
	entries := []struct {
		values []string
		id     string
	}{
		{[]string{"ab", "c"}, "p1"},
		{[]string{"a", "bc"}, "p2"},
		{[]string{"a\x00x", "y"}, "p3"},
		{[]string{"a", "b"}, "p5"},
		{[]string{"a", "b"}, "p4"},
		{[]string{"gone", "x"}, "p6"},
	}
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for _, e := range entries {
			if err := tx.AddIndexEntry("Phone", e.values, e.id, false); err != nil {
				return err
			}
		}
		return tx.RemoveIndexEntry("PHONE", []string{"gone", "x"}, "p6")
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		for _, c := range []struct {
			prefix []string
			want   []string
		}{
			{nil, []string{"p4", "p5", "p2", "p3", "p1"}},
			{[]string{"a"}, []string{"p4", "p5", "p2"}},
			{[]string{"a", "b"}, []string{"p4", "p5"}}, // not "bc"
			{[]string{"a\x00x"}, []string{"p3"}},
			{[]string{"ab"}, []string{"p1"}},
			{[]string{"ab", "c"}, []string{"p1"}},
			{[]string{"a", "bc", "z"}, []string{}},
			{[]string{"gone"}, []string{}},
		} {
			got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("phone", c.prefix, fn) })
			if !slices.Equal(got, c.want) {
				t.Errorf("ScanIndex(%q) = %q, want %q", c.prefix, got, c.want)
			}
		}
		n := 0
		if err := tx.ScanIndex("phone", nil, func(string) bool { n++; return false }); err != nil || n != 1 {
			t.Errorf("scan stopped after %d, %v", n, err)
		}
		if got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndex("nokey", nil, fn) }); len(got) != 0 {
			t.Errorf("missing index scanned %q", got)
		}
		return nil
	})
}

func testScanIndexRange(t *testing.T, s Store) {
	MustUpdate(t, s, "", func(tx profile.Tx) error {
		for i := 1; i <= 5; i++ {
			if err := tx.AddIndexEntry("dob", []string{"x", fmt.Sprintf("2020-01-0%d", i)}, fmt.Sprintf("d%d", i), false); err != nil {
				return err
			}
		}
		if err := tx.AddIndexEntry("dob", []string{"x", "2020-01-03x"}, "d3x", false); err != nil {
			return err
		}
		return tx.AddIndexEntry("dob", []string{"y", "2020-01-03"}, "y3", false)
	})
	MustView(t, s, "", func(tx profile.Tx) error {
		for _, c := range []struct {
			prefix   []string
			from, to string
			want     []string
		}{
			{[]string{"x"}, "2020-01-02", "2020-01-03", []string{"d2", "d3"}},
			{[]string{"x"}, "2020-01-03", "2020-01-03", []string{"d3"}},
			{[]string{"x"}, "2020-01-03", "2020-01-03x", []string{"d3", "d3x"}},
			{[]string{"x"}, "", "2020-01-02", []string{"d1", "d2"}},
			{[]string{"x"}, "2020-01-04", "", []string{"d4", "d5"}},
			{[]string{"x"}, "2020-01-02x", "2020-01-03", []string{"d3"}},
			{[]string{"x"}, "", "", []string{"d1", "d2", "d3", "d3x", "d4", "d5"}},
			{[]string{"x"}, "2020-01-06", "", []string{}},
			{[]string{"x"}, "2020-01-04", "2020-01-02", []string{}},
			{nil, "y", "y", []string{"y3"}},
			{nil, "", "x", []string{"d1", "d2", "d3", "d3x", "d4", "d5"}},
		} {
			got := Scan(t, func(fn func(string) bool) error { return tx.ScanIndexRange("DOB", c.prefix, c.from, c.to, fn) })
			if !slices.Equal(got, c.want) {
				t.Errorf("ScanIndexRange(%q, %q, %q) = %q, want %q", c.prefix, c.from, c.to, got, c.want)
			}
		}
		return nil
	})
}
