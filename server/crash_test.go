package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contactcenter/profiled/store"
)

// Crash test parameters: rounds of load, each ended by SIGKILL.
const (
	crashRounds  = 4
	crashWriters = 8
)

// crashLoad is how long round r runs before the kill; it varies so the
// kill lands at different points of the commit cycle.
func crashLoad(r int) time.Duration {
	return 300*time.Millisecond + time.Duration(r)*170*time.Millisecond
}

// crashProfile is one profile a writer created (or tried to), with what it
// did to it afterwards and which of those requests were acknowledged.
type crashProfile struct {
	emails [2]string
	phones [3]string
	acked  bool   // the create got 201
	id     string // from the 201

	names      []string // FirstName values in order: the create's, then each PUT's
	ackedNames int      // how many of names were acknowledged (the create counts)
	extra      []string // Phone numbers added by POST /profiles/{id}/extensions
	extraAcked []bool

	verified, present bool // checked after a restart; found in the store then

	// What the last check found stored: the id, the FirstName and how many
	// of extra; the audit trail must hold one entry per write they show.
	storedID     string
	storedName   string
	storedExtras int
}

// crashClient sends requests to a profiled process.
type crashClient struct {
	base string
	http *http.Client
}

func newCrashClient(base string) *crashClient {
	return &crashClient{base: base, http: &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * crashWriters},
	}}
}

// do returns the status and body; err is a transport error (the process
// died), never a status.
func (c *crashClient) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, err
	}
	return res.StatusCode, data, nil
}

// crashWriter creates profiles and updates them until the process dies.
func crashWriter(t *testing.T, c *crashClient, round, w int, example map[string]any) []*crashProfile {
	var mine []*crashProfile
	unexpected := func(what string, status int, body []byte) {
		t.Errorf("round %d writer %d: %s: unexpected %d %s", round, w, what, status, body)
	}
	for i := 0; ; i++ {
		tag := fmt.Sprintf("r%dw%di%d", round, w, i)
		p := &crashProfile{
			emails: [2]string{tag + "@crash.dom", tag + ".b@crash.dom"},
			names:  []string{"Bruce"},
		}
		body := map[string]any{}
		for k, v := range example {
			body[k] = v
		}
		body["EmailAddress"] = []any{p.emails[0], p.emails[1]}
		var phones []any
		for j, rec := range example["Phone"].([]any) {
			r := map[string]any{}
			for k, v := range rec.(map[string]any) {
				r[k] = v
			}
			p.phones[j] = fmt.Sprintf("9%d%02d%02d%05d%d", round, w, j, i, j)
			r["PhoneNumber"] = p.phones[j]
			phones = append(phones, r)
		}
		body["Phone"] = phones
		mine = append(mine, p)
		status, res, err := c.do("POST", "/profiles", body)
		if err != nil {
			return mine
		}
		if status != http.StatusCreated {
			unexpected("create", status, res)
			return mine
		}
		var created struct {
			CustomerID string `json:"customer_id"`
		}
		if err := json.Unmarshal(res, &created); err != nil || created.CustomerID == "" {
			t.Errorf("create answer %s: %v", res, err)
			return mine
		}
		p.acked, p.id, p.ackedNames = true, created.CustomerID, 1
		for k := range 2 {
			name := fmt.Sprintf("U%d", k)
			p.names = append(p.names, name)
			status, res, err = c.do("PUT", "/profiles/"+p.id, map[string]any{
				"FirstName": name, "LastName": "Banner", "DOB": "1962-05-10",
				"EmailAddress": []any{p.emails[0], p.emails[1]},
			})
			if err != nil {
				return mine
			}
			if status != http.StatusOK {
				unexpected("replace", status, res)
				return mine
			}
			p.ackedNames = len(p.names)
			phone := fmt.Sprintf("8%d%02d%05d%d", round, w, i, k)
			p.extra = append(p.extra, phone)
			p.extraAcked = append(p.extraAcked, false)
			status, res, err = c.do("POST", "/profiles/"+p.id+"/extensions", map[string]any{
				"Phone": []any{map[string]any{"PhoneNumber": phone, "description": "added"}},
			})
			if err != nil {
				return mine
			}
			if status != http.StatusOK {
				unexpected("insert records", status, res)
				return mine
			}
			p.extraAcked[k] = true
		}
	}
}

// identifyIDs returns the customer ids identify finds for query.
func (c *crashClient) identifyIDs(t failer, query string) []string {
	t.Helper()
	status, body, err := c.do("GET", "/profiles?"+query, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("identify %s: %d %s %v", query, status, body, err)
	}
	var found []struct {
		CustomerID string `json:"customer_id"`
	}
	if err := json.Unmarshal(body, &found); err != nil {
		t.Fatalf("identify %s: %v: %s", query, err, body)
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.CustomerID
	}
	return ids
}

type crashStored struct {
	FirstName    string
	EmailAddress []string
	Phone        []struct{ PhoneNumber string }
}

func (s crashStored) phones() []string {
	var out []string
	for _, p := range s.Phone {
		out = append(out, p.PhoneNumber)
	}
	return out
}

func (c *crashClient) profile(t failer, id string) crashStored {
	t.Helper()
	status, body, err := c.do("GET", "/profiles/"+id+"?extensions=Phone", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s (found by identify): %d %s %v", id, status, body, err)
	}
	var s crashStored
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("GET %s: %v: %s", id, err, body)
	}
	return s
}

// crashVerify checks the profiles attempted so far against the restarted
// process: acknowledged writes are all there, unacknowledged ones are all
// there or not at all, and the store holds no profile that identify does
// not reach. Profiles checked after an earlier restart are checked again
// only when again is set. It returns the number of acknowledged writes
// checked. Profiles are checked by several clients at once: the check is
// most of the test's time.
func crashVerify(t *testing.T, c *crashClient, all []*crashProfile, again bool) (acked int) {
	t.Helper()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan *crashProfile)
		f    = &goroutineFailer{failed: make(chan struct{})}
	)
	for range crashWriters {
		wg.Go(func() {
			for p := range next {
				n := crashVerifyProfile(f, c, p, again)
				mu.Lock()
				acked += n
				mu.Unlock()
			}
		})
	}
feed:
	for _, p := range all {
		select {
		case next <- p:
		case <-f.failed:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if f.msg != "" {
		t.Fatal(f.msg)
	}
	// No orphans: the store holds exactly the profiles identify reached.
	present := countPresent(all)
	if n := c.metric(t, "profiled_profiles"); n != present {
		t.Fatalf("store holds %d profiles, identify reaches %d", n, present)
	}
	return acked
}

// crashVerifyProfile checks one profile (see crashVerify) and returns the
// number of its acknowledged writes.
func crashVerifyProfile(t failer, c *crashClient, p *crashProfile, again bool) (acked int) {
	t.Helper()
	if p.verified && !again {
		return 0
	}
	wasVerified, wasPresent := p.verified, p.present
	p.verified = true
	// Every index entry of the profile must lead to the same one profile.
	queries := []string{"EmailAddress=" + p.emails[0], "EmailAddress=" + p.emails[1]}
	for _, ph := range p.phones {
		queries = append(queries, "Phone.PhoneNumber="+ph)
	}
	var hits []string
	for i, q := range queries {
		got := c.identifyIDs(t, q)
		if i == 0 {
			hits = got
		} else if !slices.Equal(got, hits) {
			t.Fatalf("half-written profile: %s finds %v but %s finds %v", queries[0], hits, q, got)
		}
	}
	switch {
	case p.acked && !slices.Equal(hits, []string{p.id}):
		t.Fatalf("acknowledged create %s (%s) lost: identify finds %v", p.id, p.emails[0], hits)
	case len(hits) > 1:
		t.Fatalf("%s identifies %d profiles: %v", p.emails[0], len(hits), hits)
	}
	if p.present = len(hits) == 1; wasVerified && p.present != wasPresent {
		t.Fatalf("%s: present %v after one restart, %v after the next", p.emails[0], wasPresent, p.present)
	}
	if !p.present {
		return 0 // an unacknowledged create that did not commit
	}
	id := hits[0]
	s := c.profile(t, id)
	p.storedID, p.storedName, p.storedExtras = id, s.FirstName, 0
	for _, ph := range p.extra {
		if slices.Contains(s.phones(), ph) {
			p.storedExtras++
		}
	}
	if !slices.Equal(s.EmailAddress, p.emails[:]) {
		t.Fatalf("%s found by %s has EmailAddress %v", id, p.emails[0], s.EmailAddress)
	}
	for _, ph := range p.phones {
		if !slices.Contains(s.phones(), ph) {
			t.Fatalf("%s found by its phone %s lacks that record: %v", id, ph, s.phones())
		}
	}
	if !p.acked {
		if s.FirstName != "Bruce" {
			t.Fatalf("unacknowledged create %s has FirstName %q", id, s.FirstName)
		}
		return 0
	}
	acked++ // the create
	// The last acknowledged PUT is visible, or the one after it that was
	// in flight at the kill and committed.
	allowed := p.names[p.ackedNames-1 : min(p.ackedNames+1, len(p.names))]
	if !slices.Contains(allowed, s.FirstName) {
		t.Fatalf("%s: FirstName %q, want one of %v (acknowledged %d of %v)", id, s.FirstName, allowed, p.ackedNames, p.names)
	}
	acked += p.ackedNames - 1
	for k, ph := range p.extra {
		found := c.identifyIDs(t, "Phone.PhoneNumber="+ph)
		stored := slices.Contains(s.phones(), ph)
		switch {
		case p.extraAcked[k] && (!stored || !slices.Equal(found, []string{id})):
			t.Fatalf("acknowledged record %s of %s lost: stored %v, identify %v", ph, id, stored, found)
		case stored != (len(found) == 1):
			t.Fatalf("half-written record %s of %s: stored %v, identify %v", ph, id, stored, found)
		case p.extraAcked[k]:
			acked++
		}
	}
	return acked
}

// crashVerifyAudit checks the audit trail against what is stored: one
// create entry per stored profile, and exactly as many replace and
// records entries as the stored data shows writes — so every acknowledged
// write has its one entry, and no entry outlived a write the kill undid.
func crashVerifyAudit(t *testing.T, c *crashClient, all []*crashProfile) {
	t.Helper()
	counts := map[string]map[string]int{} // customer → op → entries
	before := ""
	for {
		status, body, err := c.do("GET", "/admin/audit?limit=1000&before="+before, nil)
		if err != nil || status != http.StatusOK {
			t.Fatalf("audit listing: %d %s %v", status, body, err)
		}
		var page struct {
			Entries []struct {
				Op        string   `json:"op"`
				Customers []string `json:"customer_ids"`
			} `json:"entries"`
			Next string `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			for _, id := range e.Customers {
				if counts[id] == nil {
					counts[id] = map[string]int{}
				}
				counts[id][e.Op]++
			}
		}
		if before = page.Next; before == "" {
			break
		}
	}
	entries := 0
	for _, p := range all {
		if !p.present {
			continue
		}
		got := counts[p.storedID]
		want := map[string]int{"create": 1}
		if i := slices.Index(p.names, p.storedName); i > 0 {
			want["replace"] = i
		}
		if p.storedExtras > 0 {
			want["records.insert"] = p.storedExtras
		}
		if !maps.Equal(got, want) {
			t.Fatalf("customer %s (stored FirstName %q, %d added phones): audit entries %v, want %v", p.storedID, p.storedName, p.storedExtras, got, want)
		}
		entries += want["create"] + want["replace"] + want["records.insert"]
	}
	if len(counts) != countPresent(all) {
		t.Fatalf("the trail names %d customers, the store holds %d", len(counts), countPresent(all))
	}
	t.Logf("audit trail: exactly one entry for each of the %d stored writes", entries)
}

func countPresent(all []*crashProfile) int {
	n := 0
	for _, p := range all {
		if p.present {
			n++
		}
	}
	return n
}

// failer is the part of testing.T the checks use, so that they can run
// on goroutines other than the test's.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// goroutineFailer records the first failure, closes failed and ends its
// goroutine (the test's goroutine reports it): t.Fatalf may only be called
// from the test's own goroutine.
type goroutineFailer struct {
	once   sync.Once
	msg    string
	failed chan struct{}
}

func (*goroutineFailer) Helper() {}

func (f *goroutineFailer) Fatalf(format string, args ...any) {
	f.once.Do(func() {
		f.msg = fmt.Sprintf(format, args...)
		close(f.failed)
	})
	runtime.Goexit()
}

func (c *crashClient) metric(t *testing.T, name string) int {
	t.Helper()
	status, body, err := c.do("GET", "/metrics", nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("metrics: %d %v", status, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return int(f)
		}
	}
	t.Fatalf("metric %s missing", name)
	return 0
}

// TestCrash_SIGKILLUnderLoad runs the real binary, kills it with SIGKILL
// under concurrent creates and updates, checks the file with bbolt's
// consistency check and, after a restart on the same file, that every
// acknowledged write is there in full and nothing is half written.
func TestCrash_SIGKILLUnderLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test builds and kills the real binary; skipped with -short")
	}
	var example map[string]any
	dec := json.NewDecoder(bytes.NewReader(mustRead(t, "../testdata/examples/genesys-create-profile.json")))
	dec.UseNumber()
	if err := dec.Decode(&example); err != nil {
		t.Fatal(err)
	}
	exe := buildProfiled(t)
	data := filepath.Join(t.TempDir(), "profiles.db")
	var all []*crashProfile
	totalAcked, totalAttempted := 0, 0
	for round := range crashRounds {
		proc := startProfiled(t, exe, "-config", "../config.yaml", "-data", data)
		c := newCrashClient(proc.base())
		if round > 0 {
			crashVerify(t, c, all, false) // the last round's writes
		}
		ctx, cancel := context.WithTimeout(context.Background(), crashLoad(round))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range crashWriters {
			wg.Go(func() {
				mine := crashWriter(t, c, round, w, example)
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			})
		}
		<-ctx.Done()
		cancel()
		proc.kill() // SIGKILL mid-load: the writers see their requests fail
		wg.Wait()
		c.http.CloseIdleConnections()
		if err := store.CheckFile(data); err != nil {
			t.Fatalf("round %d: bbolt check after SIGKILL: %v", round, err)
		}
		if t.Failed() {
			t.Fatalf("round %d: process log:\n%s", round, proc.logs)
		}
	}
	proc := startProfiled(t, exe, "-config", "../config.yaml", "-data", data)
	c := newCrashClient(proc.base())
	totalAcked = crashVerify(t, c, all, true) // every round's writes, after all the restarts
	crashVerifyAudit(t, c, all)
	for _, p := range all {
		totalAttempted += len(p.names) + len(p.extra) // the create, each PUT, each records insert
	}
	t.Logf("%d rounds of %d writers killed with SIGKILL; %d write requests sent, %d acknowledged, 0 acknowledged writes lost",
		crashRounds, crashWriters, totalAttempted, totalAcked)
}
