package calling_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ringfence/ringfence/infra/simulator"
)

// A Bolna agent's custom function reaches reschedule_lead through the served routes by GET, its
// parameters in the query string as Bolna's documentation configures it, and by POST, its
// parameters in the body; either way the call is named by Bolna's execution_id variable.
func TestBolnaToolsByGETAndPOST(t *testing.T) {
	s := MustStack(t, simulator.Options{Silent: true}, 5, 5)
	var c callView
	s.do(t, "POST", "/calls", `{"to":"+14155550101","provider":"bolna","agent_id":"agent-1","from_number":"+14155550100"}`, 201, &c)
	exec := s.sim.Stats().Scripts[c.ID].ExecutionID
	if exec == "" {
		t.Fatalf("call %s was not placed with the simulator", c.ID)
	}
	for _, tt := range []struct{ method, day, want string }{
		{http.MethodGet, "Thursday", "thursday"},
		{http.MethodPost, "Friday", "friday"},
	} {
		status, body, err := s.sim.CallBolnaTool(tt.method, "reschedule_lead", map[string]string{"execution_id": exec, "reschedule_day": tt.day})
		if err != nil || status != http.StatusOK {
			t.Fatalf("%s: status=%d body=%s err=%v, want 200", tt.method, status, body, err)
		}
		var reply struct {
			Success bool   `json:"success"`
			CallID  string `json:"call_id"`
			Day     string `json:"reschedule_day"`
		}
		if err := json.Unmarshal(body, &reply); err != nil || !reply.Success || reply.CallID != c.ID || reply.Day != tt.want {
			t.Fatalf("%s: reply=%s, want %s stored on %s", tt.method, body, tt.want, c.ID)
		}
		var got struct {
			RescheduleDay *string `json:"reschedule_day"`
		}
		s.do(t, "GET", "/calls/"+c.ID, "", 200, &got)
		if got.RescheduleDay == nil || *got.RescheduleDay != tt.want {
			t.Fatalf("%s: call reschedule_day=%v, want %s", tt.method, got.RescheduleDay, tt.want)
		}
	}
}
