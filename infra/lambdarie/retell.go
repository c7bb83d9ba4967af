package lambdarie

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/ringfence/ringfence/shared/retell"
)

// SignRetell signs a Retell event's body again with key, at the time at; other events are
// returned as they are. A signature is valid for five minutes, so a sample signed once in
// events/ would otherwise always be refused. The gateway would never do this; it is what lets a
// stored Retell event be replayed locally.
func SignRetell(event []byte, key string, at time.Time) ([]byte, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &req); err != nil || req.Headers == nil {
		return event, nil
	}
	name := ""
	for k := range req.Headers {
		if strings.EqualFold(k, retell.SignatureHeader) {
			name = k
		}
	}
	if name == "" {
		return event, nil
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, fmt.Errorf("the event's body is marked base64 but is not: %w", err)
		}
	}
	req.Headers[name] = retell.Sign(body, key, at)
	return json.Marshal(req)
}
