package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/contactcenter/profiled/schema"
)

// Problems in a config file are schema.Problems: file:line: "name": message,
// the form every tool that reads profiled's output (and an editor) knows.

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type config\.(\w+)$`)
	// wrongType is yaml.v3's word for a value of the wrong type: "cannot
	// unmarshal !!str `lots` into int32".
	wrongType = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into (\\S+)$")
	// lineKey is the key a "key: value" line (or list item) sets.
	lineKey = regexp.MustCompile(`^\s*(?:-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:`)
)

// keyOf names the key value is given for on line: the key just before it
// (in a flow mapping, store: {max_conns: lots}, the line's first key is
// the section's), else the key the line sets; "" when neither is found
// (yaml.v3 quotes a long value cut, ending "...").
func keyOf(line, value string) string {
	// The whole value, where it was not cut: {a: lots, b: lotsmore}
	// gives "lots" for a, not b.
	end := `(?:["']|\s*(?:[,}\]#]|$))`
	if cut, ok := strings.CutSuffix(value, "..."); ok {
		value, end = cut, ""
	}
	before := regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*:\s*["']?` + regexp.QuoteMeta(value) + end)
	if m := before.FindAllStringSubmatch(line, -1); m != nil {
		return m[len(m)-1][1]
	}
	if k := lineKey.FindStringSubmatch(line); k != nil {
		return k[1]
	}
	return ""
}

// expected says, for a Go type yaml.v3 names, what the file must give.
func expected(goType string) string {
	switch {
	case goType == "time.Duration":
		return "a duration such as 30s, 5m or 1h"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a " + goType
}

// sectionOf names config types as they are written in the file.
var sectionOf = map[string]string{
	"Config": "the top level", "Server": "server", "Store": "store", "Log": "log", "Admin": "admin",
	"Genesys": "genesys", "GenesysAuth": "genesys.auth", "EGain": "egain", "EGainMapping": "egain.mapping",
	"EGainKeys": "egain.mapping.keys", "EGainUser": "egain.users", "Limits": "limits", "CORS": "server.cors",
	"UnauthorizedStrings": "genesys.unauthorized_strings",
}

// yamlProblems turns a yaml.v3 error into positioned problems, quoting the
// line yaml names so that a wrong guess of the parser's is visible.
func yamlProblems(file string, data []byte, err error) schema.Problems {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	lines := bytes.Split(data, []byte("\n"))
	var out schema.Problems
	for _, msg := range msgs {
		p := schema.Problem{File: file, Message: msg}
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Message = m[2]
			if f := unknownField.FindStringSubmatch(p.Message); f != nil {
				section := sectionOf[f[2]]
				if section == "" {
					section = f[2]
				}
				p.Name, p.Message = f[1], "unknown key in "+section+" (keys are listed in docs/config.md)"
			} else {
				if w := wrongType.FindStringSubmatch(p.Message); w != nil && p.Line <= len(lines) {
					// Name the key as every other problem does, and say
					// what it takes rather than Go's type.
					p.Name = keyOf(string(lines[p.Line-1]), w[1])
					p.Message = fmt.Sprintf("%q is not %s", w[1], expected(w[2]))
				}
				// The line yaml names and the next: its guess is often the
				// line before the real fault (a bad indent shows on the next).
				for n := p.Line; n > 0 && n <= p.Line+1 && n <= len(lines); n++ {
					if text := strings.TrimRight(string(lines[n-1]), "\r"); n == p.Line || strings.TrimSpace(text) != "" {
						p.Message += fmt.Sprintf("\n    %d | %s", n, text)
					}
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// keyPath matches the dotted key a validation problem starts with:
// server.max_body_bytes, egain.users[2], egain.mapping.first_name.
var keyPath = regexp.MustCompile(`^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*)`)

// positioned makes a validation problem a schema.Problem at the line of
// the key its message starts with, when the file has that key.
func (c *Config) positioned(err error) schema.Problem {
	msg := err.Error()
	p := schema.Problem{File: c.File, Message: msg}
	if m := keyPath.FindStringSubmatch(msg); m != nil {
		p.Line = c.Line(m[1])
	}
	return p
}

// Line returns the line of the key at dotted path (with [i] for list
// items) in the config file, or of its nearest ancestor present; 0 when
// none is.
func (c *Config) Line(path string) int {
	if c.root == nil {
		return 0
	}
	n, line := c.root, 0
	for _, part := range strings.Split(path, ".") {
		name, index := part, -1
		if i := strings.IndexByte(part, '['); i > 0 {
			index, _ = strconv.Atoi(strings.TrimSuffix(part[i+1:], "]"))
			name = part[:i]
		}
		next := mappingValue(n, name)
		if next == nil {
			return line
		}
		line, n = next.key.Line, next.value
		if index >= 0 {
			if n.Kind != yaml.SequenceNode || index >= len(n.Content) {
				return line
			}
			n = n.Content[index]
			line = n.Line
		}
	}
	return line
}

type keyValue struct{ key, value *yaml.Node }

func mappingValue(n *yaml.Node, name string) *keyValue {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return &keyValue{n.Content[i], n.Content[i+1]}
		}
	}
	return nil
}

// Problems returns err as positioned problems of this config file: the
// problems of a schema.Problems, or one per joined error, each at the line
// of the key it names.
func (c *Config) Problems(err error) schema.Problems {
	var sp schema.Problems
	if errors.As(err, &sp) {
		return sp
	}
	var out schema.Problems
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			out = append(out, c.Problems(e)...)
		}
		return out
	}
	return schema.Problems{c.positioned(err)}
}

// AtKeys places the problems that name an identification key (in Name) at
// the line of the file that defines that key (the config or its schema
// file): check-config's refusals of stored data for a key read as the
// schema's own problems do.
func (c *Config) AtKeys(ps schema.Problems) schema.Problems {
	doc, _ := c.SchemaDocument()
	for i := range ps {
		for _, k := range doc.Keys {
			if ps[i].Name != "" && strings.EqualFold(k.Name, ps[i].Name) {
				ps[i].File, ps[i].Line = doc.File, k.Line
			}
		}
	}
	return ps
}
