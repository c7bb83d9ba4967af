// Command ringfence-bench runs the benchmark behind `make bench`: a storm of provider deliveries
// through ringfence's webhook handler and through the designs it replaces, on DynamoDB Local, and
// the functions' cold-start proxies. It prints one table and writes it to BENCHMARKS.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ringfence/ringfence/infra/bench"
	"github.com/ringfence/ringfence/infra/dynamodblocal"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/dynamo"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ringfence-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("ringfence-bench", flag.ContinueOnError)
	calls := flags.Int("calls", 200, "calls in the storm (each gets 12 deliveries)")
	senders := flags.Int("senders", 64, "deliveries in flight at once")
	kill := flags.Float64("kill", 0.1, "share of the idempotency baseline's handler runs killed half-way")
	out := flags.String("out", "BENCHMARKS.md", "where to write the results (\"\" for nowhere)")
	coldStarts := flags.Bool("coldstart", true, "build every function and measure its cold-start proxies")
	campaignSmall := flags.Int("campaign-small", 100, "contacts of the small campaign whose start is timed")
	campaignLarge := flags.Int("campaign-large", 50000, "contacts of the large campaign whose start is timed")
	campaignLimit := flags.Int("campaign-limit", 20, "the account's campaign limit while the large campaign is dialled")
	campaignDials := flags.Int("campaign-dials", 2000, "dials measured for the dial rate and the release-to-dial latency")
	if err := flags.Parse(args); err != nil {
		return err
	}
	root, err := dynamodblocal.RepoRoot()
	if err != nil {
		return err
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "starting DynamoDB Local...")
	srv, err := dynamodblocal.Start(ctx, root, 0, io.Discard)
	if err != nil {
		return err
	}
	defer srv.Stop()
	admin := dynamo.NewClient(dynamo.LocalConfig(), srv.Endpoint)
	seq := 0
	newTable := func(ctx context.Context) (*dynamo.Store, error) {
		seq++
		name := fmt.Sprintf("bench_%d_%d", time.Now().Unix(), seq)
		if err := dynamo.CreateTable(ctx, admin, name, tmpl.Table); err != nil {
			return nil, err
		}
		return dynamo.NewStore(dynamo.Observe(dynamo.NewClient(dynamo.LocalConfig(), srv.Endpoint), bench.Observer), name), nil
	}
	fmt.Fprintf(stdout, "campaign: start at %d and %d contacts, then %d dials at a limit of %d...\n", *campaignSmall, *campaignLarge, *campaignDials, *campaignLimit)
	campaign, err := bench.RunCampaign(ctx, newTable, bench.CampaignOptions{Small: *campaignSmall, Large: *campaignLarge, Limit: *campaignLimit, Dials: *campaignDials})
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, renderCampaign(campaign))
	fmt.Fprintf(stdout, "storm: %d calls x 12 deliveries, %d senders, four designs (ringfence with and without an endpoint)...\n", *calls, *senders)
	rows, err := bench.Run(ctx, newTable, bench.Options{Calls: *calls, Senders: *senders, KillRate: *kill, Seed: 42})
	if err != nil {
		return err
	}
	var functions []string
	for _, fn := range tmpl.Functions {
		functions = append(functions, fn.Name)
	}
	var colds []bench.ColdStart
	if *coldStarts {
		colds, err = bench.MeasureColdStarts(ctx, root, functions, []string{
			"RINGFENCE_TABLE=bench", "RINGFENCE_DYNAMODB_ENDPOINT=" + srv.Endpoint, "HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH"),
		}, 5)
		if err != nil {
			return err
		}
	}
	report := render(rows, colds, *calls, *senders, strings.Join(append([]string{"make bench"}, args...), " ")) + renderCampaign(campaign)
	fmt.Fprintln(stdout, report)
	if *out != "" {
		return os.WriteFile(filepath.Join(root, *out), []byte(report), 0o644)
	}
	return nil
}

func render(rows []bench.Row, colds []bench.ColdStart, calls, senders int, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nLatest run of `%s`, %s.\n\n", command, time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s; %s; DynamoDB Local (in memory, on this machine).\n\n", cpuModel(), runtime.NumCPU(), memory(), runtime.Version())
	fmt.Fprintf(&b, "## Storm: %d calls x 12 deliveries, %d concurrent senders\n\n", calls, senders)
	b.WriteString("Each design handles the same shuffled deliveries (every status change, revised costs, duplicates), on a fresh table. Requests and capacity are counted per delivery with `ReturnConsumedCapacity`; a failed conditional write reports no capacity.\n\n")
	b.WriteString("| design | deliveries/s | p50 | p99 | per first delivery | per duplicate | calls counted | total cost | exact |\n|---|---|---|---|---|---|---|---|---|\n")
	var ceiling, ours, withEndpoint float64
	for _, r := range rows {
		exact := "yes"
		if !r.Exact() {
			exact = "**no**"
		}
		if strings.HasPrefix(r.Name, "ceiling") {
			ceiling, exact = r.PerSecond(), "n/a (no counters)"
		}
		if r.Name == "ringfence" {
			ours = r.PerSecond()
		}
		if strings.HasPrefix(r.Name, "ringfence, endpoint") {
			withEndpoint = r.PerSecond()
		}
		fmt.Fprintf(&b, "| %s (%s) | %.0f | %s | %s | %s | %s | %d of %d | %s (want %s) | %s |\n",
			r.Name, r.Note, r.PerSecond(), r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.First, r.Dup, r.Counted, r.Expected, r.CostGot, r.CostWant, exact)
	}
	if ceiling > 0 {
		fmt.Fprintf(&b, "\nringfence's throughput is %.0f%% of the ceiling measured in the same run.\n", 100*ours/ceiling)
	}
	if ours > 0 && withEndpoint > 0 {
		fmt.Fprintf(&b, "With an endpoint registered (every call.ended written to the outbox in the terminal transaction), its throughput is %.0f%% of its throughput without one.\n", 100*withEndpoint/ours)
	}
	b.WriteString(`
How to read it:
- A delivery carries ringfence's call id (Bolna echoes the call's user_data), so a duplicate costs
  one strongly consistent GetItem and no write; the few above 1.0 are deliveries that lost a race
  and read the call again.
- A first terminal delivery is one read and one transaction over the call, the campaign's counters
  and the contact (2 WCU per item, more for items over 1 KB); the requests include the revised
  cost reports that follow it, and one Query for campaign contacts still waiting to be queued.
- The naive handler counts calls more than once (several deliveries read "not terminal" at the
  same time) and loses cost in its read-modify-write. The idempotency record stops exact
  duplicates in one request, but deliveries of different statuses are not duplicates to it, and
  a handler killed between its two writes leaves a call ended and never counted.
- DynamoDB Local serialises transactions and is far slower at them than at single writes, so the
  ratio to the ceiling here understates what the same design does on DynamoDB itself.
`)
	b.WriteString("\n## Cold-start proxies\n\n| function | stripped arm64 bootstrap | process start to first event request (median of 5, this machine) |\n|---|---|---|\n")
	for _, c := range colds {
		fmt.Fprintf(&b, "| %s | %.1f MiB | %s |\n", c.Function, float64(c.Bytes)/(1<<20), c.Ready.Round(100*time.Microsecond))
	}
	return b.String()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return runtime.GOARCH
}

func memory() string {
	out, err := exec.Command("sh", "-c", "free -g | awk '/Mem:/ {print $2}'").Output()
	if err != nil {
		return "unknown memory"
	}
	return strings.TrimSpace(string(out)) + " GiB"
}

func renderCampaign(r bench.CampaignRow) string {
	var b strings.Builder
	b.WriteString("\n## Campaigns\n\n")
	b.WriteString("Start answers after queueing one page, whatever the campaign's size; the dispatcher queues the rest. Dialling: every call ends as soon as it is placed, its end releases the slot and dials the next.\n\n")
	b.WriteString("| start, small | start, large | large / small | dials/s at the limit | slot release to next dial, p50 | p99 |\n|---|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| %s (%d contacts) | %s (%d contacts) | %.2f | %.0f (limit %d, %d dials) | %s | %s |\n",
		r.StartSmall.Round(100*time.Microsecond), r.Small, r.StartLarge.Round(100*time.Microsecond), r.Large, r.Ratio(),
		r.DialsPerSecond(), r.Limit, r.Dials, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond))
	return b.String()
}
