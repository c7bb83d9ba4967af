package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// smallObject is how many keys of an object are compared in a slice before a map pays off.
const smallObject = 16

// jsonFrame is an object or array being read: whether an object's next string is a key, and the
// keys it has shown (as they stand in the body, unescaped only when they hold an escape).
type jsonFrame struct {
	object    bool
	expectKey bool
	few       [][]byte
	many      map[string]struct{}
}

// add records a key, and reports false if the object had it already.
func (f *jsonFrame) add(k []byte) bool {
	if f.many != nil {
		if _, seen := f.many[string(k)]; seen {
			return false
		}
		f.many[string(k)] = struct{}{}
		return true
	}
	for _, seen := range f.few {
		if bytes.Equal(seen, k) {
			return false
		}
	}
	f.few = append(f.few, k)
	if len(f.few) > smallObject {
		f.many = make(map[string]struct{}, 2*len(f.few))
		for _, seen := range f.few {
			f.many[string(seen)] = struct{}{}
		}
	}
	return true
}

// checkDuplicateKeys refuses a JSON text in which an object names a key twice, at any depth:
// encoding/json would keep the last, another parser the first, so what the request means would
// depend on who reads it. It scans the bytes once, without decoding values, keeping only the
// keys of the objects it is inside (as slices of the body) and reusing their frames, so a 6 MB
// body costs a few allocations, not one per token. The repeated key is named through
// ringfence.Excerpt. A body that is not valid JSON is left to the decoder, which describes it.
func checkDuplicateKeys(b []byte) error {
	var stack []jsonFrame
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			end := stringEnd(b, i)
			if end < 0 {
				return nil
			}
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
				key := b[i+1 : end]
				if bytes.IndexByte(key, '\\') >= 0 {
					var unescaped string
					if json.Unmarshal(b[i:end+1], &unescaped) != nil {
						return nil
					}
					key = []byte(unescaped)
				}
				if !stack[n-1].add(key) {
					return ringfence.Errorf(ringfence.EINVALID, "request body names %s more than once in one object", ringfence.Excerpt(string(key)))
				}
				stack[n-1].expectKey = false
			}
			i = end
		case '{', '[':
			if len(stack) < cap(stack) {
				stack = stack[:len(stack)+1]
			} else {
				stack = append(stack, jsonFrame{})
			}
			f := &stack[len(stack)-1]
			f.object, f.expectKey, f.few, f.many = b[i] == '{', b[i] == '{', f.few[:0], nil
		case '}', ']':
			if len(stack) == 0 {
				return nil
			}
			stack = stack[:len(stack)-1]
		case ',':
			if n := len(stack); n > 0 && stack[n-1].object {
				stack[n-1].expectKey = true
			}
		}
	}
	return nil
}

// stringEnd returns the index of the quote that ends the JSON string starting at b[start], or -1.
func stringEnd(b []byte, start int) int {
	for j := start + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return -1
}

// canonicalJSON returns a JSON text's canonical form: parsed and written again, so that object
// keys are sorted and whitespace is gone, with numbers kept as written. Two bodies with the same
// fields and values have the same canonical form whatever their layout. It reports false for a
// body that is not one JSON value or that names a key twice (such a body is refused anyway).
func canonicalJSON(b []byte) ([]byte, bool) {
	if checkDuplicateKeys(b) != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	out, err := json.Marshal(v)
	return out, err == nil
}
