package testio

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// ServeAPI serves handler as a provider's API for the length of the test and returns its base
// URL, for the adapters' lookup tests.
func ServeAPI(tb testing.TB, handler http.HandlerFunc) string {
	tb.Helper()
	srv := httptest.NewServer(handler)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// Answer is a provider API that answers every request with status and body, and records the
// last request it got as "METHOD /path" in request, so a test can check what was asked.
func Answer(status int, body []byte, request *string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		*request = r.Method + " " + r.URL.Path
		w.WriteHeader(status)
		w.Write(body)
	}
}
