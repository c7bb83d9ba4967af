// Package openapi holds docs/openapi.yaml, the API's published description, against the code:
// its operations against template.yaml's routes, and real requests and responses against its
// schemas. It reads the document with kin-openapi, which validates OpenAPI 3.1 documents with a
// JSON Schema 2020-12 validator.
package openapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/ringfence/ringfence/infra/samtemplate"
)

// Load reads the document and validates it, every example against its schema included.
func Load(file string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(file)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", file, err)
	}
	return doc, nil
}

// IsDashboardPage reports whether a path is one of the dashboard's HTML pages, which the
// document leaves out: they are for a browser, not for a client.
func IsDashboardPage(path string) bool {
	return path == "/dashboard" || strings.HasPrefix(path, "/dashboard/")
}

// TemplateRoutes returns template.yaml's routes as sorted "METHOD /path" keys, without the
// dashboard's pages.
func TemplateRoutes(t samtemplate.Template) []string {
	var out []string
	for _, fn := range t.Functions {
		for _, r := range fn.Routes {
			if !IsDashboardPage(r.Path) {
				out = append(out, r.Method+" "+r.Path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Operations returns the document's operations as sorted "METHOD /path" keys.
func Operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	sort.Strings(out)
	return out
}

// Checker validates requests and their responses against the document.
type Checker struct {
	router routers.Router
}

// NewChecker loads the document and routes requests to its operations whatever their host:
// the servers it names are the deployed API and `make run`, not a test's own.
func NewChecker(file string) (*Checker, error) {
	doc, err := Load(file)
	if err != nil {
		return nil, err
	}
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &Checker{router: router}, nil
}

// Check validates one exchange: the request (with its body, since req's has been read) and the
// response's status, headers and body. A request the API refused as malformed or
// unauthenticated (400, 401, 413) may break the document on purpose, so only its response, which
// must be the documented error, is checked. Authentication is not checked: the document names
// the schemes, the handlers enforce them. The dashboard's pages are not checked.
func (c *Checker) Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) error {
	if IsDashboardPage(req.URL.Path) {
		return nil
	}
	clone := req.Clone(context.Background())
	clone.Body = http.NoBody
	if len(reqBody) > 0 {
		clone.Body = readCloser{bytes.NewReader(reqBody)}
	}
	route, params, err := c.router.FindRoute(clone)
	if err != nil {
		return fmt.Errorf("%s %s: no operation in the document: %w", req.Method, req.URL.Path, err)
	}
	options := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: clone, PathParams: params, Route: route, Options: options}
	ctx := context.Background()
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
	default:
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the request of %s %s does not match the document: %w", req.Method, route.Path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header, Options: options}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("the %d response of %s %s does not match the document: %w\nbody: %.600s", status, req.Method, route.Path, err, respBody)
	}
	return nil
}

// readCloser gives a reader the Close a request body needs.
type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
