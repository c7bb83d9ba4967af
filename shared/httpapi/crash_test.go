package httpapi_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// serverWith returns a server on the harness's table whose DynamoDB client is built with options.
func (h *harness) serverWith(options ...func(*aws.Config)) *httpapi.Server {
	store := h.env.Reopen(options...)
	return httpapi.NewServer(store, calling.New(store, nil, calling.Defaults{DirectLimit: 5, CampaignLimit: 10}, slog.New(slog.NewJSONHandler(h.logs, nil))), httpapi.Config{
		APIKey: testAPIKey, AccountID: "acct_test", BolnaWebhookToken: testBolnaToken, VapiWebhookSecret: testVapiSecret,
	}, slog.New(slog.NewJSONHandler(h.logs, nil)))
}

// callUntilCrash runs the handler and reports whether it died with dynamotest.Crash.
func callUntilCrash(h httpapi.Handler, req events.APIGatewayV2HTTPRequest) (crashed bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(dynamotest.Crash); !ok {
				panic(r)
			}
			crashed = true
		}
	}()
	h(context.Background(), req)
	return false
}

// crashPath describes one write path for the crash test: how to bring a fresh table to the state
// before the path, the request that takes the path, and what must hold after the provider (or
// the agent) retried until it got an answer.
type crashPath struct {
	name    string
	prepare func(t *testing.T, h *harness) (request events.APIGatewayV2HTTPRequest, check func(t *testing.T))
	handler func(*httpapi.Server) httpapi.Handler
}

// TestCrashAtEveryStep kills the handler before and after each DynamoDB request of each write path
// and then lets the sender retry. Whatever the point of death, the counters, the cost and the
// stored data end exactly as after one clean delivery.
func TestCrashAtEveryStep(t *testing.T) {
	start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	paths := []crashPath{
		{
			name:    "first terminal delivery",
			handler: (*httpapi.Server).BolnaWebhook,
			prepare: func(t *testing.T, h *harness) (events.APIGatewayV2HTTPRequest, func(*testing.T)) {
				campaign, calls := h.MustCreateCampaign(t, 1)
				s := simulator.BolnaScript(rand.New(rand.NewPCG(3, 4)), calls[0].ProviderCallID, "", ringfence.StatusCompleted, start)
				final := newestBody(t, s)
				return bolnaDelivery(t, final), func(t *testing.T) {
					h.assertCounters(t, campaign.ID, 1, map[string]int{"completed": 1}, s.Cost)
				}
			},
		},
		{
			name:    "revised cost after the terminal delivery",
			handler: (*httpapi.Server).BolnaWebhook,
			prepare: func(t *testing.T, h *harness) (events.APIGatewayV2HTTPRequest, func(*testing.T)) {
				campaign, calls := h.MustCreateCampaign(t, 1)
				s := simulator.BolnaScript(rand.New(rand.NewPCG(5, 6)), calls[0].ProviderCallID, "", ringfence.StatusCompleted, start)
				first, revised := terminalBodies(t, s)
				MustDecode(t, invoke(t, h.srv.BolnaWebhook(), bolnaDelivery(t, first)), 200, nil)
				return bolnaDelivery(t, revised), func(t *testing.T) {
					h.assertCounters(t, campaign.ID, 1, map[string]int{"completed": 1}, s.Cost)
				}
			},
		},
		{
			name:    "reschedule tool",
			handler: (*httpapi.Server).Tools,
			prepare: func(t *testing.T, h *harness) (events.APIGatewayV2HTTPRequest, func(*testing.T)) {
				_, calls := h.MustCreateCampaign(t, 1)
				req := MustEvent(t, "tools-reschedule-lead.json")
				req.Body = `{"execution_id":"` + calls[0].ProviderCallID + `","day":"friday"}`
				return req, func(t *testing.T) {
					c, err := h.env.Store.GetCall(context.Background(), calls[0].ID)
					if err != nil || c.RescheduleDay != "friday" {
						t.Fatalf("reschedule_day=%q (err %v), want friday", c.RescheduleDay, err)
					}
				}
			},
		},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			// Count the path's requests on a clean run first, so every point of death is tried.
			var requests atomic.Int64
			h := MustHarness(t)
			req, check := p.prepare(t, h)
			MustDecode(t, invoke(t, p.handler(h.serverWith(dynamotest.CountRequests(&requests))), req), 200, nil)
			check(t)
			if requests.Load() < 2 {
				t.Fatalf("path made %d DynamoDB requests; the test would prove nothing", requests.Load())
			}
			for n := 1; n <= int(requests.Load()); n++ {
				for _, after := range []bool{false, true} {
					h := MustHarness(t)
					req, check := p.prepare(t, h)
					if !callUntilCrash(p.handler(h.serverWith(dynamotest.CrashAt(n, after))), req) {
						t.Fatalf("request %d (after=%v): the handler did not reach the crash point", n, after)
					}
					// The sender retries until it is answered, then once more as a duplicate.
					MustDecode(t, invoke(t, p.handler(h.srv), req), 200, nil)
					MustDecode(t, invoke(t, p.handler(h.srv), req), 200, nil)
					check(t)
				}
			}
		})
	}
}

// terminalBodies returns the first and the revised final report of a completed call's script.
func terminalBodies(t *testing.T, s simulator.Script) (first, revised []byte) {
	t.Helper()
	var finals [][]byte
	seen := map[string]bool{}
	for _, b := range s.Deliveries {
		ev := mustParseBolna(t, b)
		if ev.Status.IsTerminal() && !seen[ev.Version] {
			seen[ev.Version] = true
			finals = append(finals, b)
		}
	}
	if len(finals) != 2 {
		t.Fatalf("script has %d distinct final reports, want 2", len(finals))
	}
	if mustParseBolna(t, finals[0]).Version > mustParseBolna(t, finals[1]).Version {
		finals[0], finals[1] = finals[1], finals[0]
	}
	return finals[0], finals[1]
}

// newestBody returns the script's newest final report.
func newestBody(t *testing.T, s simulator.Script) []byte {
	_, revised := terminalBodies(t, s)
	return revised
}
