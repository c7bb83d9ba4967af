package dynamotest

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Crash is what a client built with CrashAt panics with: the test's stand-in for a Lambda that
// dies at that point. Nothing after it runs, exactly as when the process is killed.
type Crash struct {
	Request int  // The 1-based DynamoDB request at which the process died.
	After   bool // Whether it died after DynamoDB had carried the request out.
}

// CountRequests counts every DynamoDB request (each attempt) the client sends.
func CountRequests(n *atomic.Int64) func(*aws.Config) {
	return addFinalize("ringfence-count", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		n.Add(1)
		return next.HandleFinalize(ctx, in)
	})
}

// CountItemsRead adds to n the items each of the client's reads (Query, Scan, GetItem,
// BatchGetItem, TransactGetItems) read. A query or scan counts its ScannedCount, not the items it
// returned: DynamoDB reads, and charges for, every item it evaluates, including those a filter
// then drops. It sits at the Initialize step, outside the retry loop, because that is where the
// operation's typed output is: each answered operation counts once, however many attempts it took.
func CountItemsRead(n *atomic.Int64) func(*aws.Config) {
	return func(cfg *aws.Config) {
		cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ringfence-count-items-read", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil {
					n.Add(int64(itemsRead(out.Result)))
				}
				return out, md, err
			}), middleware.After)
		})
	}
}

// itemsRead is how many items an operation's output says it read; 0 for a write.
func itemsRead(result any) int {
	switch out := result.(type) {
	case *dynamodb.QueryOutput:
		return int(out.ScannedCount)
	case *dynamodb.ScanOutput:
		return int(out.ScannedCount)
	case *dynamodb.GetItemOutput:
		if out.Item != nil {
			return 1
		}
	case *dynamodb.BatchGetItemOutput:
		total := 0
		for _, items := range out.Responses {
			total += len(items)
		}
		return total
	case *dynamodb.TransactGetItemsOutput:
		total := 0
		for _, r := range out.Responses {
			if r.Item != nil {
				total++
			}
		}
		return total
	}
	return 0
}

// CrashAt makes the client panic with Crash at its request number `request` (counted from 1):
// before sending it, or, with after, once DynamoDB has answered it and before the caller sees
// the answer.
func CrashAt(request int, after bool) func(*aws.Config) {
	var n atomic.Int64
	return addFinalize("ringfence-crash", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		current := int(n.Add(1))
		if current == request && !after {
			panic(Crash{Request: current})
		}
		out, md, err := next.HandleFinalize(ctx, in)
		if current == request && after {
			panic(Crash{Request: current, After: true})
		}
		return out, md, err
	})
}

type finalizeFunc = func(context.Context, middleware.FinalizeInput, middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error)

func addFinalize(id string, fn finalizeFunc) func(*aws.Config) {
	return func(cfg *aws.Config) {
		cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc(id, fn), middleware.After)
		})
	}
}

// TimeRequests adds the time every DynamoDB request (each attempt) takes to total, in nanoseconds.
func TimeRequests(total *atomic.Int64) func(*aws.Config) {
	return addFinalize("ringfence-time", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		start := time.Now()
		out, md, err := next.HandleFinalize(ctx, in)
		total.Add(int64(time.Since(start)))
		return out, md, err
	})
}

// FailRandomly makes a share of the client's requests fail, as DynamoDB does under load: half of
// the failures are throttling before the request is carried out (the SDK's retryer may retry
// those), half are a server error after DynamoDB has carried the request out, so the caller
// cannot tell that its write happened. seed makes the sequence repeatable.
func FailRandomly(rate float64, seed uint64) func(*aws.Config) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	roll := func() float64 { mu.Lock(); defer mu.Unlock(); return rng.Float64() }
	return addFinalize("ringfence-faults", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		r := roll()
		if r < rate/2 {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "injected: rate of requests exceeds the allowed throughput", Fault: smithy.FaultServer}
		}
		out, md, err := next.HandleFinalize(ctx, in)
		if err == nil && r < rate {
			return middleware.FinalizeOutput{}, md, &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected: the response was lost after the request was carried out", Fault: smithy.FaultServer}
		}
		return out, md, err
	})
}

// OperationLog is the names of the DynamoDB operations a client sent, in order.
type OperationLog struct {
	mu    sync.Mutex
	names []string
}

// Names returns the operations sent so far.
func (l *OperationLog) Names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.names...)
}

// RecordOperations logs the name of every DynamoDB operation (each attempt) the client sends.
func RecordOperations(log *OperationLog) func(*aws.Config) {
	return addFinalize("ringfence-operations", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		log.mu.Lock()
		log.names = append(log.names, awsmiddleware.GetOperationName(ctx))
		log.mu.Unlock()
		return next.HandleFinalize(ctx, in)
	})
}

// BeforeFirst runs do once, just before the client sends the first request whose input is a T
// (*dynamodb.TransactWriteItemsInput, say) and for which match reports true (nil matches any).
// A test uses it to put another writer's work between a read and the write decided from it, so a
// race runs in the order the test chooses, every time, instead of when goroutines happen to
// overlap. do must use another client (env.Reopen()), or it would run itself again.
func BeforeFirst[T any](match func(T) bool, do func()) func(*aws.Config) {
	var once sync.Once
	return func(cfg *aws.Config) {
		cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ringfence-before-first", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if input, ok := in.Parameters.(T); ok && (match == nil || match(input)) {
					once.Do(do)
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	}
}

// FailWhileDown makes the client's requests for the named operations ("GetItem", "Query", ...;
// all of them when none is named) fail while down is set, as a store outage does: a server
// error before the request is carried out, so nothing is written. Clearing down ends the outage.
func FailWhileDown(down *atomic.Bool, operations ...string) func(*aws.Config) {
	return addFinalize("ringfence-outage", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if down.Load() && (len(operations) == 0 || slices.Contains(operations, awsmiddleware.GetOperationName(ctx))) {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected: the store is down", Fault: smithy.FaultServer}
		}
		return next.HandleFinalize(ctx, in)
	})
}
