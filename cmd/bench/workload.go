package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The identity of profile n, the same in the imported data set and in the
// bodies of creates: reads can pick any n below the data set size and
// know its id, e-mail and phone number. Creates use n from createBase on,
// so they never collide with the data set.
const createBase = 1_000_000_000

func customerID(n uint64) string   { return fmt.Sprintf("B%015d", n) }
func primaryEmail(n uint64) string { return "u" + strconv.FormatUint(n, 10) + "@bench.example" }
func otherEmail(n uint64) string   { return "u" + strconv.FormatUint(n, 10) + "@alt.example" }
func phone(n uint64, i int) string { return fmt.Sprintf("%d%010d", i, n) }

// template is a body with holes: the example with its e-mail addresses and
// phone numbers cut out, so a unique body costs a few appends instead of
// a JSON round trip on the client's share of the CPU.
type template struct {
	parts []string // len(holes)+1 literal pieces
	holes []func(n uint64) string
}

// newGenesysTemplate cuts the Genesys example's identities out of its
// compacted text.
func newGenesysTemplate(example []byte) (*template, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, example); err != nil {
		return nil, fmt.Errorf("genesys example: %w", err)
	}
	return cut(buf.String(), map[string]func(uint64) string{
		`"bruce.banner@marvelous.com"`: func(n uint64) string { return strconv.Quote(primaryEmail(n)) },
		`"b.banner@hulk.dom"`:          func(n uint64) string { return strconv.Quote(otherEmail(n)) },
		`"3145926535"`:                 func(n uint64) string { return strconv.Quote(phone(n, 1)) },
		`"6543210"`:                    func(n uint64) string { return strconv.Quote(phone(n, 2)) },
		`"951357456"`:                  func(n uint64) string { return strconv.Quote(phone(n, 3)) },
	})
}

// cut splits text at each literal of holes (each must occur exactly once).
func cut(text string, holes map[string]func(uint64) string) (*template, error) {
	type at struct {
		pos  int
		lit  string
		fill func(uint64) string
	}
	var found []at
	for lit, fill := range holes {
		if strings.Count(text, lit) != 1 {
			return nil, fmt.Errorf("example: %s must occur exactly once", lit)
		}
		found = append(found, at{strings.Index(text, lit), lit, fill})
	}
	slices.SortFunc(found, func(a, b at) int { return a.pos - b.pos })
	t := &template{}
	prev := 0
	for _, h := range found {
		t.parts = append(t.parts, text[prev:h.pos])
		t.holes = append(t.holes, h.fill)
		prev = h.pos + len(h.lit)
	}
	t.parts = append(t.parts, text[prev:])
	return t, nil
}

// render appends the body of profile n to b.
func (t *template) render(b []byte, n uint64) []byte {
	for i, fill := range t.holes {
		b = append(b, t.parts[i]...)
		b = append(b, fill(n)...)
	}
	return append(b, t.parts[len(t.parts)-1]...)
}

// renderWithID appends profile n's body with its customer_id first: the
// import line of the data set.
func (t *template) renderWithID(b []byte, n uint64) []byte {
	b = append(b, `{"customer_id":"`...)
	b = append(b, customerID(n)...)
	b = append(b, `",`...)
	body := t.render(nil, n)
	return append(b, body[1:]...) // drop the body's own '{'
}

// workload is one benchmarked request type.
type workload struct {
	name   string
	write  bool // counts against the POST ceiling and reports creates per fsync
	expect int
	build  func(base string, size uint64) requestFunc
}

// workloads returns the six workloads. session is the eGain session of
// the demo user.
func workloads(genesys *template, egainBody []byte, session func() string) []workload {
	get := func(path func(rng *rand.Rand, size uint64) string) func(string, uint64) requestFunc {
		return func(base string, size uint64) requestFunc {
			return func(rng *rand.Rand, _ uint64) (*http.Request, error) {
				return http.NewRequest(http.MethodGet, base+path(rng, size), nil)
			}
		}
	}
	return []workload{
		{name: "genesys create", write: true, expect: http.StatusCreated, build: func(base string, _ uint64) requestFunc {
			return func(_ *rand.Rand, seq uint64) (*http.Request, error) {
				req, err := http.NewRequest(http.MethodPost, base+"/profiles", bytes.NewReader(genesys.render(nil, createBase+seq)))
				if err == nil {
					req.Header.Set("Content-Type", "application/json")
				}
				return req, err
			}
		}},
		{name: "get by id", expect: http.StatusOK, build: get(func(rng *rand.Rand, size uint64) string {
			return "/profiles/" + customerID(rng.Uint64N(size)) + "?extensions=Phone"
		})},
		{name: "identify e-mail", expect: http.StatusOK, build: get(func(rng *rand.Rand, size uint64) string {
			return "/profiles?EmailAddress=" + url.QueryEscape(primaryEmail(rng.Uint64N(size)))
		})},
		{name: "identify phone", expect: http.StatusOK, build: get(func(rng *rand.Rand, size uint64) string {
			return "/profiles?Phone.PhoneNumber=" + phone(rng.Uint64N(size), 1)
		})},
		{name: "egain search e-mail", expect: http.StatusOK, build: func(base string, size uint64) requestFunc {
			return func(rng *rand.Rand, _ uint64) (*http.Request, error) {
				req, err := http.NewRequest(http.MethodGet, base+"/ws/v12/interaction/customer?email="+url.QueryEscape(primaryEmail(rng.Uint64N(size))), nil)
				if err == nil {
					req.Header.Set("X-egain-session", session())
					req.Header.Set("Accept", "application/json")
				}
				return req, err
			}
		}},
		{name: "egain create", write: true, expect: http.StatusCreated, build: func(base string, _ uint64) requestFunc {
			return func(*rand.Rand, uint64) (*http.Request, error) {
				req, err := http.NewRequest(http.MethodPost, base+"/ws/v12/interaction/customer", bytes.NewReader(egainBody))
				if err == nil {
					req.Header.Set("X-egain-session", session())
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/json")
				}
				return req, err
			}
		}},
	}
}

// readExample reads an example body from testdata/examples.
func readExample(dir, name string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("example body: %w", err)
	}
	return data, nil
}
