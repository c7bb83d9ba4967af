package dynamo

import (
	"fmt"

	"github.com/ringfence/ringfence/shared/ringfence"
)

// internal wraps an unexpected DynamoDB error with what the store was doing.
func internal(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// notFound returns the domain's not-found error.
func notFound(what, id string) error {
	return ringfence.Errorf(ringfence.ENOTFOUND, "%s %s not found", what, id)
}
