package egain

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/contactcenter/profiled/profile"
)

// byNum sorts eGain ids numerically, the search's default order.
func byNum(list []string) []string {
	out := slices.Clone(list)
	slices.SortFunc(out, func(a, b string) int {
		x, _ := strconv.ParseUint(a, 10, 64)
		y, _ := strconv.ParseUint(b, 10, 64)
		return int(x) - int(y)
	})
	return out
}

// TestSearchBeyondLookupLimit: a criterion matching more customers than
// one lookup returns no longer hides customers that match every criterion.
func TestSearchBeyondLookupLimit(t *testing.T) {
	t.Parallel()
	const limit = 5
	h := newHarness(t)
	h.lookupLimit = limit
	h.restart()
	s := h.login("agent")
	search := func(t *testing.T, query string) response {
		t.Helper()
		return h.do("GET", "/ws/v12/interaction/customer?"+queryEscape(query), "", SessionHeader, s, "Accept", "application/json")
	}

	// 12 customers share loyaltyId=common; 8 share phone 555 and 4 phone 556.
	const n = 12
	bulk := make([]string, n)
	phone := func(i int) string {
		if i%3 == 0 {
			return "556"
		}
		return "555"
	}
	for i := range bulk {
		bulk[i] = h.create(s, individual("Bulk", fmt.Sprintf("N%02d", i), fmt.Sprintf("b%d@x.com", i), phone(i),
			"loyaltyId", "common", "preferredlang", fmt.Sprintf("l%d", i)))
	}
	// 7 Genesys-written customers with an outbound e-mail activity in
	// March 2024, one of them (the last) outside the searched window.
	var act []string
	for i := range 7 {
		sent := "2024-03-05T10:00:00.000Z"
		if i == 6 {
			sent = "2024-04-05T10:00:00.000Z"
		}
		h.do("POST", "/profiles", fmt.Sprintf(`{"FirstName":"Act","EmailAddress":["a%d@x.com"],"Activity":[{"ActivityId":"a%d","type":"email","isRead":false,"isSecure":true,"mode":"outbound","sentDate":%q}]}`, i, i, sent),
			"Content-Type", "application/json").want(t, http.StatusCreated)
		act = append(act, ids(t, search(t, fmt.Sprintf("email=a%d@x.com", i)))...)
	}
	if len(act) != 7 {
		t.Fatalf("activity customers: %v", act)
	}
	march := `activity={"type":"email","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"[2024-03-01T00:00:00.000Z,2024-03-10T00:00:00.000Z]"}`

	t.Run("OneCriterionCutOff", func(t *testing.T) {
		for i := range n {
			cases := []struct {
				query string
				want  []string
			}{
				// email complete, custom cut off
				{fmt.Sprintf("email=b%d@x.com&custom.loyaltyId=common", i), []string{bulk[i]}},
				{fmt.Sprintf("custom.loyaltyId=common&email=b%d@x.com", i), []string{bulk[i]}},
				{fmt.Sprintf("email=b%d@x.com&custom.loyaltyId=rare", i), nil},
				// custom complete, phone cut off (8 > 5) or complete (4 < 5)
				{fmt.Sprintf("custom.preferredlang=l%d&phone=555", i), map[bool][]string{true: {bulk[i]}}[phone(i) == "555"]},
				{fmt.Sprintf("phone=555&custom.preferredlang=l%d", i), map[bool][]string{true: {bulk[i]}}[phone(i) == "555"]},
				// email complete, created cut off
				{fmt.Sprintf("created=[2000-01-01,]&email=b%d@x.com", i), []string{bulk[i]}},
				{fmt.Sprintf("email=b%d@x.com&created=[2999-01-01,]", i), nil},
			}
			for _, c := range cases {
				if got := ids(t, search(t, c.query)); !slices.Equal(got, c.want) {
					t.Errorf("%s: got %v, want %v", c.query, got, c.want)
				}
			}
		}
		// activity cut off (6 customers in the window, over the limit),
		// e-mail complete
		for i, id := range act {
			want := []string{id}
			if i == 6 {
				want = nil
			}
			for _, q := range []string{fmt.Sprintf("email=a%d@x.com&%s", i, march), fmt.Sprintf("%s&email=a%d@x.com", march, i)} {
				if got := ids(t, search(t, q)); !slices.Equal(got, want) {
					t.Errorf("%s: got %v, want %v", q, got, want)
				}
			}
		}
	})

	t.Run("Pagination", func(t *testing.T) {
		// phone=556 is complete (4 customers), loyaltyId=common is cut off.
		var want []string
		for i := range n {
			if phone(i) == "556" {
				want = append(want, bulk[i])
			}
		}
		for _, order := range []string{"asc", "desc"} {
			var got []string
			for page := 1; ; page++ {
				res := search(t, fmt.Sprintf("custom.loyaltyId=common&phone=556&$sort=id&$order=%s&$pagesize=3&$pagenum=%d", order, page))
				if res.Status == http.StatusNoContent {
					if page != 3 {
						t.Errorf("%s: 204 at page %d", order, page)
					}
					break
				}
				got = append(got, ids(t, res)...)
			}
			w := byNum(want)
			if order == "desc" {
				slices.Reverse(w)
			}
			if !slices.Equal(got, w) {
				t.Errorf("%s: pages hold %v, want %v", order, got, w)
			}
		}
		if got := ids(t, search(t, "phone=556&custom.loyaltyId=common&$rangestart=2&$rangesize=2")); !slices.Equal(got, byNum(want)[1:3]) {
			t.Errorf("range: got %v, want %v", got, byNum(want)[1:3])
		}
	})

	t.Run("EveryCriterionCutOff", func(t *testing.T) {
		// created alone: the first 5 customers created, oldest first, are
		// the bounded answer, sorted and paged among themselves.
		first := byNum(bulk[:limit])
		if got := ids(t, search(t, "created=[2000-01-01,]&$pagesize=5")); !slices.Equal(got, first) {
			t.Errorf("page 1: got %v, want %v", got, first)
		}
		if got := ids(t, search(t, "created=[2000-01-01,]&$pagesize=2&$pagenum=3")); !slices.Equal(got, first[4:]) {
			t.Errorf("page 3 (cut at the bound): got %v, want %v", got, first[4:])
		}
		search(t, "created=[2000-01-01,]&$pagesize=2&$pagenum=4").wantError(t, http.StatusBadRequest, "400-105", FormatJSON)
		// Sorted otherwise, the bounded set's first would not be the first
		// of all matches (the newest customers lie past the bound): 400-105,
		// not a 200 that would pass for the answer.
		for _, sort := range []string{"$sort=id&$order=desc", "$sort=created&$order=desc", "$sort=customerName"} {
			res := search(t, "created=[2000-01-01,]&"+sort)
			res.wantError(t, http.StatusBadRequest, "400-105", FormatJSON)
			if !strings.Contains(res.Body, "ascending id or created order") {
				t.Errorf("%s: message %s", sort, res.Body)
			}
		}
		for _, sort := range []string{"$sort=id&$order=asc", "$sort=created"} {
			if got := ids(t, search(t, "created=[2000-01-01,]&$pagesize=5&"+sort)); !slices.Equal(got, first) {
				t.Errorf("%s: got %v, want %v", sort, got, first)
			}
		}
		search(t, "created=[2000-01-01,]&$rangestart=6").wantError(t, http.StatusBadRequest, "400-105", FormatJSON)

		// phone=555 (8) and loyaltyId=common (12) are both cut off: what
		// is returned matches both, and nothing past it is pretended away.
		res := search(t, "custom.loyaltyId=common&phone=555&$pagesize=75")
		got := ids(t, res)
		if len(got) == 0 || len(got) > limit {
			t.Fatalf("got %v, want 1 to %d customers", got, limit)
		}
		for _, id := range got {
			i := slices.Index(bulk, id)
			if i < 0 || phone(i) != "555" {
				t.Errorf("%s does not match both criteria", id)
			}
		}
		// phone alone is a union of two keys, cut off separately: no order
		// of its ids is the order of all matches, so nothing is served.
		res = search(t, "phone=555")
		res.wantError(t, http.StatusBadRequest, "400-105", FormatJSON)
		if !strings.Contains(res.Body, "at least 5 customers match phone; add or narrow criteria") {
			t.Errorf("phone alone, cut off: %s", res.Body)
		}
		res = search(t, fmt.Sprintf("custom.loyaltyId=common&phone=555&$rangestart=%d", len(got)+1))
		res.wantError(t, http.StatusBadRequest, "400-105", FormatJSON)
		if !strings.Contains(res.Body, "add or narrow criteria") {
			t.Errorf("message: %s", res.Body)
		}
	})

	t.Run("Unbounded", func(t *testing.T) {
		// Below the limit nothing is bounded: an empty page is 204.
		search(t, "phone=556&$pagesize=2&$pagenum=3").want(t, http.StatusNoContent)
		h.lookupLimit = 0 // profile.MaxIdentifyResults
		h.restart()
		all := append(slices.Clone(bulk), act...)
		if got := ids(t, search(t, "created=[2000-01-01,]&$pagesize=75")); !slices.Equal(got, byNum(all)) {
			t.Errorf("got %v, want %v", got, byNum(all))
		}
	})
}

func TestCheckWindow(t *testing.T) {
	t.Parallel()
	c := candidates{bounded: true, limit: 1000, by: "created"}
	if err := c.checkWindow(Page{Offset: 0, Limit: 25}, 0); err == nil || !strings.Contains(err.Error(), "none of the first 1000") {
		t.Errorf("empty bounded answer: %v", err)
	}
	if err := c.checkWindow(Page{Offset: 975, Limit: 75}, 1000); err != nil {
		t.Errorf("window starting within the bound: %v", err)
	}
	if err := c.checkWindow(Page{Offset: 1000, Limit: 25}, 1000); err == nil || !strings.Contains(err.Error(), "results 1 to 1000") {
		t.Errorf("window past the bound: %v", err)
	}
	if err := (candidates{}).checkWindow(Page{Offset: 1000, Limit: 25}, 3); err != nil {
		t.Errorf("unbounded: %v", err)
	}
}

// TestSortItems_TextKeysIgnoreCase: names and custom values sort with case
// aside, alike (custom values sorted byte by byte put "alice" after "Zed").
func TestSortItems_TextKeysIgnoreCase(t *testing.T) {
	names := []string{"Zed", "alice", "Amy", "bob"}
	var items []item
	for i, n := range names {
		items = append(items, item{profile: &profile.Profile{Num: uint64(i + 1)}, customer: Customer{
			CustomerName:     Str(n),
			CustomAttributes: []CustomAttribute{{AttribName: Str("loyaltyId"), AttribValues: []AttribValue{{Value: Str(n)}}}},
		}})
	}
	for _, key := range []string{"customerName", "custom.loyaltyId"} {
		sortItems(items, key, false)
		var got []string
		for _, it := range items {
			got = append(got, str(it.customer.CustomerName))
		}
		if want := []string{"alice", "Amy", "bob", "Zed"}; !slices.Equal(got, want) {
			t.Errorf("$sort=%s: %v, want %v", key, got, want)
		}
	}
}

// TestSearch_ManyActivitiesFewCustomers: a lookup over the activity key
// reads an entry per activity, and stops after its limit plus
// profile.Service.LookupExtraEntries of them; 30 customers with 40
// matching e-mails each (1,200 entries) are well within it and answered.
// Past the bound the search counts as matching too many, and the refusal
// must not say that 1000 customers match when fewer do.
func TestSearch_ManyActivitiesFewCustomers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.login("agent")
	const customers, records = 30, 40
	for i := range customers {
		acts := make([]string, records)
		for j := range acts {
			acts[j] = fmt.Sprintf(`{"ActivityId":"m%d","type":"email","isRead":false,"isSecure":true,"mode":"outbound","sentDate":"2024-03-05T10:%02d:%02d.000Z"}`, j, j/60, j%60)
		}
		h.do("POST", "/profiles", fmt.Sprintf(`{"FirstName":"Busy","EmailAddress":["busy%d@x.com"],"Activity":[%s]}`, i, strings.Join(acts, ",")),
			"Content-Type", "application/json").want(t, http.StatusCreated)
	}
	query := `activity={"type":"email","isRead":"false","isSecure":"true","mode":"outbound","sentDate":"[2024-03-01T00:00:00.000Z,2024-03-10T00:00:00.000Z]"}`
	search := func() response {
		return h.do("GET", "/ws/v12/interaction/customer?"+queryEscape(query)+"&$pagesize=75", "", SessionHeader, s, "Accept", "application/json")
	}
	if res := search(); res.Status != http.StatusOK {
		t.Fatalf("%d customers with %d activities each: %d %s, want 200", customers, records, res.Status, res.Body)
	}
	h.svc.LookupExtraEntries = 100 // now the lookup stops among the customers' activities (1000 + 100 < 1,200)
	res := search()
	res.want(t, http.StatusBadRequest)
	if strings.Contains(res.Body, fmt.Sprintf("at least %d customers match", profile.MaxIdentifyResults)) || !strings.Contains(res.Body, "more index entries than a search reads") {
		t.Errorf("%d customers match: the refusal says %s", customers, res.Body)
	}
}
