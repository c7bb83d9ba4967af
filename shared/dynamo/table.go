package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableDefinition describes the table as template.yaml declares it. The local runner and the
// tests read it from the template and create the table from it, so there is one definition.
type TableDefinition struct {
	Attributes   map[string]string // Attribute name to type: S, N or B.
	HashKey      string
	RangeKey     string
	Indexes      []IndexDefinition
	TTLAttribute string
}

// IndexDefinition describes one global secondary index.
type IndexDefinition struct {
	Name             string
	HashKey          string
	RangeKey         string
	Projection       string // ALL, KEYS_ONLY or INCLUDE.
	NonKeyAttributes []string
}

// TableAdmin is the part of the DynamoDB API that creates and deletes tables.
type TableAdmin interface {
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// CreateTable creates the named table from def, unless a table of that name exists already, and
// waits until it is active.
func CreateTable(ctx context.Context, admin TableAdmin, name string, def TableDefinition) error {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keySchema(def.HashKey, def.RangeKey),
	}
	for attr, typ := range def.Attributes {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(attr), AttributeType: types.ScalarAttributeType(typ),
		})
	}
	for _, ix := range def.Indexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: keySchema(ix.HashKey, ix.RangeKey),
			Projection: &types.Projection{
				ProjectionType:   types.ProjectionType(ix.Projection),
				NonKeyAttributes: ix.NonKeyAttributes,
			},
		})
	}
	_, err := admin.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return internal(err, "create table %s", name)
	}
	waiter := dynamodb.NewTableExistsWaiter(admin, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return internal(err, "wait for table %s", name)
	}
	if def.TTLAttribute != "" {
		_, err = admin.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName: aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{
				AttributeName: aws.String(def.TTLAttribute), Enabled: aws.Bool(true),
			},
		})
		if err != nil {
			return internal(err, "enable TTL on table %s", name)
		}
	}
	return nil
}

// DeleteTable deletes the named table; a table already gone is not an error.
func DeleteTable(ctx context.Context, admin TableAdmin, name string) error {
	_, err := admin.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	var missing *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return internal(err, "delete table %s", name)
	}
	return nil
}

func keySchema(hash, rangeKey string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rangeKey != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rangeKey), KeyType: types.KeyTypeRange})
	}
	return ks
}
