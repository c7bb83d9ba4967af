package retell_test

import (
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/testio"

	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func FuzzParseWebhook(f *testing.F) {
	f.Add(testio.MustReadFixture(f, "call-ended.json"))
	f.Add(testio.MustReadFixture(f, "call-inbound.json"))
	f.Add([]byte(`{"event":"call_analyzed","call":{"call_id":"c","end_timestamp":1.5,"call_cost":{"combined_cost":-1}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := retell.ParseWebhook(body)
		if err != nil {
			if ringfence.ErrorCode(err) != ringfence.EINVALID {
				t.Fatalf("error code %s, want invalid", ringfence.ErrorCode(err))
			}
			return
		}
		if w.Event == retell.EventCallInbound {
			return
		}
		ev, err := w.CallEvent()
		if err == nil && ev.ProviderCallID == "" {
			t.Fatalf("event without a call: %+v", ev)
		}
		if err != nil && ringfence.ErrorCode(err) != ringfence.EINVALID {
			t.Fatalf("error code %s, want invalid", ringfence.ErrorCode(err))
		}
	})
}

// No header forges a signature, and a body signed with the key always verifies.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(vectorBody), "v=1700000000000,d="+vectorDigest)
	f.Add([]byte(""), "v=1,d=00")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		now := time.UnixMilli(vectorTimestamp)
		if err := retell.Verify(body, vectorKey, retell.Sign(body, vectorKey, now), now); err != nil {
			t.Fatalf("a signed body did not verify: %v", err)
		}
		if header == retell.Sign(body, vectorKey, now) {
			return
		}
		if err := retell.Verify(body, vectorKey, header, now); err == nil && header != retell.Sign(body, vectorKey, now) {
			// Only the exact signature (or one of another timestamp within tolerance) may pass.
			if err := retell.Verify(append(body, 'x'), vectorKey, header, now); err == nil {
				t.Fatalf("header %q verifies two different bodies", header)
			}
		}
	})
}
