package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// statusOf is the one table that maps domain error codes to HTTP statuses.
var statusOf = map[string]int{
	ringfence.EINVALID:      http.StatusBadRequest,
	ringfence.EUNAUTHORIZED: http.StatusUnauthorized,
	ringfence.EFORBIDDEN:    http.StatusForbidden,
	ringfence.ENOTFOUND:     http.StatusNotFound,
	ringfence.ECONFLICT:     http.StatusConflict,
	ringfence.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	ringfence.ETOOMANY:      http.StatusTooManyRequests,
	ringfence.EUNAVAILABLE:  http.StatusServiceUnavailable,
	ringfence.EINTERNAL:     http.StatusInternalServerError,
}

// maxMessageLength bounds an error message, in the response and in the log.
const maxMessageLength = 300

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// errorResponse turns err into a JSON error response. Internal errors are logged with their
// detail and the request's context; the caller sees only a generic message, never a stack trace
// or a DynamoDB error text. A 500 or 503 tells a provider that retrying the delivery is safe.
func errorResponse(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	code := ringfence.ErrorCode(err)
	message := ringfence.ErrorMessage(err)
	if len(message) > maxMessageLength {
		// Every message names outside values through ringfence.Excerpt; this is the last guard
		// against one that does not, so no caller's input is echoed at length.
		message = strings.ToValidUTF8(message[:maxMessageLength], "") + "…"
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	attrs := []any{"route", req.RouteKey, "request_id", req.RequestContext.RequestID, "status", status, "error_code", code}
	if status >= 500 {
		log.ErrorContext(ctx, "request failed", append(attrs, "error", err.Error())...)
	} else {
		log.InfoContext(ctx, "request rejected", append(attrs, "reason", message)...)
	}
	return jsonResponse(status, errorBody{Error: code, Message: message})
}
