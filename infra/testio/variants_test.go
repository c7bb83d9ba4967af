package testio_test

import (
	"encoding/json"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
)

func TestUnusedFieldVariantsLeaveUsedFieldsAlone(t *testing.T) {
	doc := []byte(`{"id":"x","call":{"status":"ended","extra":1},"list":[{"a":1}]}`)
	variants := testio.UnusedFieldVariants(t, doc, []string{"id", "call.status"})
	paths := map[string]int{}
	for _, v := range variants {
		paths[v.Path]++
		var got map[string]any
		if err := json.Unmarshal(v.Body, &got); err != nil {
			t.Fatalf("variant %s is not JSON: %v", v.Path, err)
		}
		if got["id"] != "x" || got["call"] == nil {
			t.Fatalf("variant %s changed a used field: %s", v.Path, v.Body)
		}
		if call, ok := got["call"].(map[string]any); !ok || call["status"] != "ended" {
			t.Fatalf("variant %s changed call.status: %s", v.Path, v.Body)
		}
	}
	for _, want := range []string{"call.extra", "list"} {
		if paths[want] != 6 {
			t.Fatalf("variants of %s=%d, want 6 (paths %v)", want, paths[want], paths)
		}
	}
	for _, never := range []string{"id", "call", "call.status", "list.0"} {
		if paths[never] != 0 {
			t.Fatalf("%s was replaced, want it left alone", never)
		}
	}
}
