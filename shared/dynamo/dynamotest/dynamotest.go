// Package dynamotest gives tests a real DynamoDB: Amazon's DynamoDB Local, started once per test
// binary (or the one named by RINGFENCE_DYNAMODB_ENDPOINT), and a fresh table per test created
// from template.yaml's definition and deleted when the test ends.
package dynamotest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/dynamodblocal"
	"github.com/ringfence/ringfence/infra/iam"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/dynamo"
)

// EndpointVariable names the environment variable that points tests at a running DynamoDB Local.
const EndpointVariable = "RINGFENCE_DYNAMODB_ENDPOINT"

var endpoint string

// Main runs a package's tests with DynamoDB Local available. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }
func Main(m *testing.M) int {
	endpoint = os.Getenv(EndpointVariable)
	if endpoint == "" {
		root, err := dynamodblocal.RepoRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		logFile, _ := os.CreateTemp("", "dynamodb-local-*.log")
		srv, err := dynamodblocal.Start(context.Background(), root, 0, logFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "DynamoDB Local:", err)
			return 1
		}
		defer srv.Stop()
		endpoint = srv.Endpoint
	}
	return m.Run()
}

// Config returns the AWS configuration for DynamoDB Local. Options can add middleware to it, as
// the fault-injection tests do.
func Config(options ...func(*aws.Config)) aws.Config {
	cfg := dynamo.LocalConfig()
	for _, o := range options {
		o(&cfg)
	}
	return cfg
}

// Env is one test's table and the clients on it.
type Env struct {
	Table  string
	Store  *dynamo.Store
	Client dynamo.Client
}

var tableSeq atomic.Int64

// MustNewStore creates a fresh table for the test and returns a store on it. Options apply to the
// AWS configuration of the store's client (not of the client that creates the table).
func MustNewStore(tb testing.TB, options ...func(*aws.Config)) Env {
	tb.Helper()
	if endpoint == "" {
		tb.Fatal("dynamotest: call dynamotest.Main from the package's TestMain")
	}
	def := MustLoadTable(tb)
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), tableSeq.Add(1))
	admin := dynamo.NewClient(Config(), endpoint)
	ctx := context.Background()
	if err := dynamo.CreateTable(ctx, admin, name, def); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	tb.Cleanup(func() {
		if err := dynamo.DeleteTable(context.Background(), admin, name); err != nil {
			tb.Errorf("delete table: %v", err)
		}
	})
	client := dynamo.NewClient(Config(options...), endpoint)
	return Env{Table: name, Store: dynamo.NewStore(client, name), Client: client}
}

// Endpoint returns the DynamoDB Local endpoint the tests use as the operator: to create tables,
// to seed them, and to read what the functions wrote. Functions use FunctionEndpoint.
func Endpoint() string { return endpoint }

var (
	proxyOnce sync.Once
	proxy     *iam.Server
	proxyErr  error
)

// FunctionEndpoint returns the endpoint through which the functions under test reach DynamoDB
// Local: a proxy that allows each request only what the role of the function that signed it
// allows (infra/iam), as AWS does and DynamoDB Local does not. It starts on first use.
func FunctionEndpoint(tb testing.TB) string {
	tb.Helper()
	return mustProxy(tb).Endpoint
}

// Denied returns the requests on table that the proxy refused (and any whose credentials named
// no function's role).
func Denied(tb testing.TB, table string) []string {
	tb.Helper()
	return mustProxy(tb).Denied(table)
}

func mustProxy(tb testing.TB) *iam.Server {
	tb.Helper()
	if endpoint == "" {
		tb.Fatal("dynamotest: call dynamotest.Main from the package's TestMain")
	}
	proxyOnce.Do(func() {
		root, err := dynamodblocal.RepoRoot()
		if err != nil {
			proxyErr = err
			return
		}
		roles, err := iam.LoadRepository(root)
		if err != nil {
			proxyErr = err
			return
		}
		proxy, proxyErr = iam.Start(endpoint, roles)
	})
	if proxyErr != nil {
		tb.Fatalf("the IAM proxy in front of DynamoDB Local: %v", proxyErr)
	}
	return proxy
}

// MustLoadTable reads the table definition from the repository's template.yaml.
func MustLoadTable(tb testing.TB) dynamo.TableDefinition {
	tb.Helper()
	root, err := dynamodblocal.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	t, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return t.Table
}

// Reopen returns another store on the same table, with a client built with options: a second
// process looking at the same data, as a redelivery after a crash would.
func (e Env) Reopen(options ...func(*aws.Config)) *dynamo.Store {
	return dynamo.NewStore(dynamo.NewClient(Config(options...), endpoint), e.Table)
}
