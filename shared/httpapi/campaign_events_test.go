package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// Pausing, resuming and cancelling through the API sends one event per move to an endpoint that
// subscribed, with the campaign as data; a retried pause sends nothing more. POST /endpoints
// accepts the three types.
func TestCampaignControlSendsOneEventPerMove(t *testing.T) {
	h := MustHarness(t)
	ctx := context.Background()
	api := h.srv.Management()
	moveTypes := []string{ringfence.EventCampaignPaused, ringfence.EventCampaignResumed, ringfence.EventCampaignCancelled}

	req := MustEvent(t, "api-create-endpoint.json")
	req.Body = `{"url": "https://crm.example.com/hook", "events": ["campaign.paused", "campaign.resumed", "campaign.cancelled"]}`
	var created struct {
		ID     string   `json:"id"`
		Events []string `json:"events"`
	}
	MustDecode(t, invoke(t, api, req), 201, &created)
	if !slices.Equal(created.Events, moveTypes) {
		t.Fatalf("created events=%v, want %v", created.Events, moveTypes)
	}
	// Only the test's receiver stays registered: crm.example.com is not there to answer.
	del := MustEvent(t, "api-delete-endpoint.json")
	del.PathParameters = map[string]string{"id": created.ID}
	MustDecode(t, invoke(t, api, del), 200, nil)

	clock := &testClock{now: time.Now()}
	r, srv := newReceiver(t, clock, func(string, int) int { return http.StatusOK })
	h.MustEndpointFor(t, r, srv.URL, moveTypes...)
	campaign, _ := h.MustCreateCampaign(t, 1)
	if _, err := h.env.Store.StartCampaign(ctx, "acct_test", campaign.ID); err != nil {
		t.Fatal(err)
	}
	for _, sample := range []string{"api-pause-campaign.json", "api-pause-campaign.json", "api-resume-campaign.json", "api-pause-campaign.json", "api-cancel-campaign.json", "api-cancel-campaign.json"} {
		req := MustEvent(t, sample)
		req.PathParameters = map[string]string{"id": campaign.ID}
		if got := invoke(t, api, req); got.StatusCode != 200 {
			t.Fatalf("%s: status=%d body=%s, want 200", sample, got.StatusCode, got.Body)
		}
	}

	d := h.deliverer(clock)
	clock.Add(time.Second)
	MustRun(t, d)
	counts := map[string]int{}
	ids := map[string]bool{}
	for _, rc := range r.delivered() {
		if rc.CallID != campaign.ID {
			t.Fatalf("event %s has data.id %s, want the campaign %s", rc.Type, rc.CallID, campaign.ID)
		}
		counts[rc.Type]++
		ids[rc.ID] = true
	}
	want := map[string]int{ringfence.EventCampaignPaused: 2, ringfence.EventCampaignResumed: 1, ringfence.EventCampaignCancelled: 1}
	if len(counts) != len(want) || len(ids) != 4 {
		t.Fatalf("delivered %v with %d distinct ids, want %v with 4", counts, len(ids), want)
	}
	for typ, n := range want {
		if counts[typ] != n {
			t.Fatalf("delivered %v, want %v", counts, want)
		}
	}
}
