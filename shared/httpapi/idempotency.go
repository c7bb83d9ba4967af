package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// IdempotencyHeader names the header a client sends to make a retry safe.
const IdempotencyHeader = "Idempotency-Key"

// idempotent runs a write at most once per Idempotency-Key of the account. The key is claimed by a
// conditional put before the write runs; a retry with the same key and the same request (the
// same JSON, whatever its key order or whitespace: requestHash) gets the first response (status
// and body) without running anything; the same key with a different request is refused with 409;
// a retry while the first is still running gets 409 and may try again. A request without the
// header simply runs.
//
// A response with a 4xx status is kept like a success: the same request would be refused the
// same way. A 5xx gives the key back, so the retry runs again: the server failed, and the writes
// behind these routes are themselves safe to repeat up to the point they failed.
func (s *Server) idempotent(ctx context.Context, req events.APIGatewayV2HTTPRequest, account string, run endpoint) (int, any, error) {
	key := strings.TrimSpace(header(req, IdempotencyHeader))
	if key == "" {
		return run(ctx, req)
	}
	if err := ringfence.ValidateID(IdempotencyHeader, key); err != nil {
		return 0, nil, err
	}
	b, err := body(req)
	if err != nil {
		return 0, nil, err
	}
	hash, rawHash := requestHash(req.RouteKey, b)
	stored, claimed, err := s.store.ClaimIdempotencyKey(ctx, account, key, hash)
	if err != nil {
		return 0, nil, err
	}
	if !claimed {
		switch {
		case stored.RequestHash != hash && stored.RequestHash != rawHash:
			return 0, nil, ringfence.Errorf(ringfence.ECONFLICT, "this Idempotency-Key was used with a different request; use a new key for a new request")
		case !stored.Done:
			return 0, nil, ringfence.Errorf(ringfence.ECONFLICT, "a request with this Idempotency-Key is still being processed; retry it in a few seconds")
		}
		s.log.InfoContext(ctx, "idempotent request replayed", "route", req.RouteKey, "account", account, "status", stored.Status)
		return stored.Status, json.RawMessage(stored.Body), nil
	}
	status, out, runErr := run(ctx, req)
	if runErr != nil {
		status = statusOf[ringfence.ErrorCode(runErr)]
		if status == 0 || status >= http.StatusInternalServerError {
			if err := s.store.ReleaseIdempotencyKey(ctx, account, key, stored.Claim); err != nil {
				s.log.ErrorContext(ctx, "releasing an idempotency key failed", "error", err.Error())
			}
			return 0, nil, runErr
		}
		out = errorBody{Error: ringfence.ErrorCode(runErr), Message: ringfence.ErrorMessage(runErr)}
	}
	encoded, err := json.Marshal(out)
	if err != nil {
		return 0, nil, err
	}
	if err := s.store.CompleteIdempotencyKey(ctx, account, key, stored.Claim, status, string(encoded)); err != nil {
		// The write is done; only its replay is lost. A retry is told the key is busy rather
		// than running the write twice.
		s.log.ErrorContext(ctx, "storing an idempotent response failed", "error", err.Error())
	}
	if runErr != nil {
		return 0, nil, runErr
	}
	return status, json.RawMessage(encoded), nil
}

// requestHash is what tells a retry from another request under the same key: the route and the
// body's canonical JSON (canonicalJSON), so that the same fields with the keys in another order
// or other whitespace are the same request. A body with no canonical form is hashed as sent.
// rawHash is the hash of the body as sent, which keys claimed before the canonical form was
// compared still hold (for the 24 hours they live).
func requestHash(route string, b []byte) (hash, rawHash string) {
	sum := sha256.Sum256([]byte(route + "\n" + string(b)))
	rawHash = hex.EncodeToString(sum[:])
	canonical, ok := canonicalJSON(b)
	if !ok {
		return rawHash, rawHash
	}
	sum = sha256.Sum256([]byte(route + "\n" + string(canonical)))
	return hex.EncodeToString(sum[:]), rawHash
}
