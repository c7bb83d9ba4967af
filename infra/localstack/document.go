package localstack

import (
	"net/http"
	"os"
)

// DocumentPath is where the local runner serves docs/openapi.yaml, the API's description. It is
// a convenience of `make run` alone, outside template.yaml's routes: a deployment does not serve
// it, and the document itself does not list it.
const DocumentPath = "/openapi.yaml"

// WithDocument serves the OpenAPI document in file at DocumentPath and passes every other
// request to next. The file is read on each request, so an edit shows without a restart. Any
// origin may fetch it, so that a viewer running elsewhere in the browser can load it.
func WithDocument(file string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != DocumentPath || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(b)
	})
}
