package httpapi_test

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/ringfence/ringfence/infra/testio"
	"github.com/ringfence/ringfence/shared/calling"
	"github.com/ringfence/ringfence/shared/dynamo"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/httpapi"
)

// The health check reads an item, a data-plane call like every request's, and never calls
// DescribeTable, a control-plane call with a low limit of its own. A table that does not answer
// makes it 503.
func TestHealthzReadsAnItem(t *testing.T) {
	var ops dynamotest.OperationLog
	h := MustHarness(t, dynamotest.RecordOperations(&ops))
	MustDecode(t, invoke(t, h.srv.Management(), MustEvent(t, "api-healthz.json")), 200, nil)
	if got := ops.Names(); len(got) != 1 || got[0] != "GetItem" {
		t.Fatalf("health check sent %v, want [GetItem]", got)
	}
	missing := dynamo.NewStore(dynamo.NewClient(dynamotest.Config(), dynamotest.Endpoint()), "no_such_table")
	log := slog.New(slog.NewJSONHandler(&testio.Buffer{}, nil))
	srv := httpapi.NewServer(missing, calling.New(missing, nil, calling.Defaults{}, log), httpapi.Config{}, log)
	MustDecode(t, invoke(t, srv.Management(), MustEvent(t, "api-healthz.json")), 503, nil)
	if slices.Contains(ops.Names(), "DescribeTable") {
		t.Fatal("the health check called DescribeTable")
	}
}
