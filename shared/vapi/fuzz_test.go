package vapi_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
	"github.com/ringfence/ringfence/shared/vapi"
)

func FuzzParseMessage(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(`{"message":{"type":"tool-calls","toolCallList":[{"id":"a","function":{"name":"x","arguments":"[1]"}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := vapi.ParseMessage(body)
		if err != nil {
			if ringfence.ErrorCode(err) != ringfence.EINVALID {
				t.Fatalf("error code %s, want invalid", ringfence.ErrorCode(err))
			}
			return
		}
		switch m.Type {
		case vapi.TypeToolCalls:
			calls := m.ToolCalls()
			if len(calls) != len(m.ToolCallList) {
				t.Fatalf("%d tool calls for %d items: every item needs its answer", len(calls), len(m.ToolCallList))
			}
			for _, c := range calls {
				if c.Err != nil {
					if ringfence.ErrorCode(c.Err) != ringfence.EINVALID {
						t.Fatalf("error code %s, want invalid", ringfence.ErrorCode(c.Err))
					}
					continue
				}
				if c.ID == "" || c.Name == "" || c.Arguments == nil {
					t.Fatalf("tool call without id, name or arguments: %+v", c)
				}
			}
		case vapi.TypeStatusUpdate, vapi.TypeEndOfCallReport:
			ev, err := m.Event()
			if err == nil && ev.ProviderCallID == "" {
				t.Fatalf("event without a call: %+v", ev)
			}
		}
	})
}

func FuzzAuthenticate(f *testing.F) {
	f.Add([]byte(`{"message":{}}`), "", "sha256=00", "1767225600")
	f.Fuzz(func(t *testing.T, body []byte, secretHeader, signature, timestamp string) {
		headers := map[string]string{vapi.SecretHeader: secretHeader, vapi.SignatureHeader: signature, vapi.TimestampHeader: timestamp}
		err := vapi.Authenticate(func(h string) string { return headers[h] }, body, "the-secret", time.Unix(1767225600, 0))
		if err == nil && secretHeader != "the-secret" && secretHeader != "" {
			t.Fatalf("a wrong shared secret %q was accepted", secretHeader)
		}
		if err != nil && ringfence.ErrorCode(err) != ringfence.EUNAUTHORIZED {
			t.Fatalf("error code %s, want unauthorized", ringfence.ErrorCode(err))
		}
	})
}
