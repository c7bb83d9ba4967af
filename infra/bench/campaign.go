package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// CampaignOptions size the campaign benchmark.
type CampaignOptions struct {
	Small, Large int // Contacts of the two campaigns whose start is timed.
	Limit        int // The account's campaign limit while dialling.
	Dials        int // Dials measured for the dial rate and the release-to-dial latency.
}

// CampaignRow is the campaign benchmark's result.
type CampaignRow struct {
	Small, Large           int
	StartSmall, StartLarge time.Duration // How long POST /campaigns/{id}/start took to answer.
	Limit, Dials           int
	DialElapsed            time.Duration
	P50, P99               time.Duration // From a slot's release (its call's end) to the next dial.
}

// Ratio is how much longer the large campaign's start took than the small one's.
func (r CampaignRow) Ratio() float64 { return r.StartLarge.Seconds() / r.StartSmall.Seconds() }

// DialsPerSecond is the rate of dials at the limit, each call ending as soon as it is dialled.
func (r CampaignRow) DialsPerSecond() float64 { return float64(r.Dials) / r.DialElapsed.Seconds() }

// instantDialer is a provider that accepts every call at once and hands it to the test's
// "provider", which ends it; it measures the time from the end before each dial to the dial.
type instantDialer struct {
	mu       sync.Mutex
	released []time.Time // Ends not yet followed by a dial, oldest first.
	latency  []time.Duration
	dialled  chan string
}

func (d *instantDialer) Dial(_ context.Context, req ringfence.DialRequest) (string, error) {
	d.mu.Lock()
	if len(d.released) > 0 {
		d.latency = append(d.latency, time.Since(d.released[0]))
		d.released = d.released[1:]
	}
	d.mu.Unlock()
	d.dialled <- req.CallID
	return "bench-" + req.CallID, nil
}

func (d *instantDialer) release() {
	d.mu.Lock()
	d.released = append(d.released, time.Now())
	d.mu.Unlock()
}

// RunCampaign times a campaign's start at two sizes (it must answer in the same time), then
// dials the large campaign at the account's limit with calls that end as soon as they are placed,
// measuring dials per second and the time from each slot's release to the next dial.
func RunCampaign(ctx context.Context, newTable NewTable, opts CampaignOptions) (CampaignRow, error) {
	row := CampaignRow{Small: opts.Small, Large: opts.Large, Limit: opts.Limit, Dials: min(opts.Dials, opts.Large)}
	dialer := &instantDialer{dialled: make(chan string, opts.Large+opts.Small)}
	start := func(n int, limit int) (*calling.Service, *dynamo.Store, ringfence.Campaign, time.Duration, error) {
		store, err := newTable(ctx)
		if err != nil {
			return nil, nil, ringfence.Campaign{}, 0, err
		}
		svc := calling.New(store, map[ringfence.Provider]ringfence.Dialer{ringfence.ProviderBolna: dialer},
			calling.Defaults{DirectLimit: 1, CampaignLimit: limit}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := store.EnsureAccount(ctx, ringfence.Account{ID: "bench", Name: "bench"}, fmt.Sprintf("bench-key-%d", n)); err != nil {
			return nil, nil, ringfence.Campaign{}, 0, err
		}
		c := ringfence.Campaign{ID: dynamo.NewID("cmp"), AccountID: "bench", Name: "bench", Provider: ringfence.ProviderBolna, AgentID: "agent", FromNumber: "+14155550100"}
		if _, err := store.CreateCampaign(ctx, c, nil); err != nil {
			return nil, nil, c, 0, err
		}
		for from := 0; from < n; from += ringfence.MaxContactsPerRequest {
			var contacts []ringfence.Contact
			for i := from; i < min(from+ringfence.MaxContactsPerRequest, n); i++ {
				contacts = append(contacts, ringfence.Contact{Name: "Contact", Phone: fmt.Sprintf("+1415%07d", i)})
			}
			if _, err := store.AddContacts(ctx, "bench", c.ID, contacts); err != nil {
				return nil, nil, c, 0, err
			}
		}
		began := time.Now()
		_, err = svc.StartCampaign(ctx, "bench", c.ID)
		return svc, store, c, time.Since(began), err
	}
	// The start is timed with no slot free, so that it queues and does not dial. The first start
	// warms DynamoDB Local and the process up and is not counted.
	var err error
	for range 2 {
		if _, _, _, row.StartSmall, err = start(opts.Small, 0); err != nil {
			return row, err
		}
	}
	_, store, _, took, err := start(opts.Large, 0)
	if err != nil {
		return row, err
	}
	row.StartLarge = took

	// Dialling: the "provider" ends each call as soon as it is dialled; the end releases the slot
	// and dials the next call. The dispatcher queues the contacts meanwhile.
	svc2 := calling.New(store, map[ringfence.Provider]ringfence.Dialer{ringfence.ProviderBolna: dialer},
		calling.Defaults{DirectLimit: 1, CampaignLimit: opts.Limit}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { _ = svc2.AdvanceCampaigns(ctx) }()
	began := time.Now()
	ended := make(chan struct{}, row.Dials+opts.Limit)
	var enders sync.WaitGroup
	for range opts.Limit {
		enders.Add(1)
		go func() {
			defer enders.Done()
			for callID := range dialer.dialled {
				dialer.release()
				_, _, _ = svc2.ApplyEvent(ctx, ringfence.CallEvent{Provider: ringfence.ProviderBolna, CallID: callID, ProviderCallID: "bench-" + callID, Status: ringfence.StatusCompleted})
				ended <- struct{}{}
				if len(ended) >= row.Dials {
					return
				}
			}
		}()
	}
	if _, err := svc2.DrainAll(ctx); err != nil {
		return row, err
	}
	for len(ended) < row.Dials {
		select {
		case <-ctx.Done():
			return row, ctx.Err()
		case <-time.After(50 * time.Millisecond):
			if _, err := svc2.DrainAll(ctx); err != nil {
				return row, err
			}
		}
	}
	row.DialElapsed = time.Since(began)
	dialer.mu.Lock()
	lat := append([]time.Duration(nil), dialer.latency...)
	dialer.mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		row.P50, row.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return row, nil
}
