// Command ringfence-ops is the operators' tool. It works through the same store code as the
// functions, against the running `make run` stack, the DynamoDB Local that
// RINGFENCE_DYNAMODB_ENDPOINT names, or, with neither, the table RINGFENCE_TABLE on AWS (with the
// usual AWS credentials):
//
//	ringfence-ops campaign ID             a campaign's counters, and each call with its history
//	ringfence-ops stuck                   calls gone quiet, slots held too long or without an execution id
//	ringfence-ops parked                  events still waiting for their call
//	ringfence-ops reapply PROVIDER ID     apply the events parked for a provider's call, now known
//	ringfence-ops dedupe-queue [--apply]  queue entries imported twice for one scheduled call
//	ringfence-ops dashboard-link [URL]    a link that signs a browser in to the dashboard (once, within 5 minutes)
//	ringfence-ops accounts create NAME [--direct N] [--campaign N]   a new account and its API key
//	ringfence-ops accounts list           every account and its limits
//	ringfence-ops accounts show ID        an account, its limits and its keys (never the keys themselves)
//	ringfence-ops accounts set-limits ID [--direct N] [--campaign N]  the account's own limits
//	ringfence-ops accounts rotate-key ID [--grace 24h]  a new key; the old one works for the grace
//	ringfence-ops accounts revoke-key ID  removes every key of the account at once
//	ringfence-ops numbers confirm E164 ACCOUNT  confirm ACCOUNT's claim of a number, so it answers inbound calls
//
// Every command takes --json for machine-readable output, and --account ID (default "default").
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ringfence/ringfence/infra/dynamodblocal"
	"github.com/ringfence/ringfence/infra/localstack"
	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/httpapi"
	"github.com/ringfence/ringfence/shared/ringfence"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ringfence-ops:", err)
		os.Exit(1)
	}
}

const usage = "usage: ringfence-ops [--json] [--account ID] campaign ID | stuck | parked | reapply PROVIDER EXECUTION_ID | dedupe-queue [--apply] | dashboard-link [URL] | accounts create NAME|list|show ID|set-limits ID --direct N --campaign N|rotate-key ID [--grace 24h]|revoke-key ID | numbers confirm E164 ACCOUNT"

// valueFlags are the flags followed by a value ("--direct 3" as well as "--direct=3").
var valueFlags = []string{"--account", "-account", "--direct", "-direct", "--campaign", "-campaign", "--grace", "-grace"}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	flags := flag.NewFlagSet("ringfence-ops", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	asJSON := flags.Bool("json", false, "print JSON")
	account := flags.String("account", "default", "the account to look at")
	apply := flags.Bool("apply", false, "dedupe-queue: remove the duplicates (the default only reports)")
	limits := accountLimits{
		direct:   flags.Int("direct", -1, "accounts: the account's concurrent direct calls"),
		campaign: flags.Int("campaign", -1, "accounts: the account's concurrent campaign calls"),
	}
	grace := flags.Duration("grace", 24*time.Hour, "accounts rotate-key: how long the old key keeps working")
	if err := flags.Parse(reorder(args)); err != nil {
		return fmt.Errorf("%v; %s", err, usage)
	}
	rest := flags.Args()
	if len(rest) == 0 {
		return errors.New(usage)
	}
	a, err := connect(ctx, getenv)
	if err != nil {
		return err
	}
	out := output{w: stdout, json: *asJSON}
	switch rest[0] {
	case "campaign":
		if len(rest) != 2 {
			return errors.New("usage: ringfence-ops campaign ID")
		}
		return showCampaign(ctx, a, *account, rest[1], out)
	case "stuck":
		return showStuck(ctx, a, out)
	case "parked":
		return showParked(ctx, a, out)
	case "reapply":
		if len(rest) != 3 {
			return errors.New("usage: ringfence-ops reapply PROVIDER EXECUTION_ID")
		}
		return reapply(ctx, a, rest[1], rest[2], out)
	case "dedupe-queue":
		return dedupe(ctx, a, *apply, out)
	case "accounts":
		return accounts(ctx, a, rest[1:], limits, *grace, out)
	case "numbers":
		if len(rest) != 4 || rest[1] != "confirm" {
			return errors.New("usage: ringfence-ops numbers confirm E164 ACCOUNT (the account whose claim you checked)")
		}
		return confirmNumber(ctx, a, rest[2], rest[3], out)
	case "dashboard-link":
		base := "http://127.0.0.1:3000"
		if len(rest) == 2 {
			base = strings.TrimSuffix(rest[1], "/")
		}
		if a.Config.SessionSecret == "" {
			return errors.New("dashboard sessions are off: set RINGFENCE_SESSION_SECRET (on AWS, RINGFENCE_SESSION_SECRET_ARN: the SessionSecret secret)")
		}
		link := base + "/dashboard/login?token=" + httpapi.LoginToken(a.Config.SessionSecret, *account, time.Now().Add(httpapi.LoginLinkLifetime))
		return out.print(map[string]string{"url": link}, func(tw *tabwriter.Writer) { fmt.Fprintln(tw, link) })
	}
	return fmt.Errorf("unknown command %q; %s", rest[0], usage)
}

// reorder puts flags before the command's words, so "campaign ID --json" works as well as
// "--json campaign ID", and "accounts set-limits ID --direct 3" as well.
func reorder(args []string) []string {
	var flags, words []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case indexOf(valueFlags, a) >= 0 && i+1 < len(args):
			flags, i = append(flags, a, args[i+1]), i+1
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
		default:
			words = append(words, a)
		}
	}
	return append(flags, words...)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// connect builds the App on the running local stack, the endpoint the environment names, or AWS.
func connect(ctx context.Context, getenv func(string) string) (*app.App, error) {
	env := getenv
	if env("RINGFENCE_DYNAMODB_ENDPOINT") == "" && env("RINGFENCE_TABLE") == "" {
		root, err := dynamodblocal.RepoRoot()
		if err != nil {
			return nil, err
		}
		if env, err = localstack.RunningStack(root, getenv); err != nil {
			return nil, fmt.Errorf("%w (or set RINGFENCE_TABLE, and RINGFENCE_DYNAMODB_ENDPOINT for DynamoDB Local)", err)
		}
	}
	return app.New(ctx, env, io.Discard)
}

// output prints either a table or JSON.
type output struct {
	w    io.Writer
	json bool
}

// print writes v as JSON, or as the table. Either way, control characters in what the table holds
// (names and ids a client or a provider chose) reach the terminal escaped, never raw.
func (o output) print(v any, table func(*tabwriter.Writer)) error {
	w := printableWriter{o.w}
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// printableWriter escapes control and bidirectional-control characters on their way out.
type printableWriter struct{ w io.Writer }

func (p printableWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, ringfence.Printable(string(b))); err != nil {
		return 0, err
	}
	return len(b), nil
}

type callRow struct {
	ID       string   `json:"id"`
	Contact  string   `json:"contact_id,omitempty"`
	Provider string   `json:"provider"`
	ExecID   string   `json:"provider_call_id"`
	Status   string   `json:"status"`
	Outcome  string   `json:"outcome,omitempty"`
	Cost     string   `json:"cost,omitempty"`
	SlotKind string   `json:"slot_kind,omitempty"`
	History  []string `json:"history"`
}

func showCampaign(ctx context.Context, a *app.App, account, id string, out output) error {
	c, err := a.Store.GetCampaign(ctx, account, id)
	if err != nil {
		return err
	}
	calls, err := a.Store.ListCampaignCalls(ctx, c.ID)
	if err != nil {
		return err
	}
	sort.Slice(calls, func(i, j int) bool { return calls[i].ContactID < calls[j].ContactID })
	rows := make([]callRow, 0, len(calls))
	for _, call := range calls {
		row := callRow{ID: call.ID, Contact: call.ContactID, Provider: string(call.Provider), ExecID: call.ProviderCallID,
			Status: string(call.Status), Outcome: string(call.Outcome), SlotKind: string(call.SlotKind), History: call.History}
		if call.Cost != nil {
			row.Cost = call.Cost.String()
		}
		rows = append(rows, row)
	}
	outcomes := map[string]int{}
	for _, o := range ringfence.Outcomes {
		outcomes[string(o)] = c.OutcomeCounts[o]
	}
	view := map[string]any{"id": c.ID, "name": c.Name, "status": c.Status, "total_contacts": c.TotalContacts,
		"calls_completed": c.CallsCompleted, "total_cost": c.TotalCost.String(), "outcomes": outcomes, "calls": rows}
	return out.print(view, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "campaign %s (%s), %s\n", c.ID, c.Name, c.Status)
		fmt.Fprintf(tw, "%d of %d calls ended, total cost %s USD\n", c.CallsCompleted, c.TotalContacts, c.TotalCost)
		for _, o := range ringfence.Outcomes {
			fmt.Fprintf(tw, "  %s\t%d\n", o, c.OutcomeCounts[o])
		}
		fmt.Fprintln(tw, "\nCALL\tCONTACT\tPROVIDER\tEXECUTION ID\tSTATUS\tCOST\tHISTORY")
		for _, r := range rows {
			first := ""
			if len(r.History) > 0 {
				first = r.History[0]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Contact, r.Provider, r.ExecID, r.Status, r.Cost, first)
			for _, h := range r.History[min(1, len(r.History)):] {
				fmt.Fprintf(tw, "\t\t\t\t\t\t%s\n", h)
			}
		}
	})
}

func showStuck(ctx context.Context, a *app.App, out output) error {
	now := time.Now()
	ids, err := a.Store.CallsIdleSince(ctx, now.Add(-a.Config.StaleAfter))
	if err != nil {
		return err
	}
	var quiet []callRow
	for _, id := range ids {
		c, err := a.Store.GetCall(ctx, id)
		if err != nil || c.Status.IsTerminal() {
			continue
		}
		quiet = append(quiet, callRow{ID: c.ID, Provider: string(c.Provider), ExecID: c.ProviderCallID, Status: string(c.Status), SlotKind: string(c.SlotKind), History: c.History})
	}
	report, err := a.Calling.Sweep(ctx, now)
	if err != nil {
		return err
	}
	view := map[string]any{"quiet_calls": quiet, "stuck_slots": report.StuckSlots, "slots_without_execution_id": report.SlotsWithoutExecutionID}
	return out.print(view, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "calls without news for %s or more: %d\n", a.Config.StaleAfter, len(quiet))
		for _, q := range quiet {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", q.ID, q.Provider, q.Status, q.ExecID)
		}
		fmt.Fprintf(tw, "slots held over %s: %d\n", calling.StuckSlotAfter, len(report.StuckSlots))
		for _, s := range report.StuckSlots {
			fmt.Fprintf(tw, "  %s\t%s\t%s\tsince %s\n", s.AccountID, s.Kind, s.CallID, s.StartedAt)
		}
		fmt.Fprintf(tw, "slots without an execution id after %s: %d\n", calling.NoExecutionIDAfter, len(report.SlotsWithoutExecutionID))
		for _, s := range report.SlotsWithoutExecutionID {
			fmt.Fprintf(tw, "  %s\t%s\t%s\tsince %s\n", s.AccountID, s.Kind, s.CallID, s.StartedAt)
		}
		fmt.Fprintf(tw, "(the sweep ran: %d calls ended, %d slots released)\n", report.CallsEnded, report.SlotsReleased)
	})
}

func showParked(ctx context.Context, a *app.App, out output) error {
	parked, err := a.Store.AllParked(ctx)
	if err != nil {
		return err
	}
	return out.print(map[string]any{"parked": parked}, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "%d events wait for their call\n", len(parked))
		fmt.Fprintln(tw, "PROVIDER\tEXECUTION ID\tPARKED AT")
		for _, p := range parked {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Provider, p.ProviderCallID, p.ParkedAt)
		}
	})
}

// confirmNumber confirms an account's claim of a number: the operator has checked that the
// account holds it (with the provider or the carrier). From then on its inbound calls get the
// account's route. The account is named, and the store confirms only a claim that is still that
// account's: one another account put meanwhile is refused, not confirmed in its place.
func confirmNumber(ctx context.Context, a *app.App, number, account string, out output) error {
	if !strings.HasPrefix(number, "+") {
		number = "+" + number
	}
	if err := ringfence.ValidatePhone("number", number); err != nil {
		return err
	}
	if err := ringfence.ValidateID("account", account); err != nil {
		return err
	}
	r, err := a.Store.ConfirmNumber(ctx, number, account)
	if err != nil {
		return err
	}
	view := map[string]any{"number": r.Number, "account": r.AccountID, "company_id": r.CompanyID, "branch_id": r.BranchID, "confirmed": r.Confirmed}
	return out.print(view, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "%s confirmed for account %s (company %s, branch %s)\n", r.Number, r.AccountID, r.CompanyID, r.BranchID)
	})
}

func reapply(ctx context.Context, a *app.App, provider, executionID string, out output) error {
	p, err := ringfence.ParseProvider(provider)
	if err != nil {
		return err
	}
	n, err := a.Calling.ReapplyParked(ctx, p, executionID)
	if ringfence.ErrorCode(err) == ringfence.ENOTFOUND {
		return fmt.Errorf("no call has %s execution id %s yet; its events stay parked", p, executionID)
	}
	if err != nil {
		return err
	}
	return out.print(map[string]any{"applied": n}, func(tw *tabwriter.Writer) { fmt.Fprintf(tw, "applied %d parked events\n", n) })
}

func dedupe(ctx context.Context, a *app.App, apply bool, out output) error {
	dups, err := a.Calling.DedupeQueue(ctx, apply)
	if err != nil {
		return err
	}
	type row struct {
		Customer  string `json:"customer_id"`
		CallType  string `json:"call_type"`
		LocalDate string `json:"local_date"`
		Removed   string `json:"call_id"`
		Kept      string `json:"kept_call_id"`
	}
	rows := []row{}
	for _, d := range dups {
		rows = append(rows, row{d.Entry.Schedule.CustomerID, string(d.Entry.Schedule.Type), d.Entry.Schedule.LocalDate, d.Entry.CallID, d.Kept.CallID})
	}
	verb := "would remove"
	if apply {
		verb = "removed"
	}
	return out.print(map[string]any{"applied": apply, "duplicates": rows}, func(tw *tabwriter.Writer) {
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t(customer %s, %s call on %s), keeping %s\n", verb, r.Removed, r.Customer, r.CallType, r.LocalDate, r.Kept)
		}
		fmt.Fprintf(tw, "%d duplicate queue entries %s.", len(rows), verb)
		if !apply && len(rows) > 0 {
			fmt.Fprint(tw, " Run again with --apply to remove them.")
		}
		fmt.Fprintln(tw)
	})
}
