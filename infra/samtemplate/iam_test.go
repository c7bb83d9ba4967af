package samtemplate_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/ringfence/ringfence/infra/localstack"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"github.com/ringfence/ringfence/shared/retell"
)

// actionLog records the IAM actions a DynamoDB client's requests need: the operation's own, or,
// for a transaction, each item's (IAM authorizes TransactWriteItems item by item); a Query of an
// index is recorded as such, since it needs the index's ARN.
type actionLog struct {
	mu      sync.Mutex
	actions map[string]bool
}

func (l *actionLog) add(action string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.actions[action] = true
}

func (l *actionLog) option() func(*aws.Config) {
	return func(cfg *aws.Config) {
		cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ringfence-iam", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				switch p := in.Parameters.(type) {
				case *dynamodb.TransactWriteItemsInput:
					for _, it := range p.TransactItems {
						switch {
						case it.Put != nil:
							l.add("dynamodb:PutItem")
						case it.Update != nil:
							l.add("dynamodb:UpdateItem")
						case it.Delete != nil:
							l.add("dynamodb:DeleteItem")
						case it.ConditionCheck != nil:
							l.add("dynamodb:ConditionCheckItem")
						}
					}
				case *dynamodb.QueryInput:
					if p.IndexName != nil {
						l.add("dynamodb:Query index " + *p.IndexName)
					} else {
						l.add("dynamodb:Query")
					}
				default:
					l.add("dynamodb:" + awsmiddleware.GetOperationName(ctx))
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	}
}

// Every function's role allows what its code calls: each sample event in events/ runs through its
// function's real handler against DynamoDB Local, every DynamoDB action it sends is recorded, and
// the translated template's role must grant each one (an index Query on the table's indexes).
// functionNeeds, the list the secrets test checks, must name them too.
func TestPoliciesCoverWhatTheCodeCalls(t *testing.T) {
	tmpl, err := samtemplate.Load(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	logicalID := map[string]string{}
	for _, fn := range tmpl.Functions {
		logicalID[fn.Name] = fn.LogicalID
	}
	translated := MustTranslate(t)
	env := dynamotest.MustNewStore(t)
	const retellKey = "key_iam-test-retell"
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events: %v", err)
	}
	observed := map[string]*actionLog{}
	for _, file := range files {
		name := filepath.Base(file)
		folder := ""
		for f := range logicalID {
			if strings.HasPrefix(name, f+"-") && len(f) > len(folder) {
				folder = f
			}
		}
		if folder == "" {
			t.Fatalf("%s names no function", name)
		}
		log, ok := observed[folder]
		if !ok {
			log = &actionLog{actions: map[string]bool{}}
			observed[folder] = log
		}
		cfg := app.Config{
			Table: env.Table, DynamoDBEndpoint: dynamotest.Endpoint(), AccountID: "default", Function: folder,
			APIKey: "local-dev-api-key-0123456789", BolnaWebhookToken: "local-bolna-token-0123456789",
			VapiWebhookSecret: "local-simulator-key", RetellAPIKey: retellKey,
			DirectLimit: 5, CampaignLimit: 10, StaleAfter: 5 * time.Minute, DialTimeout: 2 * time.Minute, ScheduleWindow: 15 * time.Minute,
		}
		a := app.NewWithAWS(cfg, dynamotest.Config(log.option()), io.Discard)
		event := MustSignRetell(t, file, retellKey)
		if _, err := localstack.Invoke(context.Background(), a.Handlers()[folder], event); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for folder, log := range observed {
		id := logicalID[folder]
		statements := roleStatements(t, translated, translated.Resources[id])
		var actions []string
		for a := range log.actions {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		if len(actions) == 0 {
			t.Fatalf("%s sent no DynamoDB request for its sample events", id)
		}
		for _, action := range actions {
			name, index, isIndex := strings.Cut(action, " index ")
			if !grantsOn(statements, name, index) {
				t.Fatalf("%s calls %s but its role does not allow it (it calls %v)", id, action, actions)
			}
			if !contains(functionNeeds[id].dynamo, name) || (isIndex && !functionNeeds[id].index) {
				t.Fatalf("%s calls %s; add it to functionNeeds", id, action)
			}
		}
	}
}

// MustSignRetell reads a sample event and signs a Retell body with key at the current time, as
// Retell signs each delivery; other events are returned as they are.
func MustSignRetell(tb testing.TB, file, key string) []byte {
	tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return b
	}
	signed := false
	for name := range req.Headers {
		if strings.EqualFold(name, retell.SignatureHeader) {
			req.Headers[name], signed = retell.Sign([]byte(req.Body), key, time.Now()), true
		}
	}
	if !signed {
		return b
	}
	out, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// grantsOn says whether a statement allows action on the table or, with an index name, on that
// index (named, or all of the table's indexes).
func grantsOn(statements []map[string]any, action, index string) bool {
	if index == "" {
		return grants(statements, action, false)
	}
	for _, st := range statements {
		if !allows(st, action) {
			continue
		}
		for _, r := range resources(st) {
			if sub, _ := path(r, "Fn::Sub").(string); sub == "${Table.Arn}/index/"+index || sub == "${Table.Arn}/index/*" {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
