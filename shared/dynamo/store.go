// Package dynamo is the DynamoDB store: the only package that imports the AWS SDK's DynamoDB
// packages. Every decision about whether a write may happen is a condition expression (or a
// transaction's conditions) evaluated by DynamoDB, never a comparison in code against something
// read earlier; a failed condition becomes a domain error or a re-read.
package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Client is the part of the DynamoDB API the store uses. *dynamodb.Client satisfies it; tests wrap
// it to count requests or to stop the process between two of them.
type Client interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// NewClient builds a DynamoDB client from an AWS configuration the caller loaded. A non-empty
// endpoint points it at DynamoDB Local; DynamoDB Local answers some failed requests without the
// CRC32 checksum real DynamoDB sends, so checksum validation is turned off for it alone.
func NewClient(cfg aws.Config, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.DisableValidateResponseChecksum = true
		}
	})
}

// Store reads and writes ringfence's records in one DynamoDB table.
type Store struct {
	client Client
	table  string
	// Now is the clock. Tests replace it to move time.
	Now func() time.Time
	// endpoints remembers which accounts have endpoints, for the outbox (see outbox.go).
	endpoints endpointCache
}

// NewStore returns a store over the named table.
func NewStore(client Client, table string) *Store {
	return &Store{client: client, table: table, Now: time.Now}
}

// Ping checks that the table answers, for the health check. It reads one item (which need not
// exist) rather than describing the table: GetItem is a data-plane call, the path every request
// takes, while DescribeTable is a control-plane call with a low request limit of its own.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(healthPK, healthPK)})
	return err
}

func (s *Store) now() string { return timestamp(s.Now()) }

// timestamp formats t so that timestamps sort as strings in time order.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// NewID returns a random id with a readable prefix, such as "call_3f9a...".
func NewID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms.
	}
	return prefix + "_" + hex.EncodeToString(b)
}

// LocalConfig is the AWS configuration for DynamoDB Local: fixed credentials and region, which
// DynamoDB Local uses only to keep databases apart, so every local tool must use the same ones.
func LocalConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
}

// getItem reads one item into v (strongly consistent when consistent is set) and reports whether
// there was one: an absent item is not an error here, and callers turn it into not-found.
func (s *Store) getItem(ctx context.Context, key map[string]types.AttributeValue, consistent bool, v any) (bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key, ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return false, err
	}
	if out.Item == nil {
		return false, nil
	}
	return true, attributevalue.UnmarshalMap(out.Item, v)
}

// queryInto runs a query (see Store.query) and decodes every item into a T for each.
func queryInto[T any](ctx context.Context, s *Store, index string, keyCond expression.KeyConditionBuilder, each func(T)) error {
	return s.query(ctx, index, keyCond, func(item map[string]types.AttributeValue) error {
		var v T
		if err := attributevalue.UnmarshalMap(item, &v); err != nil {
			return err
		}
		each(v)
		return nil
	})
}

// page says how to read one page of a query: from the table or an index, strongly consistent
// (only the table allows it) or not, oldest or newest first, and at most how many items.
type page struct {
	index       string
	consistent  bool
	newestFirst bool
	limit       int
}

// queryPage reads one page of a query, each item decoded into a T: the paged lists of the API and
// the dispatcher, which read a bounded number of items and go on from the last one's key. The
// caller names what failed; the error here is DynamoDB's or the decoder's.
func queryPage[T any](ctx context.Context, s *Store, keyCond expression.KeyConditionBuilder, p page) ([]T, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ConsistentRead: aws.Bool(p.consistent), ScanIndexForward: aws.Bool(!p.newestFirst), Limit: aws.Int32(int32(p.limit)),
	}
	if p.index != "" {
		in.IndexName = aws.String(p.index)
	}
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return nil, err
	}
	items := make([]T, 0, len(out.Items))
	for _, item := range out.Items {
		var v T
		if err := attributevalue.UnmarshalMap(item, &v); err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return items, nil
}
