package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// maxRequest bounds a request the proxy reads: DynamoDB's own limit for a request is 16 MB.
const maxRequest = 16 << 20

// Proxy stands in front of DynamoDB Local and lets a request through only when the role its
// credentials name allows everything the request needs. It refuses requests signed with any
// other key: only functions go through the proxy, each with its own role; the operator (table
// creation, the ops tool, a test's own reads) talks to DynamoDB Local directly.
type Proxy struct {
	roles   Roles
	forward *httputil.ReverseProxy

	mu     sync.Mutex
	denied []denial // Every refusal, for a test to show.
}

// denial is one refused request, by the table it named.
type denial struct{ table, message string }

// NewProxy returns a proxy for the DynamoDB Local at target.
func NewProxy(target string, roles Roles) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("DynamoDB endpoint %q: %w", target, err)
	}
	return &Proxy{roles: roles, forward: httputil.NewSingleHostReverseProxy(u)}, nil
}

// ServeHTTP checks one request and forwards it, or answers as DynamoDB answers a denied request.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(body) > maxRequest {
		refuse(w, "ValidationException", "the request could not be read or is over 16 MB")
		return
	}
	key := accessKeyOf(r.Header.Get("Authorization"))
	role, ok := p.roles.ForKey(key)
	if !ok {
		p.note("", fmt.Sprintf("unknown access key %q", key))
		refuse(w, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	op, ok := operationOf(r.Header.Get("X-Amz-Target"))
	if !ok {
		refuse(w, "UnknownOperationException", "")
		return
	}
	needs, err := DynamoDBNeeds(op, body)
	if err != nil {
		refuse(w, "SerializationException", err.Error())
		return
	}
	for _, n := range needs {
		if !role.Allows(n.Action, n.Resource, n.Table) {
			msg := fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/%s/%s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
				AccountID, role.Name, role.Function, n.Action, n.Resource, n.Action)
			p.note(n.Table, msg)
			refuse(w, "AccessDeniedException", msg)
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	p.forward.ServeHTTP(w, r)
}

// Denied returns the refusals of requests that named table, oldest first, and those of requests
// whose credentials named no role: a test on its own table sees what its functions were denied.
func (p *Proxy) Denied(table string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, d := range p.denied {
		if d.table == table || d.table == "" {
			out = append(out, d.message)
		}
	}
	return out
}

func (p *Proxy) note(table, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.denied = append(p.denied, denial{table, msg})
}

// refuse answers as DynamoDB's JSON protocol does: status 400 and the error's type, which the
// AWS SDK turns into the same error it returns on AWS.
func refuse(w http.ResponseWriter, errorType, message string) {
	body, _ := json.Marshal(map[string]string{"__type": "com.amazon.coral.service#" + errorType, "Message": message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	w.Write(body)
}

// accessKeyOf reads the access key from a Signature Version 4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=KEY/20260101/us-east-1/dynamodb/aws4_request, ...".
func accessKeyOf(authorization string) string {
	_, rest, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "/")
	return key
}

// Server is a running proxy.
type Server struct {
	*Proxy
	Endpoint string
	srv      *http.Server
}

// Start serves a proxy for the DynamoDB Local at target on a free loopback port.
func Start(target string, roles Roles) (*Server, error) {
	p, err := NewProxy(target, roles)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(ln)
	return &Server{Proxy: p, Endpoint: "http://" + ln.Addr().String(), srv: srv}, nil
}

// Close stops the proxy.
func (s *Server) Close() error { return s.srv.Close() }
