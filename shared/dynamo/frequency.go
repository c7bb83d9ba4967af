package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The contact frequency cap is decided in the transaction that claims a dial, against one item
// per (account, number):
//
//	FREQ#<account>#<e164>  FREQ   dials: the number's last max_calls dial times, oldest first;
//	                              dial_count: how many dials it has recorded (the item's version)
//
// A claim reads the item, and adds to the dial transaction an update that appends now (keeping
// the last max_calls), conditioned on dial_count being what it read and, when the call respects
// the cap and the list is full, on its oldest entry (dials[len-max_calls]) having left the
// rolling period. The read only tells the claim which index is the oldest: whether the dial may
// happen is the condition, so concurrent claims on one number, from any campaign or dispatcher,
// cannot pass the cap. A claim that loses the version race reads again.
const skFrequency = "FREQ"

func frequencyPK(accountID, e164 string) string { return "FREQ#" + accountID + "#" + e164 }

// An account's settings have their own partition, SETTINGS#<account> / SETTINGS, so that the
// read every dial claim makes of them never waits on the account's hot slot counters.
const skSettings = "SETTINGS"

func settingsPK(accountID string) string { return "SETTINGS#" + accountID }

// settingsItem holds an account's settings.
type settingsItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	FreqMax     int    `dynamodbav:"frequency_max_calls,omitempty"`
	FreqSeconds int64  `dynamodbav:"frequency_per_seconds,omitempty"`
}

// frequencyItem is a number's recent dials.
type frequencyItem struct {
	Dials     []string `dynamodbav:"dials"`
	DialCount int      `dynamodbav:"dial_count"`
}

// Settings reads an account's settings; an account that set none has none.
func (s *Store) Settings(ctx context.Context, accountID string) (ringfence.Settings, error) {
	var it settingsItem
	found, err := s.getItem(ctx, itemKey(settingsPK(accountID), skSettings), true, &it)
	if err != nil {
		return ringfence.Settings{}, internal(err, "get settings of account %s", accountID)
	}
	if !found || it.FreqMax == 0 {
		return ringfence.Settings{}, nil
	}
	return ringfence.Settings{ContactFrequency: &ringfence.ContactFrequency{MaxCalls: it.FreqMax, Per: time.Duration(it.FreqSeconds) * time.Second}}, nil
}

// PutSettings sets an account's settings; a nil cap removes it.
func (s *Store) PutSettings(ctx context.Context, accountID string, st ringfence.Settings) (ringfence.Settings, error) {
	set := expression.Set(expression.Name("updated_at"), expression.Value(s.now()))
	if f := st.ContactFrequency; f != nil {
		set = set.Set(expression.Name("frequency_max_calls"), expression.Value(f.MaxCalls)).
			Set(expression.Name("frequency_per_seconds"), expression.Value(int64(f.Per/time.Second)))
	} else {
		set = set.Remove(expression.Name("frequency_max_calls")).Remove(expression.Name("frequency_per_seconds"))
	}
	u, err := s.upsert(itemKey(settingsPK(accountID), skSettings), set)
	if err != nil {
		return ringfence.Settings{}, err
	}
	if _, err := s.client.UpdateItem(ctx, updateInput(u)); err != nil {
		return ringfence.Settings{}, internal(err, "put settings of account %s", accountID)
	}
	return s.Settings(ctx, accountID)
}

// HeldError says a call may not be dialled before Until: its number has had the account's
// contact frequency cap of calls in the rolling period.
type HeldError struct{ Until time.Time }

func (e *HeldError) Error() string {
	return fmt.Sprintf("held by the contact frequency cap until %s", e.Until.UTC().Format(time.RFC3339))
}

// frequencyClaim is the part of a dial claim that records the dial against its number's cap.
type frequencyClaim struct {
	item  types.TransactWriteItem
	dials []string // What was read, oldest first.
	count int      // The dial_count read.
	cap   ringfence.ContactFrequency
}

// countDial reads a number's recent dials and builds the update that records one more at now,
// conditioned on the item being unchanged since the read and, when respect is set, on the cap
// allowing the dial. It returns ok=false when the account has no cap: then nothing is recorded.
func (s *Store) countDial(ctx context.Context, accountID, e164 string, respect bool) (frequencyClaim, bool, error) {
	st, err := s.Settings(ctx, accountID)
	if err != nil || st.ContactFrequency == nil || e164 == "" {
		return frequencyClaim{}, false, err
	}
	f := *st.ContactFrequency
	key := itemKey(frequencyPK(accountID, e164), skFrequency)
	var it frequencyItem
	found, err := s.getItem(ctx, key, true, &it)
	if err != nil {
		return frequencyClaim{}, false, internal(err, "read the recent dials of %s", ringfence.MaskPhone(e164))
	}
	now := s.Now()
	set := expression.Set(expression.Name("dials"), expression.Value(f.KeepDials(it.Dials, timestamp(now)))).
		Set(expression.Name("dial_count"), expression.Value(it.DialCount+1)).
		Set(expression.Name("expires_at"), expression.Value(now.Add(f.Per).Add(24*time.Hour).Unix()))
	cond := expression.AttributeNotExists(expression.Name("pk"))
	if found {
		cond = expression.Name("dial_count").Equal(expression.Value(it.DialCount))
	}
	if respect && len(it.Dials) >= f.MaxCalls {
		// The oldest of the last max_calls dials must have left the rolling period.
		oldest := fmt.Sprintf("dials[%d]", len(it.Dials)-f.MaxCalls)
		cond = cond.And(expression.Name(oldest).LessThanEqual(expression.Value(timestamp(now.Add(-f.Per)))))
	}
	u, err := s.update(key, set, cond)
	if err != nil {
		return frequencyClaim{}, false, err
	}
	return frequencyClaim{item: types.TransactWriteItem{Update: u}, dials: it.Dials, count: it.DialCount, cap: f}, true, nil
}

// withDialCounted returns a dial claim's items with, when the account has a contact frequency
// cap, the update that records the dial against the number (conditioned on the cap when respect
// is set), and its index (-1 without a cap).
func (s *Store) withDialCounted(ctx context.Context, items []types.TransactWriteItem, accountID, e164 string, respect bool) ([]types.TransactWriteItem, int, frequencyClaim, error) {
	claim, counted, err := s.countDial(ctx, accountID, e164, respect)
	if err != nil || !counted {
		return items, -1, claim, err
	}
	all := append(append([]types.TransactWriteItem{}, items...), claim.item)
	return all, len(all) - 1, claim, nil
}

// heldOrRace tells, after a claim's frequency condition failed, whether the number is held by the
// cap (the item is as it was read: the cap refused) or another dial of it committed meanwhile
// (the claim should read again).
func (s *Store) heldOrRace(ctx context.Context, accountID, e164 string, claim frequencyClaim) error {
	var it frequencyItem
	if _, err := s.getItem(ctx, itemKey(frequencyPK(accountID, e164), skFrequency), true, &it); err != nil {
		return internal(err, "read the recent dials of %s", ringfence.MaskPhone(e164))
	}
	if it.DialCount != claim.count {
		return errFrequencyRace
	}
	times := make([]time.Time, 0, len(it.Dials))
	for _, d := range it.Dials {
		times = append(times, parseTime(d))
	}
	return &HeldError{Until: claim.cap.HeldUntil(times)}
}

// errFrequencyRace says another dial of the same number committed between a claim's read and
// its write; the claim reads again.
var errFrequencyRace = errors.New("another dial of the number committed meanwhile")
