package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// MaxBodyBytes bounds every request body, decoded: 6 MB, Lambda's own limit on a request
// payload (API Gateway's HTTP API takes up to 10 MB, so Lambda's is the one that binds). Retell
// sends the whole call object, its transcripts included, with call_ended and call_analyzed: a
// two-hour call's is about 1.5 MB. Anything larger is refused with 413 before it is parsed.
const MaxBodyBytes = 6 << 20

// body returns the request's raw body, decoding API Gateway's base64 form when it is used.
func body(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	return readBody(req, MaxBodyBytes)
}

// readBody returns the request's body, at most limit bytes once decoded. The body arrives as a
// string in the event; it is copied once into the bytes the parsers read, and a base64 body is
// decoded from the string straight into a buffer of its decoded size, so that a 6 MB delivery is
// never held in several copies at once.
func readBody(req events.APIGatewayV2HTTPRequest, limit int) ([]byte, error) {
	tooLarge := ringfence.Errorf(ringfence.ETOOLARGE, "request body is larger than %d bytes", limit)
	if !req.IsBase64Encoded {
		if len(req.Body) > limit {
			return nil, tooLarge
		}
		return []byte(req.Body), nil
	}
	if len(req.Body) > base64.StdEncoding.EncodedLen(limit) {
		return nil, tooLarge
	}
	// The buffer holds the decoded body and the room bytes.Buffer wants for a last read, so it
	// never grows (and copies) on the way.
	decoded := bytes.NewBuffer(make([]byte, 0, base64.StdEncoding.DecodedLen(len(req.Body))+bytes.MinRead))
	if _, err := decoded.ReadFrom(base64.NewDecoder(base64.StdEncoding, strings.NewReader(req.Body))); err != nil {
		return nil, ringfence.Errorf(ringfence.EINVALID, "request body is marked base64 but is not valid base64")
	}
	if decoded.Len() > limit {
		return nil, tooLarge
	}
	return decoded.Bytes(), nil
}

// decodeStrict decodes a JSON object into v, refusing unknown fields (a typo in a field name is an
// error, not a silently ignored value), a field named twice in one object, trailing data, and
// anything that is not an object.
func decodeStrict(b []byte, v any) error {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return ringfence.Errorf(ringfence.EINVALID, "request body must be a JSON object")
	}
	if err := checkDuplicateKeys(trimmed); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return ringfence.Errorf(ringfence.EINVALID, "request body is not valid: %s", ringfence.DescribeJSONError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ringfence.Errorf(ringfence.EINVALID, "request body holds more than one JSON value")
	}
	return nil
}

// header returns a header's value; API Gateway v2 lower-cases header names, local callers may not.
func header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// bearer returns the token of an "Authorization: Bearer <token>" header, or "".
func bearer(req events.APIGatewayV2HTTPRequest) string {
	h := strings.TrimSpace(header(req, "Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// jsonResponse builds a JSON response.
func jsonResponse(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"error":"internal","message":"internal error"}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

// validator is a request body that checks its own fields against the domain's bounds (ids, names,
// field names, lengths, phone numbers). readJSON runs it after decoding and before the handler can
// write anything, so every management write goes through the same one layer of checks.
type validator interface {
	validate() error
}

// readJSON authenticates a management request, decodes its body strictly into v and validates
// it, returning the caller's account.
func (s *Server) readJSON(ctx context.Context, req events.APIGatewayV2HTTPRequest, v any) (string, error) {
	account, err := s.authenticate(ctx, req)
	if err != nil {
		return "", err
	}
	b, err := body(req)
	if err != nil {
		return "", err
	}
	if err := decodeStrict(b, v); err != nil {
		return "", err
	}
	if check, ok := v.(validator); ok {
		if err := check.validate(); err != nil {
			return "", err
		}
	}
	return account, nil
}

// pathID reads the {id} path parameter: an id too long for a key, or with characters no id has,
// is refused with 400 before it reaches DynamoDB, and is not echoed.
func pathID(req events.APIGatewayV2HTTPRequest) (string, error) {
	id := req.PathParameters["id"]
	return id, ringfence.ValidateID("the id in the path", id)
}
