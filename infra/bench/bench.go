// Package bench measures ringfence's webhook path against the designs it replaces, on DynamoDB
// Local, in one run: the same storm of provider deliveries through ringfence's real handler, a
// read-then-write handler, a generic idempotency record around it, and one bare conditional
// update per delivery (the ceiling). It is run by `make bench`, never by the tests.
package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/ringfence/ringfence/infra/simulator"
	"github.com/ringfence/ringfence/shared/bolna"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// Options size the storm.
type Options struct {
	Calls    int     // Calls in the campaign; each gets simulator.DeliveriesPerCall deliveries.
	Senders  int     // Deliveries in flight at once.
	KillRate float64 // Share of the idempotency baseline's handler runs killed half-way.
	Seed     uint64
}

// Cost is what a kind of delivery cost on average.
type Cost struct {
	Deliveries int
	Requests   float64
	ReadUnits  float64
	WriteUnits float64
}

func (c Cost) String() string {
	if c.Deliveries == 0 {
		return "–"
	}
	n := float64(c.Deliveries)
	return fmt.Sprintf("%.2f req, %.2f RCU, %.2f WCU", c.Requests/n, c.ReadUnits/n, c.WriteUnits/n)
}

// Row is one scenario's result.
type Row struct {
	Name       string
	Deliveries int
	Elapsed    time.Duration
	P50, P99   time.Duration
	First, Dup Cost
	Counted    int    // Calls the campaign counted.
	Expected   int    // Calls it should have counted.
	CostGot    string // The campaign's total cost.
	CostWant   string
	Note       string
}

// PerSecond is the scenario's throughput.
func (r Row) PerSecond() float64 { return float64(r.Deliveries) / r.Elapsed.Seconds() }

// Exact reports whether the counters and the cost came out exact.
func (r Row) Exact() bool { return r.Counted == r.Expected && r.CostGot == r.CostWant }

// NewTable creates a fresh table and returns a store on it whose requests are counted into the
// meter found in each request's context.
type NewTable func(ctx context.Context) (*dynamo.Store, error)

// meter counts one delivery's DynamoDB requests and capacity.
type meter struct {
	requests, reads, writes atomic.Int64 // Capacity in thousandths of a unit.
}

type meterKey struct{}

// Observer is the store observer that feeds the meters; pass it to dynamo.Observe.
func Observer(ctx context.Context, ob dynamo.Observation) {
	if m, ok := ctx.Value(meterKey{}).(*meter); ok {
		m.requests.Add(1)
		m.reads.Add(int64(ob.ReadUnits * 1000))
		m.writes.Add(int64(ob.WriteUnits * 1000))
	}
}

// delivery is one webhook delivery of the storm.
type delivery struct {
	body   []byte
	callID string
	event  ringfence.CallEvent
}

// outcome is how a scenario classifies a delivery: the one that did the work, or a duplicate.
type outcome int

const (
	other outcome = iota
	first
	duplicate
)

// scenario handles one delivery.
type scenario struct {
	name    string
	handle  func(ctx context.Context, d delivery) (outcome, error)
	counted func(ctx context.Context) (int, string, error)
	note    string
}

// Run runs the four scenarios, each on a fresh table with the same campaign and deliveries.
func Run(ctx context.Context, newTable NewTable, opts Options) ([]Row, error) {
	var rows []Row
	for _, name := range []string{"ringfence", withEndpoint, "naive read-then-write", "generic idempotency record", "ceiling: one conditional update"} {
		store, err := newTable(ctx)
		if err != nil {
			return rows, err
		}
		if name == withEndpoint {
			// An endpoint receives every event: each first terminal delivery writes its
			// call.ended into the outbox in the same transaction.
			if _, err := store.CreateEndpoint(ctx, ringfence.Endpoint{ID: dynamo.NewID("ep"), AccountID: "bench",
				URL: "https://crm.example.com/hook", Events: ringfence.EventTypes, Secret: "whsec_YmVuY2g="}); err != nil {
				return rows, err
			}
		}
		deliveries, campaignID, cost, err := prepare(ctx, store, opts)
		if err != nil {
			return rows, err
		}
		sc := scenarioFor(name, store, campaignID, opts)
		row, err := storm(ctx, sc, deliveries, opts.Senders)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", name, err)
		}
		row.Expected, row.CostWant = opts.Calls, cost.String()
		if row.Counted, row.CostGot, err = sc.counted(ctx); err != nil {
			return rows, err
		}
		if name == withEndpoint {
			// The outbox must hold one call.ended per call, or the comparison measures nothing.
			work, err := store.DueOutbox(ctx, time.Now().Add(time.Hour), opts.Calls+1)
			if err != nil {
				return rows, err
			}
			if len(work.Events) != opts.Calls {
				return rows, fmt.Errorf("%s: %d events in the outbox, want %d", name, len(work.Events), opts.Calls)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// prepare creates a campaign of opts.Calls contacts with a dialled call each, and scripts the
// provider's deliveries for them, interleaved at random.
func prepare(ctx context.Context, store *dynamo.Store, opts Options) ([]delivery, string, ringfence.Decimal, error) {
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed+7))
	contacts := make([]ringfence.Contact, opts.Calls)
	for i := range contacts {
		contacts[i] = ringfence.Contact{Phone: fmt.Sprintf("+1415%07d", i)}
	}
	campaign, err := store.CreateCampaign(ctx, ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "bench", Name: "storm", Provider: ringfence.ProviderBolna, AgentID: "agent", FromNumber: "+14155550100"}, contacts)
	if err != nil {
		return nil, "", ringfence.Decimal{}, err
	}
	var deliveries []delivery
	var cost ringfence.Decimal
	start := time.Now()
	for i := range contacts {
		call := ringfence.Call{ID: dynamo.NewID("call"), AccountID: "bench", CampaignID: campaign.ID, ContactID: dynamo.ContactID(i),
			Provider: ringfence.ProviderBolna, ProviderCallID: fmt.Sprintf("exec-%s-%d", campaign.ID, i), Status: ringfence.StatusInitiated}
		if err := store.CreateCall(ctx, call); err != nil {
			return nil, "", cost, err
		}
		// Bolna echoes the call's user_data, so its deliveries carry ringfence's call id.
		script := simulator.BolnaScript(rng, call.ProviderCallID, call.ID, ringfence.Outcomes[i%len(ringfence.Outcomes)], start)
		cost = cost.Add(script.Cost)
		for _, body := range script.Deliveries {
			ev, err := bolna.ParseWebhook(body)
			if err != nil {
				return nil, "", cost, err
			}
			deliveries = append(deliveries, delivery{body: body, callID: call.ID, event: ev})
		}
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	return deliveries, campaign.ID, cost, nil
}

// counters reads a campaign's count of terminal calls and its total cost.
func counters(store *dynamo.Store, campaignID string) func(context.Context) (int, string, error) {
	return func(ctx context.Context) (int, string, error) {
		c, err := store.GetCampaign(ctx, "bench", campaignID)
		return c.CallsCompleted, c.TotalCost.String(), err
	}
}

const webhookToken = "bench-webhook-token"

// withEndpoint is ringfence's scenario with an endpoint registered for the campaign's account.
const withEndpoint = "ringfence, endpoint registered"

func scenarioFor(name string, store *dynamo.Store, campaignID string, opts Options) scenario {
	switch name {
	case "ringfence", withEndpoint:
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		srv := httpapi.NewServer(store, calling.New(store, nil, calling.Defaults{}, log), httpapi.Config{BolnaWebhookToken: webhookToken}, log)
		handler := lambda.NewHandler(srv.BolnaWebhook())
		note := "real handler: decode, token, lookup, conditional transaction"
		if name == withEndpoint {
			note = "the same, with an endpoint registered: call.ended joins the transaction"
		}
		return scenario{name: name, counted: counters(store, campaignID), note: note,
			handle: func(ctx context.Context, d delivery) (outcome, error) {
				out, err := handler.Invoke(ctx, webhookEvent(d.body))
				if err != nil {
					return other, err
				}
				var resp events.APIGatewayV2HTTPResponse
				var reply struct{ Result string }
				json.Unmarshal(out, &resp)
				json.Unmarshal([]byte(resp.Body), &reply)
				switch {
				case resp.StatusCode != 200:
					return other, fmt.Errorf("status %d: %s", resp.StatusCode, resp.Body)
				case reply.Result == string(ringfence.ResultFirstTerminal):
					return first, nil
				case reply.Result == string(ringfence.ResultDuplicate):
					return duplicate, nil
				}
				return other, nil
			}}
	case "naive read-then-write":
		return scenario{name: name, counted: counters(store, campaignID), note: "reads the call, decides in code, writes",
			handle: func(ctx context.Context, d delivery) (outcome, error) {
				callID, err := store.CallIDByProviderCallID(ctx, d.event.Provider, d.event.ProviderCallID)
				if err != nil {
					return other, err
				}
				counted, err := store.BaselineReadThenWrite(ctx, callID, d.event, nil)
				switch {
				case counted:
					return first, err
				case d.event.Status.IsTerminal():
					return duplicate, err
				}
				return other, err
			}}
	case "generic idempotency record":
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(opts.Seed, 99))
		die := func() bool { mu.Lock(); defer mu.Unlock(); return rng.Float64() < opts.KillRate }
		return scenario{name: name, counted: counters(store, campaignID), note: fmt.Sprintf("%.0f%% of handler runs killed half-way, then retried", opts.KillRate*100),
			handle: func(ctx context.Context, d delivery) (outcome, error) {
				sum := sha256.Sum256(d.body)
				for {
					callID, err := store.CallIDByProviderCallID(ctx, d.event.Provider, d.event.ProviderCallID)
					if err != nil {
						return other, err
					}
					dup, err := store.BaselineIdempotencyRecord(ctx, hex.EncodeToString(sum[:]), callID, d.event, die)
					if errors.Is(err, dynamo.ErrBaselineDied) {
						continue // The provider retries; the record is IN_PROGRESS and, expired, taken over.
					}
					if dup {
						return duplicate, err
					}
					return first, err
				}
			}}
	}
	wins := atomic.Int64{}
	return scenario{name: name, note: "no counters: the least work a correct design must do",
		counted: func(context.Context) (int, string, error) { return int(wins.Load()), "–", nil },
		handle: func(ctx context.Context, d delivery) (outcome, error) {
			won, err := store.BaselineConditionalUpdate(ctx, d.callID, d.event)
			switch {
			case won:
				wins.Add(1)
				return first, err
			case d.event.Status.IsTerminal():
				return duplicate, err
			}
			return other, err
		}}
}

// webhookEvent is the API Gateway event of one Bolna delivery.
func webhookEvent(body []byte) []byte {
	b, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /webhooks/bolna", RawPath: "/webhooks/bolna",
		QueryStringParameters: map[string]string{"token": webhookToken},
		Headers:               map[string]string{"content-type": "application/json"},
		Body:                  string(body),
	})
	return b
}

// storm sends every delivery through the scenario from `senders` goroutines and measures.
func storm(ctx context.Context, sc scenario, deliveries []delivery, senders int) (Row, error) {
	work := make(chan delivery)
	type sample struct {
		took     time.Duration
		kind     outcome
		requests int64
		reads    int64
		writes   int64
	}
	samples := make(chan sample, len(deliveries))
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				m := &meter{}
				began := time.Now()
				kind, err := sc.handle(context.WithValue(ctx, meterKey{}, m), d)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
				}
				samples <- sample{time.Since(began), kind, m.requests.Load(), m.reads.Load(), m.writes.Load()}
			}
		}()
	}
	for _, d := range deliveries {
		work <- d
	}
	close(work)
	wg.Wait()
	close(samples)
	row := Row{Name: sc.name, Deliveries: len(deliveries), Elapsed: time.Since(start), Note: sc.note}
	var took []time.Duration
	for s := range samples {
		took = append(took, s.took)
		var c *Cost
		switch s.kind {
		case first:
			c = &row.First
		case duplicate:
			c = &row.Dup
		default:
			continue
		}
		c.Deliveries++
		c.Requests += float64(s.requests)
		c.ReadUnits += float64(s.reads) / 1000
		c.WriteUnits += float64(s.writes) / 1000
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	row.P50, row.P99 = took[len(took)/2], took[len(took)*99/100]
	return row, firstErr
}
