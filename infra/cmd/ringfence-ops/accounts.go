package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/ringfence"
)

const accountsUsage = "usage: ringfence-ops accounts create NAME [--direct N] [--campaign N] | list | show ID | set-limits ID [--direct N] [--campaign N] | rotate-key ID [--grace 24h] | revoke-key ID"

// accountLimits are the --direct and --campaign flags; -1 leaves a limit as it is.
type accountLimits struct {
	direct, campaign *int
}

// set returns the limits given.
func (l accountLimits) set() map[ringfence.SlotKind]int {
	out := map[ringfence.SlotKind]int{}
	if *l.direct >= 0 {
		out[ringfence.SlotDirect] = *l.direct
	}
	if *l.campaign >= 0 {
		out[ringfence.SlotCampaign] = *l.campaign
	}
	return out
}

// accountView is an account as the commands print it. APIKey is set only by create and
// rotate-key, the one time the key is shown; it is never stored.
type accountView struct {
	ID            string              `json:"id"`
	Name          string              `json:"name"`
	APIKey        string              `json:"api_key,omitempty"`
	DirectLimit   string              `json:"direct_limit"`
	CampaignLimit string              `json:"campaign_limit"`
	Keys          []dynamo.APIKeyInfo `json:"keys,omitempty"`
}

func viewOf(a ringfence.Account) accountView {
	limit := func(kind ringfence.SlotKind) string {
		if n, ok := a.Limits[kind]; ok {
			return fmt.Sprint(n)
		}
		return "default"
	}
	return accountView{ID: a.ID, Name: a.Name, DirectLimit: limit(ringfence.SlotDirect), CampaignLimit: limit(ringfence.SlotCampaign)}
}

// accounts runs the accounts subcommands.
func accounts(ctx context.Context, a *app.App, args []string, limits accountLimits, grace time.Duration, out output) error {
	if len(args) == 0 {
		return errors.New(accountsUsage)
	}
	if args[0] == "list" {
		return listAccounts(ctx, a, out)
	}
	if args[0] == "create" && len(args) > 2 {
		// An unquoted name of several words.
		args = []string{"create", strings.Join(args[1:], " ")}
	}
	if len(args) != 2 {
		return errors.New(accountsUsage)
	}
	id := args[1]
	switch args[0] {
	case "create":
		name := strings.TrimSpace(id)
		if name == "" {
			return errors.New("an account needs a name")
		}
		acct := ringfence.Account{ID: dynamo.NewID("acct"), Name: name, Limits: limits.set()}
		key := dynamo.NewAPIKey()
		if err := a.Store.CreateAccount(ctx, acct, key); err != nil {
			return err
		}
		return printNewKey(out, viewOf(acct), key, "created account")
	case "show":
		return showAccount(ctx, a, id, out)
	case "set-limits":
		set := limits.set()
		if len(set) == 0 {
			return errors.New("usage: ringfence-ops accounts set-limits ID --direct N --campaign N (either or both)")
		}
		if _, err := a.Store.SetAccountLimits(ctx, id, set); err != nil {
			return err
		}
		return showAccount(ctx, a, id, out)
	case "rotate-key":
		if grace < 0 {
			return errors.New("--grace cannot be negative")
		}
		acct, err := a.Store.GetAccount(ctx, id)
		if err != nil {
			return err
		}
		key := dynamo.NewAPIKey()
		if err := a.Store.RotateAPIKey(ctx, id, key, grace); err != nil {
			return err
		}
		return printNewKey(out, viewOf(acct), key, fmt.Sprintf("the previous key works until %s; new key of", time.Now().Add(grace).UTC().Format(time.RFC3339)))
	case "revoke-key":
		n, err := a.Store.RevokeAPIKeys(ctx, id)
		if err != nil {
			return err
		}
		return out.print(map[string]any{"id": id, "revoked": n}, func(tw *tabwriter.Writer) {
			fmt.Fprintf(tw, "revoked %d keys of account %s; issue a new one with rotate-key\n", n, id)
		})
	}
	return fmt.Errorf("unknown accounts command %q; %s", args[0], accountsUsage)
}

// printNewKey prints a key that was just issued: the only time it can be read.
func printNewKey(out output, v accountView, key, what string) error {
	v.APIKey = key
	return out.print(v, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "%s %s (%s)\nAPI key (shown once; send it as 'Authorization: Bearer <key>'):\n%s\n", what, v.ID, v.Name, key)
	})
}

func listAccounts(ctx context.Context, a *app.App, out output) error {
	list, err := a.Store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	views := make([]accountView, 0, len(list))
	for _, acct := range list {
		views = append(views, viewOf(acct))
	}
	return out.print(map[string]any{"accounts": views}, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "ID\tNAME\tDIRECT\tCAMPAIGN")
		for _, v := range views {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.ID, v.Name, v.DirectLimit, v.CampaignLimit)
		}
	})
}

func showAccount(ctx context.Context, a *app.App, id string, out output) error {
	keys, err := a.Store.AccountKeys(ctx, id)
	if err != nil {
		return err
	}
	acct, err := a.Store.GetAccount(ctx, id)
	if err != nil {
		return err
	}
	v := viewOf(acct)
	v.Keys = keys
	return out.print(v, func(tw *tabwriter.Writer) {
		fmt.Fprintf(tw, "account %s (%s)\ndirect limit\t%s\ncampaign limit\t%s\n", v.ID, v.Name, v.DirectLimit, v.CampaignLimit)
		for _, k := range keys {
			state := "current"
			if k.ValidUntil != "" {
				state = "works until " + k.ValidUntil
			}
			fmt.Fprintf(tw, "key %s…\tcreated %s\t%s\n", k.Hash[:12], k.CreatedAt, state)
		}
	})
}
