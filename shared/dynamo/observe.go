package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Observation is what one DynamoDB request did: its operation, whether it failed, and the
// capacity DynamoDB reported for it (none for a failed request, which DynamoDB does not report).
type Observation struct {
	Operation  string
	Failed     bool
	ReadUnits  float64
	WriteUnits float64
}

// Observe wraps a client so that every request asks DynamoDB for its consumed capacity and
// reports it to fn, with the request's context. The benchmarks count requests and capacity per
// webhook delivery with it; the metrics count them per function.
func Observe(c Client, fn func(context.Context, Observation)) Client {
	return &observed{next: c, report: fn}
}

type observed struct {
	next   Client
	report func(context.Context, Observation)
}

func (o *observed) done(ctx context.Context, op string, err error, caps ...types.ConsumedCapacity) {
	ob := Observation{Operation: op, Failed: err != nil}
	for _, c := range caps {
		if c.ReadCapacityUnits != nil {
			ob.ReadUnits += *c.ReadCapacityUnits
		}
		if c.WriteCapacityUnits != nil {
			ob.WriteUnits += *c.WriteCapacityUnits
		}
		if c.ReadCapacityUnits == nil && c.WriteCapacityUnits == nil && c.CapacityUnits != nil {
			// Only the total is reported: reads and writes are told apart by the operation.
			switch op {
			case "GetItem", "Query", "DescribeTable":
				ob.ReadUnits += *c.CapacityUnits
			default:
				ob.WriteUnits += *c.CapacityUnits
			}
		}
	}
	o.report(ctx, ob)
}

func capacityOf(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

func (o *observed) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := o.next.GetItem(ctx, in, opts...)
	var caps []types.ConsumedCapacity
	if out != nil {
		caps = capacityOf(out.ConsumedCapacity)
	}
	o.done(ctx, "GetItem", err, caps...)
	return out, err
}

func (o *observed) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := o.next.PutItem(ctx, in, opts...)
	var caps []types.ConsumedCapacity
	if out != nil {
		caps = capacityOf(out.ConsumedCapacity)
	}
	o.done(ctx, "PutItem", err, caps...)
	return out, err
}

func (o *observed) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := o.next.UpdateItem(ctx, in, opts...)
	var caps []types.ConsumedCapacity
	if out != nil {
		caps = capacityOf(out.ConsumedCapacity)
	}
	o.done(ctx, "UpdateItem", err, caps...)
	return out, err
}

func (o *observed) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := o.next.DeleteItem(ctx, in, opts...)
	var caps []types.ConsumedCapacity
	if out != nil {
		caps = capacityOf(out.ConsumedCapacity)
	}
	o.done(ctx, "DeleteItem", err, caps...)
	return out, err
}

func (o *observed) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := o.next.Query(ctx, in, opts...)
	var caps []types.ConsumedCapacity
	if out != nil {
		caps = capacityOf(out.ConsumedCapacity)
	}
	o.done(ctx, "Query", err, caps...)
	return out, err
}

func (o *observed) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := o.next.TransactWriteItems(ctx, in, opts...)
	var caps []types.ConsumedCapacity
	if out != nil {
		caps = out.ConsumedCapacity
	}
	o.done(ctx, "TransactWriteItems", err, caps...)
	return out, err
}

func (o *observed) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	out, err := o.next.DescribeTable(ctx, in, opts...)
	o.done(ctx, "DescribeTable", err)
	return out, err
}
