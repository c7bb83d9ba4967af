package httpapi_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// callsView is the GET /campaigns/{id}/calls body.
type callsView struct {
	Calls []struct {
		ID            string  `json:"id"`
		Status        string  `json:"status"`
		Outcome       *string `json:"outcome"`
		Cost          *string `json:"cost"`
		RescheduleDay *string `json:"reschedule_day"`
		Contact       struct {
			Outcome       *string `json:"outcome"`
			RescheduleDay *string `json:"reschedule_day"`
		} `json:"contact"`
	} `json:"calls"`
}

func (h *harness) MustListCalls(t *testing.T, campaignID string) callsView {
	t.Helper()
	req := MustEvent(t, "api-list-campaign-calls.json")
	req.PathParameters = map[string]string{"id": campaignID}
	var v callsView
	MustDecode(t, invoke(t, h.srv.Management(), req), 200, &v)
	return v
}

// The field failure: a post-call write replaced the record and dropped the reschedule_day a
// mid-call tool had stored. Here the tool's write lands before, between and after the post-call
// deliveries, and the day survives them all while the outcome is recorded.
func TestRescheduleDaySurvivesPostCallWrites(t *testing.T) {
	for _, toolAt := range []int{0, 5, simulator.DeliveriesPerCall} {
		h := MustHarness(t)
		campaign, calls := h.MustCreateCampaign(t, 1)
		s := simulator.BolnaScript(rand.New(rand.NewPCG(9, uint64(toolAt))), calls[0].ProviderCallID, "", ringfence.StatusCompleted, time.Now())
		tool := MustEvent(t, "tools-reschedule-lead.json")
		args, _ := json.Marshal(map[string]string{"reschedule_day": "Thursday"})
		body, _ := json.Marshal(map[string]any{"execution_id": calls[0].ProviderCallID, "arguments": string(args)})
		tool.Body = string(body)
		for i := 0; i <= len(s.Deliveries); i++ {
			if i == toolAt {
				MustDecode(t, invoke(t, h.srv.Tools(), tool), 200, nil)
			}
			if i < len(s.Deliveries) {
				MustDecode(t, invoke(t, h.srv.BolnaWebhook(), bolnaDelivery(t, s.Deliveries[i])), 200, nil)
			}
		}
		got := h.MustListCalls(t, campaign.ID).Calls
		if len(got) != 1 {
			t.Fatalf("calls=%d, want 1", len(got))
		}
		c := got[0]
		if c.RescheduleDay == nil || *c.RescheduleDay != "thursday" || c.Contact.RescheduleDay == nil || *c.Contact.RescheduleDay != "thursday" {
			t.Fatalf("tool at %d: reschedule_day call=%v contact=%v, want thursday on both", toolAt, c.RescheduleDay, c.Contact.RescheduleDay)
		}
		if c.Outcome == nil || *c.Outcome != "completed" || c.Contact.Outcome == nil || *c.Contact.Outcome != "completed" {
			t.Fatalf("tool at %d: outcome call=%v contact=%v, want completed", toolAt, c.Outcome, c.Contact.Outcome)
		}
	}
}

// The tool accepts the day under each name agents use, and the call by either id.
func TestRescheduleLeadArgumentShapes(t *testing.T) {
	h := MustHarness(t)
	_, calls := h.MustCreateCampaign(t, 1)
	exec, id := calls[0].ProviderCallID, calls[0].ID
	bodies := []string{
		`{"execution_id":"` + exec + `","reschedule_day":"monday"}`,
		`{"call_id":"` + id + `","day":"Tue"}`,
		`{"execution_id":"` + exec + `","preferred_day":"2026-12-01"}`,
		`{"arguments":{"execution_id":"` + exec + `","reschedule_day":"Wednesday"}}`,
		`{"arguments":"{\"call_id\":\"` + id + `\",\"day\":\"friday\"}"}`,
	}
	wants := []string{"monday", "tuesday", "2026-12-01", "wednesday", "friday"}
	for i, b := range bodies {
		req := MustEvent(t, "tools-reschedule-lead.json")
		req.Body = b
		var reply struct {
			Success bool   `json:"success"`
			Day     string `json:"reschedule_day"`
		}
		MustDecode(t, invoke(t, h.srv.Tools(), req), 200, &reply)
		if !reply.Success || reply.Day != wants[i] {
			t.Fatalf("body %s: reply=%+v, want %s", b, reply, wants[i])
		}
	}
}
