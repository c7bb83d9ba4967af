package retell_test

import (
	"strconv"
	"strings"
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

// No header forges a signature: a header that verifies is the key's own signature of this very
// body at the header's timestamp, verifies no other body and no other key; and a body signed with
// the key always verifies. The first seed verifies, so the forgery checks run on every fuzz run.
func FuzzVerify(f *testing.F) {
	seed := "v=1700000000000,d=" + vectorDigest
	if err := retell.Verify([]byte(vectorBody), vectorKey, seed, vectorTime); err != nil {
		f.Fatalf("the published vector does not verify: %v", err)
	}
	f.Add([]byte(vectorBody), seed)
	f.Add([]byte(vectorBody), "v=1700000000000,d="+strings.ToUpper(vectorDigest))
	f.Add([]byte(vectorBody), "v=1700000000001,d="+vectorDigest)
	f.Add([]byte(""), "v=1,d=00")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		now := vectorTime
		if err := retell.Verify(body, vectorKey, retell.Sign(body, vectorKey, now), now); err != nil {
			t.Fatalf("a signed body did not verify: %v", err)
		}
		if retell.Verify(body, vectorKey, header, now) != nil {
			return
		}
		ms, err := strconv.ParseInt(strings.TrimPrefix(strings.SplitN(header, ",", 2)[0], "v="), 10, 64)
		if err != nil {
			t.Fatalf("header %q verifies without a timestamp", header)
		}
		if got, want := strings.ToLower(header), retell.Sign(body, vectorKey, time.UnixMilli(ms)); got != want {
			t.Fatalf("header %q verifies, but the key's signature of the body is %q", header, want)
		}
		if retell.Verify(body, "another-key", header, now) == nil {
			t.Fatalf("header %q verifies under two keys", header)
		}
		other := append(append([]byte{}, body...), 'x')
		if retell.Verify(other, vectorKey, header, now) == nil {
			t.Fatalf("header %q verifies two different bodies", header)
		}
	})
}
