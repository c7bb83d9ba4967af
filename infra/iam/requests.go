package iam

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Need is one permission a request needs: an action on a resource of a table.
type Need struct {
	Action   string // e.g. dynamodb:ConditionCheckItem
	Resource string // an ARN: the table's, or one of its indexes'
	Table    string // the table's name, which ${Table.Arn} stands for
}

// DynamoDBNeeds returns what a DynamoDB request needs, by IAM's rules for DynamoDB: an operation
// needs its own action on the table, or on the index it reads (a Query or Scan with IndexName
// needs the index's ARN); a transaction needs each item's own action (PutItem, UpdateItem,
// DeleteItem, ConditionCheckItem, or GetItem) on that item's table; a batch needs its action on
// every table it names.
func DynamoDBNeeds(operation string, body []byte) ([]Need, error) {
	var req struct {
		TableName     string                     `json:"TableName"`
		IndexName     string                     `json:"IndexName"`
		RequestItems  map[string]json.RawMessage `json:"RequestItems"`
		TransactItems []map[string]struct {
			TableName string `json:"TableName"`
		} `json:"TransactItems"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, fmt.Errorf("a %s request that is not JSON: %w", operation, err)
		}
	}
	switch operation {
	case "TransactWriteItems", "TransactGetItems":
		itemActions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		var needs []Need
		for _, item := range req.TransactItems {
			for kind, target := range item {
				action, ok := itemActions[kind]
				if !ok {
					return nil, fmt.Errorf("a transaction item of kind %q", kind)
				}
				needs = append(needs, Need{Action: "dynamodb:" + action, Resource: TableARN(target.TableName), Table: target.TableName})
			}
		}
		return needs, nil
	case "BatchGetItem", "BatchWriteItem":
		var tables []string
		for t := range req.RequestItems {
			tables = append(tables, t)
		}
		sort.Strings(tables)
		var needs []Need
		for _, t := range tables {
			needs = append(needs, Need{Action: "dynamodb:" + operation, Resource: TableARN(t), Table: t})
		}
		return needs, nil
	}
	if req.TableName == "" {
		return []Need{{Action: "dynamodb:" + operation, Resource: "*"}}, nil
	}
	resource := TableARN(req.TableName)
	if req.IndexName != "" {
		resource += "/index/" + req.IndexName
	}
	return []Need{{Action: "dynamodb:" + operation, Resource: resource, Table: req.TableName}}, nil
}

// operationOf reads the operation from a DynamoDB request's X-Amz-Target header, such as
// "DynamoDB_20120810.Query".
func operationOf(target string) (string, bool) {
	service, op, ok := strings.Cut(target, ".")
	return op, ok && strings.HasPrefix(service, "DynamoDB_") && op != ""
}
