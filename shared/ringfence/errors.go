// Package ringfence holds the domain of the backend: calls and their state machine, campaigns and
// their counters, money, and the errors every layer speaks. It imports no AWS package, so the rules
// can be read and tested on their own.
package ringfence

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Error codes. Exactly one table, in the HTTP glue, maps them to statuses.
const (
	EINVALID      = "invalid"      // The caller sent something malformed or incomplete.
	EUNAUTHORIZED = "unauthorized" // The caller did not prove who it is.
	EFORBIDDEN    = "forbidden"    // The caller may not do this, whoever it is (a cross-site form post).
	ENOTFOUND     = "not_found"    // The thing asked for does not exist.
	ECONFLICT     = "conflict"     // The write lost to another one; the state did not allow it.
	ETOOLARGE     = "too_large"    // The request body is larger than accepted.
	ETOOMANY      = "too_many"     // A limit on how many of something may be kept is reached.
	EUNAVAILABLE  = "unavailable"  // A dependency is busy; the same request may succeed if retried.
	EINTERNAL     = "internal"     // Anything else: a bug or an outage, never the caller's fault.
)

// Error is a domain error with a code and a message safe to show the caller.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("ringfence error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it wraps an *Error, and EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err. Internal errors get a generic message,
// because their text may carry details the caller must not see.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// DescribeJSONError turns a JSON decoding error into a message for the caller: it names the field
// and what was wrong, without Go type names, and passes a domain error's own message through.
func DescribeJSONError(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		if typeErr.Field == "" {
			return "a value has the wrong type (" + typeErr.Value + ")"
		}
		return "field " + typeErr.Field + " has the wrong type (" + typeErr.Value + ")"
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("malformed JSON at byte %d: %s", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "malformed JSON: the body ends too early"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
