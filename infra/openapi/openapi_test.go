package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/infra/openapi"
	"github.com/ringfence/ringfence/infra/samtemplate"
)

var (
	documentPath = filepath.Join("..", "..", "docs", "openapi.yaml")
	templatePath = filepath.Join("..", "..", "template.yaml")
)

// The document describes exactly the routes template.yaml deploys, the dashboard's pages aside:
// a route added without its description, or a description left behind by a removed route,
// fails here.
func TestDocumentDescribesExactlyTheTemplatesRoutes(t *testing.T) {
	doc, err := openapi.Load(documentPath)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	routes, documented := openapi.TemplateRoutes(tmpl), openapi.Operations(doc)
	if len(routes) < 30 {
		t.Fatalf("template.yaml has %d API routes; the template was not read", len(routes))
	}
	var missing, extra []string
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			missing = append(missing, r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routes, op) {
			extra = append(extra, op)
		}
	}
	if len(missing) > 0 {
		t.Errorf("routes of template.yaml that docs/openapi.yaml does not describe:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("operations of docs/openapi.yaml that template.yaml has no route for:\n  %s", strings.Join(extra, "\n  "))
	}
}

// Load validates every example against its schema; the document has examples for the requests
// and the resources, and for each event sent out.
func TestEveryExampleMatchesItsSchema(t *testing.T) {
	doc, err := openapi.Load(documentPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Campaign", "Call", "Customer", "Endpoint", "Error", "CallEvent"} {
		if doc.Components.Schemas[name].Value.Example == nil {
			t.Errorf("schema %s has no example", name)
		}
	}
	if got := len(doc.Webhooks); got != 7 {
		t.Errorf("webhooks (events out)=%d, want 7", got)
	}
}

// The checker refuses what the document does not allow: a response field it does not name, a
// request body that breaks its schema, a route it does not have; and it lets a conforming
// exchange and the dashboard's pages through.
func TestCheckerRefusesWhatTheDocumentDoesNotAllow(t *testing.T) {
	c, err := openapi.NewChecker(documentPath)
	if err != nil {
		t.Fatal(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	ok := `{"error":"not_found","message":"campaign cmp_1 not found"}`
	tests := []struct {
		name, method, path, reqBody string
		status                      int
		respBody                    string
		wantErr                     string
	}{
		{"conforming error", "GET", "/campaigns/cmp_1", "", 404, ok, ""},
		{"conforming health", "GET", "/healthz", "", 200, `{"status":"ok"}`, ""},
		{"undocumented response field", "GET", "/healthz", "", 200, `{"status":"ok","uptime":3}`, "response"},
		{"error with another shape", "GET", "/calls/call_1", "", 404, `{"message":"Not Found"}`, "response"},
		{"request body breaking its schema", "POST", "/calls", `{"to":"+14155550100","provider":"acme","agent_id":"a","from_number":"+14155550101"}`, 201, `{}`, "request"},
		{"malformed request refused", "POST", "/calls", `{"to":1}`, 400, `{"error":"invalid","message":"to must be a string"}`, ""},
		{"route not in the document", "GET", "/nowhere", "", 404, ok, "no operation"},
		{"dashboard page", "GET", "/dashboard", "", 200, "<html></html>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://127.0.0.1:3000"+tt.path, strings.NewReader(tt.reqBody))
			if tt.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			err := c.Check(req, []byte(tt.reqBody), tt.status, jsonHeader, []byte(tt.respBody))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Check err=%v, want one about the %s", err, tt.wantErr)
			}
		})
	}
}
