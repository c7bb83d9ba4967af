package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// An account's keys through their lifecycle: created with one key; rotated, the old key works
// until the grace period ends, then is refused; rotated again, the key still in grace stops at
// once (never more than two keys); revoked, none works. Limits set are read back.
func TestAccountKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	env := dynamotest.MustNewStore(t)
	st := env.Store
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	owner := func(key string) string {
		t.Helper()
		id, err := st.AccountIDByAPIKey(ctx, key)
		if err != nil {
			return ringfence.ErrorCode(err)
		}
		return id
	}

	first, second, third := dynamo.NewAPIKey(), dynamo.NewAPIKey(), dynamo.NewAPIKey()
	if err := st.CreateAccount(ctx, ringfence.Account{ID: "acct_a", Name: "Acme"}, first); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAccount(ctx, ringfence.Account{ID: "acct_a", Name: "again"}, second); ringfence.ErrorCode(err) != ringfence.ECONFLICT {
		t.Fatalf("creating the account twice: %v, want a conflict", err)
	}
	if got := owner(first); got != "acct_a" {
		t.Fatalf("first key belongs to %q", got)
	}
	if err := st.RotateAPIKey(ctx, "acct_a", second, time.Hour); err != nil {
		t.Fatal(err)
	}
	keys, err := st.AccountKeys(ctx, "acct_a")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys after a rotation=%+v, %v; want two", keys, err)
	}
	now = now.Add(time.Hour - time.Second)
	if owner(first) != "acct_a" || owner(second) != "acct_a" {
		t.Fatalf("during the grace period: first=%s second=%s, want both to work", owner(first), owner(second))
	}
	now = now.Add(time.Second)
	if got := owner(first); got != ringfence.EUNAUTHORIZED {
		t.Fatalf("old key after the grace period: %s, want unauthorized", got)
	}
	if err := st.RotateAPIKey(ctx, "acct_a", third, time.Hour); err != nil {
		t.Fatal(err)
	}
	if keys, _ := st.AccountKeys(ctx, "acct_a"); len(keys) != 2 || owner(second) != "acct_a" || owner(third) != "acct_a" {
		t.Fatalf("after a second rotation keys=%+v", keys)
	}
	n, err := st.RevokeAPIKeys(ctx, "acct_a")
	if err != nil || n != 2 {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	for _, k := range []string{first, second, third} {
		if got := owner(k); got != ringfence.EUNAUTHORIZED {
			t.Fatalf("a revoked key: %s, want unauthorized", got)
		}
	}

	a, err := st.SetAccountLimits(ctx, "acct_a", map[ringfence.SlotKind]int{ringfence.SlotDirect: 1})
	if err != nil || a.Limit(ringfence.SlotDirect, 5) != 1 || a.Limit(ringfence.SlotCampaign, 10) != 10 {
		t.Fatalf("limits=%+v, %v", a, err)
	}
	if _, err := st.SetAccountLimits(ctx, "acct_missing", map[ringfence.SlotKind]int{ringfence.SlotDirect: 1}); ringfence.ErrorCode(err) != ringfence.ENOTFOUND {
		t.Fatalf("limits of a missing account: %v", err)
	}

	// The development account make run ensures can be rotated too.
	dev := dynamo.NewAPIKey()
	if err := st.EnsureAccount(ctx, ringfence.Account{ID: "acct_dev"}, dev); err != nil {
		t.Fatal(err)
	}
	if err := st.RotateAPIKey(ctx, "acct_dev", dynamo.NewAPIKey(), 0); err != nil {
		t.Fatal(err)
	}
	if got := owner(dev); got != ringfence.EUNAUTHORIZED {
		t.Fatalf("the development key after a rotation without grace: %s", got)
	}
	accounts, err := st.ListAccounts(ctx)
	if err != nil || len(accounts) != 2 || accounts[0].ID != "acct_a" || accounts[1].ID != "acct_dev" || accounts[0].Name != "Acme" {
		t.Fatalf("accounts=%+v, %v", accounts, err)
	}
}
