package localstack_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/ringfence/ringfence/infra/localstack"
)

// The local runner serves docs/openapi.yaml at /openapi.yaml, and leaves every other request,
// and any other method on that path, to the gateway.
func TestWithDocumentServesTheOpenAPIDocument(t *testing.T) {
	file := filepath.Join("..", "..", "docs", "openapi.yaml")
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	gateway := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "gateway") })
	srv := httptest.NewServer(localstack.WithDocument(file, gateway))
	defer srv.Close()

	resp, err := http.Get(srv.URL + localstack.DocumentPath)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != string(want) {
		t.Fatalf("GET /openapi.yaml status=%d, %d bytes; want 200 and the %d bytes of %s", resp.StatusCode, len(got), len(want), file)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type=%q, want application/yaml", ct)
	}
	for _, r := range []struct{ method, path string }{{"GET", "/healthz"}, {"POST", localstack.DocumentPath}} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != "gateway" {
			t.Errorf("%s %s answered %q, want the gateway's answer", r.method, r.path, got)
		}
	}
}
