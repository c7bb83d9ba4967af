package httpapi_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Every sample event in events/ is JSON and either an API Gateway event or an EventBridge
// scheduled event, and decodes into its Lambda event type and encodes back with every field it
// had, unchanged: no field of a sample is misnamed or lost on the way in, and no sample is
// skipped for not parsing.
func TestSampleEventsRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events found (%v)", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var probe struct {
			RouteKey   string `json:"routeKey"`
			DetailType string `json:"detail-type"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			t.Fatalf("%s is not a JSON object: %v", f, err)
		}
		var ev any
		switch {
		case probe.RouteKey != "" && probe.DetailType == "":
			ev = &events.APIGatewayV2HTTPRequest{}
		case probe.DetailType != "" && probe.RouteKey == "":
			ev = &events.EventBridgeEvent{}
		default:
			t.Fatalf("%s is neither an API Gateway event (routeKey) nor an EventBridge event (detail-type)", f)
		}
		if err := json.Unmarshal(raw, ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var a, b any
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(again, &b); err != nil {
			t.Fatal(err)
		}
		if path, ok := containedIn(a, b); !ok {
			t.Fatalf("%s does not round-trip: %s differs\n%s\n%s", f, path, raw, again)
		}
	}
}

// The sample events, used in order as a user of `make invoke` would, each get the answer the
// README promises.
func TestSampleEventsServe(t *testing.T) {
	h := MustHarness(t)
	handlers := h.srv.Handlers()
	send := func(function, file string, mutate func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
		req := MustEvent(t, file)
		if mutate != nil {
			mutate(&req)
		}
		return invoke(t, handlers[function], req)
	}
	MustDecode(t, send("api", "api-healthz.json", nil), 200, nil)
	var c campaignView
	MustDecode(t, send("api", "api-create-campaign.json", nil), 201, &c)
	if c.TotalContacts != 3 || c.Status != "created" {
		t.Fatalf("created campaign=%+v, want 3 contacts, status created", c)
	}
	withID := func(r *events.APIGatewayV2HTTPRequest) { r.PathParameters = map[string]string{"id": c.ID} }
	MustDecode(t, send("api", "api-get-campaign.json", withID), 200, nil)

	// The sample webhooks name Bolna execution 6c972873-...; give the campaign's first contact
	// that call, as placing it would.
	sample := mustParseBolna(t, []byte(MustEvent(t, "bolna-webhook-completed.json").Body))
	call := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "acct_test", CampaignID: c.ID, ContactID: dynamo.ContactID(0),
		Provider: ringfence.ProviderBolna, ProviderCallID: sample.ProviderCallID, Status: ringfence.StatusInitiated}
	if err := h.env.Store.CreateCall(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	var reply struct{ Result string }
	MustDecode(t, send("bolna-webhook", "bolna-webhook-ringing-base64.json", nil), 200, &reply)
	if reply.Result != "advanced" {
		t.Fatalf("ringing result=%s, want advanced", reply.Result)
	}
	MustDecode(t, send("bolna-webhook", "bolna-webhook-completed.json", nil), 200, &reply)
	if reply.Result != "first_terminal" {
		t.Fatalf("completed result=%s, want first_terminal", reply.Result)
	}
	MustDecode(t, send("bolna-webhook", "bolna-webhook-completed.json", nil), 200, &reply)
	if reply.Result != "duplicate" {
		t.Fatalf("repeated result=%s, want duplicate", reply.Result)
	}
	MustDecode(t, send("tools", "tools-reschedule-lead.json", nil), 200, nil)
	got := h.MustGetCampaign(t, c.ID)
	if got.CallsCompleted != 1 || got.TotalCost != "0.1271" || got.Outcomes["completed"] != 1 {
		t.Fatalf("campaign=%+v, want 1 completed call costing 0.1271", got)
	}
	calls := h.MustListCalls(t, c.ID).Calls
	if len(calls) != 1 || calls[0].RescheduleDay == nil || *calls[0].RescheduleDay != "thursday" {
		t.Fatalf("calls=%+v, want one with reschedule_day thursday", calls)
	}
}

// template.yaml and the code agree on which function serves which route, and every folder under
// functions/ is a function in the template.
func TestTemplateRoutesMatchHandlers(t *testing.T) {
	tmpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h := MustHarness(t)
	want := h.srv.RouteKeys()
	got := map[string][]string{}
	inTemplate := map[string]bool{}
	for _, fn := range tmpl.Functions {
		inTemplate[fn.Name] = true
		for _, r := range fn.Routes {
			got[fn.Name] = append(got[fn.Name], r.Method+" "+r.Path)
		}
		sort.Strings(got[fn.Name])
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("template routes=%v, handler routes=%v", got, want)
	}
	dirs, _ := os.ReadDir(filepath.Join("..", "..", "functions"))
	var folders []string
	for _, d := range dirs {
		folders = append(folders, d.Name())
		if !inTemplate[d.Name()] {
			t.Fatalf("functions/%s is not a function in template.yaml", d.Name())
		}
	}
	if len(folders) != len(tmpl.Functions) {
		t.Fatalf("functions/ holds %v but the template declares %d functions", folders, len(tmpl.Functions))
	}
}

// containedIn reports whether every field of a is in b with the same value (b may have more,
// such as the zero-valued fields the Go types always encode), and where they differ.
func containedIn(a, b any) (string, bool) {
	am, aIsMap := a.(map[string]any)
	bm, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		for k, v := range am {
			if path, ok := containedIn(v, bm[k]); !ok {
				return k + "." + path, false
			}
		}
		return "", true
	}
	return "", reflect.DeepEqual(a, b)
}
