package testio

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Variant is a copy of a JSON document with the value at Path replaced by another JSON type.
type Variant struct {
	Path string // Dotted path of the replaced value, array elements by index: "call.artifact.0".
	Body []byte
}

// otherTypes are the values an unused field is turned into: every JSON type once.
var otherTypes = []any{nil, true, 12345.5, "some text", []any{}, map[string]any{"x": 1}}

// UnusedFieldVariants returns, for every value in doc that is not a field the adapter uses, copies
// of doc with that value replaced by each JSON type. used lists the dotted paths an adapter reads;
// a path that leads to a used field is recursed into rather than replaced, and nothing beneath a
// used field is touched. A provider may change the type of a field ringfence does not read, and
// such a change must never fail a message or change what ringfence decides.
func UnusedFieldVariants(tb testing.TB, doc []byte, used []string) []Variant {
	tb.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		tb.Fatalf("fixture is not JSON: %v", err)
	}
	var out []Variant
	var walk func(path string, v any)
	walk = func(path string, v any) {
		for _, child := range children(v) {
			p := joinPath(path, child)
			switch {
			case isUsed(p, used):
				continue
			case leadsToUsed(p, used):
				walk(p, childValue(v, child))
				continue
			}
			for _, other := range otherTypes {
				b, err := json.Marshal(replaced(root, strings.Split(p, "."), other))
				if err != nil {
					tb.Fatal(err)
				}
				out = append(out, Variant{Path: p, Body: b})
			}
		}
	}
	walk("", root)
	return out
}

// children lists an object's keys (sorted, so variants come in a stable order) or an array's
// indexes.
func children(v any) []string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	case []any:
		idx := make([]string, len(v))
		for i := range v {
			idx[i] = strconv.Itoa(i)
		}
		return idx
	}
	return nil
}

func childValue(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		return v[key]
	case []any:
		i, _ := strconv.Atoi(key)
		return v[i]
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// isUsed reports whether p is a used field or lies beneath one.
func isUsed(p string, used []string) bool {
	for _, u := range used {
		if p == u || strings.HasPrefix(p, u+".") {
			return true
		}
	}
	return false
}

// leadsToUsed reports whether a used field lies beneath p.
func leadsToUsed(p string, used []string) bool {
	for _, u := range used {
		if strings.HasPrefix(u, p+".") {
			return true
		}
	}
	return false
}

// replaced returns a deep copy of v with the value at path set to with.
func replaced(v any, path []string, with any) any {
	if len(path) == 0 {
		return with
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, c := range v {
			out[k] = c
		}
		out[path[0]] = replaced(v[path[0]], path[1:], with)
		return out
	case []any:
		out := append([]any(nil), v...)
		i, _ := strconv.Atoi(path[0])
		out[i] = replaced(v[i], path[1:], with)
		return out
	}
	return v
}

// MustReencode returns doc decoded and encoded again as the variants are, with object keys
// sorted, so a parse of the fixture compares with parses of its variants field for field.
func MustReencode(tb testing.TB, doc []byte) []byte {
	tb.Helper()
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		tb.Fatalf("fixture is not JSON: %v", err)
	}
	b, err := json.Marshal(root)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
