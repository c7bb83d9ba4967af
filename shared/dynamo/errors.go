package dynamo

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// conditionFailed reports whether err is a single write's failed condition.
func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// cancellation describes why DynamoDB cancelled a transaction, item by item.
type cancellation struct {
	conditionFailed []bool // Per item: its condition was false.
	conflict        bool   // Another transaction or write held one of the items; retrying may succeed.
}

// transactionCancelled reports whether err is a cancelled transaction, and why. The reasons come
// back in the order of the transaction's items, which is how a caller tells which condition failed.
func transactionCancelled(err error) (cancellation, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		var tip *types.TransactionInProgressException
		return cancellation{conflict: true}, errors.As(err, &tip)
	}
	c := cancellation{conditionFailed: make([]bool, len(tce.CancellationReasons))}
	for i, r := range tce.CancellationReasons {
		switch deref(r.Code) {
		case "ConditionalCheckFailed":
			c.conditionFailed[i] = true
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			c.conflict = true
		}
	}
	return c, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// failedAt reports whether item i's condition failed.
func (c cancellation) failedAt(i int) bool {
	return i < len(c.conditionFailed) && c.conditionFailed[i]
}

// anyFailed reports whether any condition failed.
func (c cancellation) anyFailed() bool {
	for _, f := range c.conditionFailed {
		if f {
			return true
		}
	}
	return false
}

// internal wraps an unexpected DynamoDB error with what the store was doing.
func internal(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// notFound returns the domain's not-found error.
func notFound(what, id string) error {
	return ringfence.Errorf(ringfence.ENOTFOUND, "%s %s not found", what, id)
}
