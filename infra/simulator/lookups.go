package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ringfence/ringfence/shared/retell"
	"github.com/ringfence/ringfence/shared/ringfence"
)

// The providers' APIs for asking about calls, in the shapes their fixtures show
// (shared/*/testdata): what a call is now, live or ended, and the lists a lost dial is looked
// up in. A call the provider has no record of is answered 404.

// bolnaGetExecution answers Bolna's GET /executions/{execution_id}.
func (s *Simulator) bolnaGetExecution(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": 401, "message": "Access denied"})
		return
	}
	c := s.lookup(ringfence.ProviderBolna, strings.TrimPrefix(r.URL.Path, "/executions/"))
	if c == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Execution not found"})
		return
	}
	s.mu.Lock()
	body := c.object()
	s.mu.Unlock()
	writeRaw(w, http.StatusOK, body)
}

// bolnaListExecutions answers Bolna's GET /v2/agent/{agent_id}/executions: the agent's executions
// created since `from`, newest first, page_number and page_size (at most 50) at a time.
func (s *Simulator) bolnaListExecutions(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": 401, "message": "Access denied"})
		return
	}
	agent := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/agent/"), "/executions")
	q := r.URL.Query()
	from, _ := time.Parse(time.RFC3339Nano, q.Get("from"))
	page, err := strconv.Atoi(q.Get("page_number"))
	if err != nil || page < 1 {
		page = 1
	}
	size, err := strconv.Atoi(q.Get("page_size"))
	if err != nil || size < 1 {
		size = 20
	}
	size = min(size, 50)
	all := s.listed(ringfence.ProviderBolna, func(c *simCall) bool { return c.who.agentID == agent && !c.createdAt.Before(from) })
	data := []json.RawMessage{}
	for i := len(all) - 1 - (page-1)*size; i >= 0 && len(data) < size; i-- {
		data = append(data, all[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"page_number": page, "page_size": size, "total": len(all), "has_more": page*size < len(all), "data": data})
}

// retellGetCall answers Retell's GET /v2/get-call/{call_id}.
func (s *Simulator) retellGetCall(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error_message": "Invalid API key"})
		return
	}
	c := s.lookup(ringfence.ProviderRetell, strings.TrimPrefix(r.URL.Path, "/v2/get-call/"))
	if c == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"status": "error", "message": "Not Found"})
		return
	}
	s.mu.Lock()
	body := c.object()
	s.mu.Unlock()
	writeRaw(w, http.StatusOK, body)
}

// retellListCalls answers Retell's POST /v3/list-calls: the calls whose metadata matches every
// string filter of filter_criteria.metadata (op "eq"), newest first, limit at a time (default
// 50), paged with pagination_key.
func (s *Simulator) retellListCalls(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.opts.APIKey {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error_message": "Invalid API key"})
		return
	}
	var req struct {
		FilterCriteria struct {
			Metadata []struct{ Key, Type, Op, Value string } `json:"metadata"`
		} `json:"filter_criteria"`
		Limit         int    `json:"limit"`
		PaginationKey string `json:"pagination_key"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error_message": "Invalid request body"})
		return
	}
	for _, f := range req.FilterCriteria.Metadata {
		if f.Op != "eq" || f.Type != "string" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error_message": "the simulator filters metadata with op eq on strings only"})
			return
		}
	}
	if req.Limit <= 0 {
		req.Limit = 50
	}
	all := s.listed(ringfence.ProviderRetell, func(c *simCall) bool {
		var call retell.Call
		json.Unmarshal(c.script.Live, &call)
		for _, f := range req.FilterCriteria.Metadata {
			if v, _ := call.Metadata[f.Key].(string); v != f.Value {
				return false
			}
		}
		return true
	})
	skip, _ := strconv.Atoi(req.PaginationKey)
	items := []json.RawMessage{}
	for i := len(all) - 1 - skip; i >= 0 && len(items) < req.Limit; i-- {
		items = append(items, all[i])
	}
	out := map[string]any{"items": items, "has_more": skip+len(items) < len(all)}
	if skip+len(items) < len(all) {
		out["pagination_key"] = strconv.Itoa(skip + len(items))
	}
	writeJSON(w, http.StatusOK, out)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}
