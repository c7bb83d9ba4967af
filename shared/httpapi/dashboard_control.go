package httpapi

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// dashboardCallsPerCampaign bounds the calls the dashboard reads per campaign for its recent
// activity: everything else it shows comes from the campaigns' counters, whatever their size.
const dashboardCallsPerCampaign = 50

// dashboardQueueCount bounds the queue entries the dashboard counts per kind of slot; a longer
// queue shows as "1000+ waiting".
const dashboardQueueCount = 1000

// campaignActions are the dashboard's buttons for a campaign in a status.
func campaignActions(st ringfence.CampaignStatus) []string {
	switch st {
	case ringfence.CampaignRunning:
		return []string{"pause", "cancel"}
	case ringfence.CampaignPaused:
		return []string{"resume", "cancel"}
	case ringfence.CampaignCreated, ringfence.CampaignScheduled:
		return []string{"cancel"}
	}
	return nil
}

// dashboardControl runs a dashboard button (pause, resume or cancel) for the signed-in account
// and sends the browser back to the dashboard. Another site cannot make a browser press the
// button: the session cookie is SameSite=Strict, and a form from another origin never reaches it
// (checkDashboardOrigin).
func (s *Server) dashboardControl(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	account, ok := s.dashboardAccount(ctx, req)
	if !ok {
		return 0, nil, ringfence.Errorf(ringfence.EUNAUTHORIZED, "sign in to the dashboard first")
	}
	moves := map[string]func(context.Context, string, string) (ringfence.Campaign, error){
		"pause": s.calls.PauseCampaign, "resume": s.calls.ResumeCampaign, "cancel": s.calls.CancelCampaign,
	}
	move, ok := moves[req.PathParameters["action"]]
	if !ok {
		return 0, nil, ringfence.Errorf(ringfence.EINVALID, "action must be pause, resume or cancel")
	}
	if _, err := move(ctx, account, req.PathParameters["id"]); err != nil {
		return 0, nil, err
	}
	return http.StatusSeeOther, page{headers: map[string]string{"Location": "/dashboard"}}, nil
}
