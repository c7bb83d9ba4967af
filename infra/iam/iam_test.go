package iam_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/ringfence/ringfence/infra/iam"
)

// translated is a template as CloudFormation receives it, cut to what the check reads: a function,
// its role with one Allow on the table and one index, and one explicit Deny.
const translated = `{"Resources": {
  "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
  "Key": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
  "WorkerFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["WorkerFunctionRole", "Arn"]}}},
  "WorkerFunctionRole": {"Type": "AWS::IAM::Role", "Properties": {
    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [
      {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Put*", "dynamodb:Query", "dynamodb:UpdateItem"],
       "Resource": [{"Fn::GetAtt": ["Table", "Arn"]}, {"Fn::Sub": "${Table.Arn}/index/gsi2"}]},
      {"Effect": "Deny", "Action": "dynamodb:PutItem", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/locked"}},
      {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "Key"}}
    ]}}]}}
}}`

func mustRole(t *testing.T) *iam.Role {
	t.Helper()
	roles, err := iam.Load([]byte(translated))
	if err != nil {
		t.Fatal(err)
	}
	role, ok := roles.ForKey(iam.AccessKeyID("WorkerFunction"))
	if !ok {
		t.Fatalf("no role for the function's key")
	}
	return role
}

// IAM's rules as DynamoDB applies them: actions by name (wildcards, any case), the table's ARN
// for the table, the index's own ARN for an index, and an explicit Deny over any Allow.
func TestRoleAllowsByIAMsRules(t *testing.T) {
	role := mustRole(t)
	for _, c := range []struct {
		action, resource, table string
		want                    bool
	}{
		{"dynamodb:GetItem", iam.TableARN("t1"), "t1", true},
		{"DynamoDB:getitem", iam.TableARN("t1"), "t1", true},
		{"dynamodb:PutItem", iam.TableARN("t1"), "t1", true},
		{"dynamodb:DeleteItem", iam.TableARN("t1"), "t1", false},
		{"dynamodb:ConditionCheckItem", iam.TableARN("t1"), "t1", false},
		{"dynamodb:Query", iam.TableARN("t1") + "/index/gsi2", "t1", true},
		{"dynamodb:Query", iam.TableARN("t1") + "/index/gsi1", "t1", false},
		{"dynamodb:GetItem", iam.TableARN("other"), "t1", false},
		{"dynamodb:PutItem", iam.TableARN("locked"), "locked", false},
		{"secretsmanager:GetSecretValue", iam.SecretARN("Key"), "", true},
		{"secretsmanager:GetSecretValue", iam.SecretARN("Other"), "", false},
	} {
		if got := role.Allows(c.action, c.resource, c.table); got != c.want {
			t.Errorf("Allows(%s, %s)=%v, want %v", c.action, c.resource, got, c.want)
		}
	}
}

// A statement the check cannot evaluate is refused when the roles are read, not guessed at.
func TestLoadRefusesWhatItCannotEvaluate(t *testing.T) {
	withCondition := strings.Replace(translated, `"Effect": "Deny",`, `"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}},`, 1)
	if _, err := iam.Load([]byte(withCondition)); err == nil || !strings.Contains(err.Error(), "Condition") {
		t.Fatalf("Load with a Condition: err=%v, want one naming it", err)
	}
}

// What a request needs: each transaction item its own action on its own table, a Query on an
// index the index's ARN, a batch its action on every table.
func TestDynamoDBNeeds(t *testing.T) {
	for _, c := range []struct {
		op, body string
		want     []string
	}{
		{"Query", `{"TableName":"t","IndexName":"gsi2"}`, []string{"dynamodb:Query " + iam.TableARN("t") + "/index/gsi2"}},
		{"Query", `{"TableName":"t"}`, []string{"dynamodb:Query " + iam.TableARN("t")}},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"t"}},{"ConditionCheck":{"TableName":"t"}},{"Update":{"TableName":"u"}},{"Delete":{"TableName":"t"}}]}`,
			[]string{"dynamodb:PutItem " + iam.TableARN("t"), "dynamodb:ConditionCheckItem " + iam.TableARN("t"), "dynamodb:UpdateItem " + iam.TableARN("u"), "dynamodb:DeleteItem " + iam.TableARN("t")}},
		{"TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"t"}}]}`, []string{"dynamodb:GetItem " + iam.TableARN("t")}},
		{"BatchWriteItem", `{"RequestItems":{"b":[],"a":[]}}`, []string{"dynamodb:BatchWriteItem " + iam.TableARN("a"), "dynamodb:BatchWriteItem " + iam.TableARN("b")}},
		{"ListTables", `{}`, []string{"dynamodb:ListTables *"}},
	} {
		needs, err := iam.DynamoDBNeeds(c.op, []byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.op, err)
		}
		var got []string
		for _, n := range needs {
			got = append(got, n.Action+" "+n.Resource)
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s %s needs\n%s\nwant\n%s", c.op, c.body, strings.Join(got, "\n"), strings.Join(c.want, "\n"))
		}
	}
}

// Through the AWS SDK: a request the role denies fails with the AccessDeniedException DynamoDB
// returns, and never reaches DynamoDB; one it allows is forwarded; a key that names no role is
// refused as an unrecognized client.
func TestProxyRefusesAsDynamoDBDoes(t *testing.T) {
	roles, err := iam.Load([]byte(translated))
	if err != nil {
		t.Fatal(err)
	}
	var forwarded []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forwarded = append(forwarded, r.Header.Get("X-Amz-Target"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{}`))
	}))
	defer backend.Close()
	proxy, err := iam.NewProxy(backend.URL, roles)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
	client := func(key string) *dynamodb.Client {
		return dynamodb.NewFromConfig(aws.Config{Region: iam.Region, Credentials: credentials.NewStaticCredentialsProvider(key, "secret", ""),
			RetryMaxAttempts: 1}, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(front.URL) })
	}
	ctx := context.Background()
	worker := client(iam.AccessKeyID("WorkerFunction"))
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}
	if _, err := worker.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t1"), Key: key}); err != nil {
		t.Fatalf("an allowed GetItem: %v", err)
	}
	_, err = worker.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String("t1"), Key: key, UpdateExpression: aws.String("SET a = :a")}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("t1"), Key: key, ConditionExpression: aws.String("attribute_exists(pk)")}},
	}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" || !strings.Contains(apiErr.ErrorMessage(), "dynamodb:ConditionCheckItem") {
		t.Fatalf("a transaction with a ConditionCheck the role does not allow: err=%v, want AccessDeniedException naming dynamodb:ConditionCheckItem", err)
	}
	_, err = client("someone-else").GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t1"), Key: key})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("a key of no role: err=%v, want UnrecognizedClientException", err)
	}
	if len(forwarded) != 1 || forwarded[0] != "DynamoDB_20120810.GetItem" {
		t.Fatalf("forwarded %v, want only the allowed GetItem", forwarded)
	}
	if denied := proxy.Denied("t1"); len(denied) != 2 {
		t.Fatalf("denied %v, want the transaction and the unknown key", denied)
	}
}

// The shipped template's roles load: every function has one, and each statement can be checked.
func TestRepositoryRolesLoad(t *testing.T) {
	roles, err := iam.LoadRepository("../..")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(roles.Functions()); got < 9 {
		t.Fatalf("%d functions' roles, want every function's: %v", got, roles.Functions())
	}
}
