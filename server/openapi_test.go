package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/contactcenter/profiled/config"
	"github.com/contactcenter/profiled/docs"
)

// openAPIPath is the published description of both HTTP APIs; the binary
// embeds it (docs.OpenAPI) and serves it at /docs/openapi.yaml.
const openAPIPath = "../docs/openapi.yaml"

// openAPIMethods are the operation keys of an OpenAPI 3.0 path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// route is one method + path template, with OpenAPI-style {param}s.
type route struct{ method, path string }

func (r route) String() string { return r.method + " " + r.path }

// echoParam matches an Echo path parameter such as :id.
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// served returns the routes e serves, each once. Echo's own not-found
// routes (added for groups with middleware, e.g. /admin and /admin/*) are
// not part of the contract and are left out.
func served(e *echo.Echo) map[route]bool {
	out := map[route]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		out[route{r.Method, echoParam.ReplaceAllString(r.Path, "{$1}")}] = true
	}
	return out
}

// openAPIDoc is the parsed document with the operations it describes.
type openAPIDoc struct {
	root map[string]any
	ops  map[route]map[string]any // operation objects by route
	item map[string]map[string]any
}

func loadOpenAPI(tb testing.TB) *openAPIDoc {
	tb.Helper()
	var root map[string]any
	if err := yaml.Unmarshal(mustRead(tb, openAPIPath), &root); err != nil {
		tb.Fatalf("%s does not parse: %v", openAPIPath, err)
	}
	paths, ok := root["paths"].(map[string]any)
	if !ok {
		tb.Fatalf("%s has no paths object", openAPIPath)
	}
	d := &openAPIDoc{root: root, ops: map[route]map[string]any{}, item: map[string]map[string]any{}}
	for path, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			tb.Fatalf("path %s is not an object", path)
		}
		if _, ok := item["$ref"]; ok {
			tb.Fatalf("path %s uses $ref; write its operations out so they can be checked", path)
		}
		d.item[path] = item
		for _, m := range openAPIMethods {
			if op, ok := item[m]; ok {
				obj, ok := op.(map[string]any)
				if !ok {
					tb.Fatalf("%s %s is not an object", strings.ToUpper(m), path)
				}
				d.ops[route{strings.ToUpper(m), path}] = obj
			}
		}
	}
	return d
}

// TestOpenAPI_RoutesMatchSpec fails when Echo serves a route the document
// does not describe, or the document describes one Echo does not serve;
// a path item's servers (the Genesys ones list / and /genesys/1/cs, the
// default genesys.base_path) say where it is served.
func TestOpenAPI_RoutesMatchSpec(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	doc := loadOpenAPI(t)
	if problems := compareRoutes(served(ts.App.Echo), doc.servedOps(config.DefaultGenesysBasePath)); len(problems) > 0 {
		t.Errorf("docs/openapi.yaml and the server's routes differ:\n  %s", strings.Join(problems, "\n  "))
	}
}

// servedOps is every documented operation at every server of its path
// item, with the document's /genesys/1/cs server read as base ("": none).
func (d *openAPIDoc) servedOps(base string) map[route]map[string]any {
	out := map[route]map[string]any{}
	for r, op := range d.ops {
		servers, _ := d.item[r.path]["servers"].([]any)
		if len(servers) == 0 {
			out[r] = op
		}
		for _, s := range servers {
			url, _ := s.(map[string]any)["url"].(string)
			switch url {
			case "/":
				out[r] = op
			case config.DefaultGenesysBasePath:
				if base != "" {
					out[route{r.method, base + r.path}] = op
				}
			}
		}
	}
	return out
}

// TestOpenAPI_GenesysBasePath: genesys.base_path moves the prefix the
// Genesys paths are also served under, or switches it off.
func TestOpenAPI_GenesysBasePath(t *testing.T) {
	t.Parallel()
	storeIndependent(t)
	doc := loadOpenAPI(t)
	for _, base := range []string{"/cs", ""} {
		cfg := configWith(t, "  base_path: /genesys/1/cs", `  base_path: "`+base+`/"`)
		if base == "" {
			cfg = configWith(t, "  base_path: /genesys/1/cs", `  base_path: ""`)
		}
		ts := mustStartWith(t, cfg, filepath.Join(t.TempDir(), "profiles.db"))
		if problems := compareRoutes(served(ts.App.Echo), doc.servedOps(base)); len(problems) > 0 {
			t.Errorf("with genesys.base_path %q the routes are not the documented ones:\n  %s", base, strings.Join(problems, "\n  "))
		}
	}
}

func compareRoutes(got map[route]bool, documented map[route]map[string]any) []string {
	var problems []string
	for r := range got {
		if strings.Contains(r.path, "*") {
			problems = append(problems, "served but cannot be described (wildcard): "+r.String())
		} else if _, ok := documented[r]; !ok {
			problems = append(problems, "served but missing from the spec: "+r.String())
		}
	}
	for r := range documented {
		if !got[r] {
			problems = append(problems, "in the spec but not served: "+r.String())
		}
	}
	sort.Strings(problems)
	return problems
}

// TestOpenAPI_Document checks the document itself: OpenAPI 3.x, every
// operation with a unique operationId and at least one response, every path
// parameter declared, and every local $ref resolvable.
func TestOpenAPI_Document(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if v, _ := doc.root["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi = %q, want 3.x", v)
	}
	info, _ := doc.root["info"].(map[string]any)
	if info == nil || info["title"] == nil || info["version"] == nil {
		t.Error("info.title and info.version are required")
	}
	if len(doc.ops) == 0 {
		t.Fatal("the document describes no operation")
	}

	var problems []string
	ids := map[string]route{}
	for _, r := range sortedRoutes(doc.ops) {
		op := doc.ops[r]
		id, _ := op["operationId"].(string)
		switch prev, dup := ids[id]; {
		case id == "":
			problems = append(problems, r.String()+": no operationId")
		case dup:
			problems = append(problems, fmt.Sprintf("%s: operationId %q is also used by %s", r, id, prev))
		default:
			ids[id] = r
		}
		if res, _ := op["responses"].(map[string]any); len(res) == 0 {
			problems = append(problems, r.String()+": no responses")
		}
		declared := map[string]bool{}
		for _, list := range []any{doc.item[r.path]["parameters"], op["parameters"]} {
			params, _ := list.([]any)
			for _, p := range params {
				obj, _ := doc.resolve(p).(map[string]any)
				if obj["in"] == "path" {
					name, _ := obj["name"].(string)
					declared[name] = true
					if obj["required"] != true {
						problems = append(problems, fmt.Sprintf("%s: path parameter %q must be required", r, name))
					}
				}
			}
		}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(r.path, -1) {
			if !declared[m[1]] {
				problems = append(problems, fmt.Sprintf("%s: path parameter %q is not declared", r, m[1]))
			}
			delete(declared, m[1])
		}
		for name := range declared {
			problems = append(problems, fmt.Sprintf("%s: declares path parameter %q that the path does not have", r, name))
		}
	}
	problems = append(problems, doc.danglingRefs(doc.root, "#")...)
	if len(problems) > 0 {
		sort.Strings(problems)
		t.Errorf("docs/openapi.yaml:\n  %s", strings.Join(problems, "\n  "))
	}
}

func sortedRoutes(ops map[route]map[string]any) []route {
	out := make([]route, 0, len(ops))
	for r := range ops {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// lookup returns what a local JSON pointer ("#/components/...") points at.
func (d *openAPIDoc) lookup(ref string) (any, bool) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = d.root
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// resolve follows v's $ref, if any.
func (d *openAPIDoc) resolve(v any) any {
	for range 8 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		if v, ok = d.lookup(ref); !ok {
			return nil
		}
	}
	return v
}

// danglingRefs lists the $refs under v that do not resolve. Examples are
// data, not document structure, so they are not searched.
func (d *openAPIDoc) danglingRefs(v any, at string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			if _, found := d.lookup(ref); !found {
				out = append(out, fmt.Sprintf("%s: $ref %q does not resolve", at, ref))
			}
		}
		for k, child := range x {
			if k == "example" || k == "examples" {
				continue
			}
			out = append(out, d.danglingRefs(child, at+"/"+k)...)
		}
	case []any:
		for i, child := range x {
			out = append(out, d.danglingRefs(child, fmt.Sprintf("%s/%d", at, i))...)
		}
	}
	return out
}

// TestOpenAPI_Served checks that the running server publishes the file as it
// is in the repository, byte for byte.
func TestOpenAPI_Served(t *testing.T) {
	t.Parallel()
	ts := mustStart(t)
	want := mustRead(t, openAPIPath)
	if !bytes.Equal(docs.OpenAPI, want) {
		t.Fatal("docs.OpenAPI differs from docs/openapi.yaml")
	}
	res := ts.do("GET", "/docs/openapi.yaml", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.Status)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("Content-Type = %q, want application/yaml", ct)
	}
	if !bytes.Equal(res.Body, want) {
		t.Errorf("GET /docs/openapi.yaml returned %d bytes that differ from docs/openapi.yaml (%d bytes)", len(res.Body), len(want))
	}
}

// TestOpenAPI_ExamplesMatchTestdata keeps the request examples of the
// document equal to the vendor example bodies in testdata/examples.
func TestOpenAPI_ExamplesMatchTestdata(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	for _, tc := range []struct{ pointer, file string }{
		{"#/components/requestBodies/Profile/content/application~1json/examples/bruceBanner/value", "genesys-create-profile.json"},
		{"#/components/requestBodies/EGainCustomerCreate/content/application~1json/examples/minimal/value", "egain-create-minimal.json"},
		{"#/components/requestBodies/EGainCustomerCreate/content/application~1json/examples/full/value", "egain-create-full.json"},
		{"#/components/requestBodies/EGainCustomerCreate/content/application~1xml/examples/minimal/value", "egain-create-minimal.xml"},
		{"#/components/requestBodies/EGainCustomerCreate/content/application~1xml/examples/full/value", "egain-create-full.xml"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, ok := doc.lookup(tc.pointer)
			if !ok {
				t.Fatalf("%s is missing", tc.pointer)
			}
			want := mustRead(t, filepath.Join("../testdata/examples", tc.file))
			if strings.HasSuffix(tc.file, ".xml") {
				s, _ := got.(string)
				if squeeze(s) != squeeze(string(want)) {
					t.Errorf("%s differs from %s (whitespace aside)", tc.pointer, tc.file)
				}
				return
			}
			var w any
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var g any
			if err := json.Unmarshal(data, &g); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s differs from %s", tc.pointer, tc.file)
			}
		})
	}
}

// squeeze drops all whitespace, for comparing XML texts laid out differently.
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), "")
}
