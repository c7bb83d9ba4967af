package httpapi

import "testing"

// A key named twice in one object is found at any depth, however it is escaped, and in large
// objects too; the same key in sibling objects, a key-like text inside a string, and bodies that
// are not JSON (left to the decoder) are not duplicates.
func TestCheckDuplicateKeys(t *testing.T) {
	for body, dup := range map[string]bool{
		`{"a":1,"a":2}`:                       true,
		`{"a":1,"\u0061":2}`:                  true,
		`{"a":1,"b":{"x":1},"a":2}`:           true,
		`{"a":[1,2,{"c":1,"c":2}]}`:           true,
		`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`: false,
		`{"a":"x,\"a\":1","b":2}`:             false,
		`{"a":"\\","b":"\\\"","c":1}`:         false,
		`{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k18":18,"k3":0}`: true,
		`{"a":}`: false,
		`]]]`:    false,
		`{"a`:    false,
	} {
		if got := checkDuplicateKeys([]byte(body)) != nil; got != dup {
			t.Fatalf("%s: duplicate=%v, want %v", body, got, dup)
		}
	}
}
