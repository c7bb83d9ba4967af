package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/secrets"
)

// cfn is a template as CloudFormation receives it, after the AWS::LanguageExtensions transform
// and the SAM translator.
type cfn struct {
	Resources map[string]cfnResource `json:"Resources"`
}

type cfnResource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// MustTranslate returns the template as CloudFormation receives it (samtemplate.Translate).
func MustTranslate(tb testing.TB) cfn {
	tb.Helper()
	out, err := samtemplate.Translate(filepath.Join("..", ".."))
	if err != nil {
		tb.Fatal(err)
	}
	var t cfn
	if err := json.Unmarshal(out, &t); err != nil {
		tb.Fatalf("translated template: %v", err)
	}
	return t
}

// ofType returns the resources of one type, by logical id.
func (t cfn) ofType(typ string) map[string]cfnResource {
	out := map[string]cfnResource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// path follows keys through nested maps.
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

// What the deployed stack must hold beyond what cfn-lint checks: every scheduled function sends
// its failed runs to a queue with an alarm and drops stale runs; the API's stage throttles and
// logs; the table cannot be deleted by accident; an alarm topic exists when none is given.
func TestTranslatedTemplateGuards(t *testing.T) {
	tmpl := MustTranslate(t)
	invokeConfigs := map[string]cfnResource{}
	for _, r := range tmpl.ofType("AWS::Lambda::EventInvokeConfig") {
		fn, _ := path(r.Properties, "FunctionName", "Ref").(string)
		invokeConfigs[fn] = r
	}
	alarmed := map[string]bool{}
	for _, a := range tmpl.ofType("AWS::CloudWatch::Alarm") {
		if d, _ := a.Properties["AlarmDescription"].(string); d == "" {
			t.Fatalf("an alarm does not say what it watches: %v", a.Properties)
		}
		for _, d := range asList(a.Properties["Dimensions"]) {
			if q, ok := path(d, "Value", "Fn::GetAtt").([]any); ok && len(q) == 2 && q[1] == "QueueName" {
				alarmed[q[0].(string)] = true
			}
		}
	}
	scheduled := 0
	for id, fn := range tmpl.ofType("AWS::Lambda::Function") {
		if !hasSchedule(tmpl, id) {
			continue
		}
		scheduled++
		cfg, ok := invokeConfigs[id]
		if !ok {
			t.Fatalf("scheduled function %s has no EventInvokeConfig", id)
		}
		queue, _ := path(cfg.Properties, "DestinationConfig", "OnFailure", "Destination", "Fn::GetAtt").([]any)
		if len(queue) != 2 || tmpl.Resources[queue[0].(string)].Type != "AWS::SQS::Queue" || !alarmed[queue[0].(string)] {
			t.Fatalf("%s's failed runs go to %v, want a queue with an alarm", id, path(cfg.Properties, "DestinationConfig"))
		}
		if age, _ := cfg.Properties["MaximumEventAgeInSeconds"].(float64); age == 0 || age > 600 {
			t.Fatalf("%s keeps runs %v seconds, want at most 10 minutes", id, cfg.Properties["MaximumEventAgeInSeconds"])
		}
		if fn.Properties["ReservedConcurrentExecutions"] == nil {
			t.Fatalf("%s has no reserved concurrency", id)
		}
	}
	if scheduled != 4 {
		t.Fatalf("%d scheduled functions found, want 4 (dispatcher, sweeper, scheduler, deliverer)", scheduled)
	}
	stages := tmpl.ofType("AWS::ApiGatewayV2::Stage")
	if len(stages) != 1 {
		t.Fatalf("%d stages, want 1", len(stages))
	}
	for id, s := range stages {
		if path(s.Properties, "DefaultRouteSettings", "ThrottlingRateLimit") == nil || path(s.Properties, "DefaultRouteSettings", "ThrottlingBurstLimit") == nil {
			t.Fatalf("stage %s does not throttle: %v", id, s.Properties)
		}
		if format, _ := path(s.Properties, "AccessLogSettings", "Format").(string); !json.Valid([]byte(format)) || path(s.Properties, "AccessLogSettings", "DestinationArn") == nil {
			t.Fatalf("stage %s has no JSON access logs: %v", id, s.Properties["AccessLogSettings"])
		}
	}
	for id, table := range tmpl.ofType("AWS::DynamoDB::Table") {
		if table.Properties["DeletionProtectionEnabled"] != true {
			t.Fatalf("table %s has no deletion protection", id)
		}
	}
	if len(tmpl.ofType("AWS::SNS::Topic")) != 1 {
		t.Fatal("no SNS topic for the alarms when AlarmTopicArn is empty")
	}
}

// hasSchedule says whether an EventBridge rule targets the function.
func hasSchedule(t cfn, fn string) bool {
	for _, rule := range t.ofType("AWS::Events::Rule") {
		for _, target := range asList(rule.Properties["Targets"]) {
			if arn, _ := path(target, "Arn", "Fn::GetAtt").([]any); len(arn) == 2 && arn[0] == fn {
				return true
			}
		}
	}
	return false
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// What each function's code calls, by its logical id: the DynamoDB actions of its store
// methods, and the secrets it reads (shared/secrets names).
var functionNeeds = map[string]struct {
	dynamo  []string
	index   bool // Queries an index (gsi1 or gsi2).
	secrets []string
}{
	"ApiFunction":           {dynamoClaims, true, []string{secrets.APIKey, secrets.SessionSecret, secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey}},
	"BolnaWebhookFunction":  {dynamoClaims, true, []string{secrets.BolnaWebhookToken, secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey}},
	"RetellWebhookFunction": {dynamoClaims, true, []string{secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey}},
	"VapiWebhookFunction":   {dynamoClaims, true, []string{secrets.VapiWebhookSecret, secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey}},
	"ToolsFunction":         {[]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}, false, []string{secrets.BolnaWebhookToken, secrets.RetellAPIKey}},
	"DispatcherFunction":    {dynamoClaims, true, []string{secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey}},
	"SweeperFunction":       {dynamoClaims, true, []string{secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey}},
	"SchedulerFunction":     {dynamoClaims, true, []string{secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey}},
	"DelivererFunction":     {[]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}, true, nil},
}

var dynamoReadWrite = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"}

// dynamoClaims is what a function that claims a dial (or starts a call) needs: its transactions
// check conditions on items they do not write (ConditionCheckItem).
var dynamoClaims = append(append([]string{}, dynamoReadWrite...), "dynamodb:ConditionCheckItem")

var allSecrets = []string{secrets.APIKey, secrets.SessionSecret, secrets.BolnaWebhookToken, secrets.BolnaAPIKey, secrets.RetellAPIKey, secrets.VapiAPIKey, secrets.VapiWebhookSecret}

// No secret is in any function's environment: a function gets only the ARNs of its own secrets
// (NAME_ARN, each a Secrets Manager secret of the stack), and its role may read exactly those.
// Its role also allows every DynamoDB action its code calls, on the table (and its indexes where
// it queries them).
func TestTranslatedTemplateSecretsAndPolicies(t *testing.T) {
	tmpl := MustTranslate(t)
	functions := tmpl.ofType("AWS::Lambda::Function")
	if len(functions) != len(functionNeeds) {
		t.Fatalf("%d functions, want %d: %v", len(functions), len(functionNeeds), keys(functions))
	}
	for id, fn := range functions {
		needs, ok := functionNeeds[id]
		if !ok {
			t.Fatalf("function %s: add what its code calls to functionNeeds", id)
		}
		vars, _ := path(fn.Properties, "Environment", "Variables").(map[string]any)
		ownSecrets := map[string]bool{}
		for _, name := range allSecrets {
			if _, ok := vars[name]; ok {
				t.Fatalf("%s has the secret %s in its environment", id, name)
			}
			ref, ok := path(vars[name+secrets.ARNSuffix], "Ref").(string)
			if !ok {
				continue
			}
			if tmpl.Resources[ref].Type != "AWS::SecretsManager::Secret" {
				t.Fatalf("%s's %s%s is %v, want a Secrets Manager secret", id, name, secrets.ARNSuffix, vars[name+secrets.ARNSuffix])
			}
			ownSecrets[ref] = true
		}
		for _, name := range needs.secrets {
			if _, ok := vars[name+secrets.ARNSuffix]; !ok {
				t.Fatalf("%s reads %s but its environment has no %s%s", id, name, name, secrets.ARNSuffix)
			}
		}
		if len(ownSecrets) != len(needs.secrets) {
			t.Fatalf("%s has secrets %v in its environment, want those of %v", id, keys(ownSecrets), needs.secrets)
		}
		statements := roleStatements(t, tmpl, fn)
		readable := map[string]bool{}
		for _, st := range statements {
			if !allows(st, "secretsmanager:GetSecretValue") {
				continue
			}
			for _, r := range resources(st) {
				ref, ok := path(r, "Ref").(string)
				if !ok {
					t.Fatalf("%s may read the secrets %v, want only its own, by reference", id, r)
				}
				readable[ref] = true
			}
		}
		if !equalSets(readable, ownSecrets) {
			t.Fatalf("%s may read secrets %v, want exactly its own %v", id, keys(readable), keys(ownSecrets))
		}
		for _, action := range needs.dynamo {
			if !grants(statements, action, false) {
				t.Fatalf("%s's role does not allow %s on the table", id, action)
			}
		}
		if needs.index && !grants(statements, "dynamodb:Query", true) {
			t.Fatalf("%s's role does not allow dynamodb:Query on the table's indexes", id)
		}
	}
}

// roleStatements returns the statements of the inline policies of a function's role.
func roleStatements(tb testing.TB, t cfn, fn cfnResource) []map[string]any {
	tb.Helper()
	roleID, _ := path(fn.Properties, "Role", "Fn::GetAtt").([]any)
	if len(roleID) != 2 {
		tb.Fatalf("function role %v is not the stack's own", fn.Properties["Role"])
	}
	var out []map[string]any
	for _, p := range asList(t.Resources[roleID[0].(string)].Properties["Policies"]) {
		for _, st := range asList(path(p, "PolicyDocument", "Statement")) {
			if m, ok := st.(map[string]any); ok && m["Effect"] == "Allow" {
				out = append(out, m)
			}
		}
	}
	return out
}

func allows(statement map[string]any, action string) bool {
	for _, a := range append(asList(statement["Action"]), statement["Action"]) {
		if a == action {
			return true
		}
	}
	return false
}

func resources(statement map[string]any) []any {
	if l, ok := statement["Resource"].([]any); ok {
		return l
	}
	return []any{statement["Resource"]}
}

// grants says whether a statement allows action on the table (Fn::GetAtt Table.Arn) or, with
// index, on its indexes (a Fn::Sub of ${Table.Arn}/index/...).
func grants(statements []map[string]any, action string, index bool) bool {
	for _, st := range statements {
		if !allows(st, action) {
			continue
		}
		for _, r := range resources(st) {
			if att, ok := path(r, "Fn::GetAtt").([]any); ok && !index && len(att) == 2 && att[0] == "Table" && att[1] == "Arn" {
				return true
			}
			if sub, ok := path(r, "Fn::Sub").(string); ok && index && strings.HasPrefix(sub, "${Table.Arn}/index/") {
				return true
			}
		}
	}
	return false
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equalSets(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// Load gives each function the environment, timeout and memory size that the SAM translator
// gives it (the Globals merged under its own), so the local runner starts each function with
// what Lambda would: the same variables, the same resources referred to, the same literals.
func TestLoadGivesEachFunctionItsTranslatedSettings(t *testing.T) {
	translated := MustTranslate(t)
	tmpl, err := samtemplate.Load(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range tmpl.Functions {
		props := translated.Resources[fn.LogicalID].Properties
		vars, _ := path(props, "Environment", "Variables").(map[string]any)
		if len(vars) != len(fn.Environment) {
			t.Fatalf("%s: environment %v, translated %v", fn.LogicalID, fn.Environment, vars)
		}
		for name, want := range vars {
			got, ok := fn.Environment[name]
			ref, isRef := path(want, "Ref").(string)
			_, isResource := translated.Resources[ref]
			switch {
			case !ok:
				t.Fatalf("%s: %s is missing", fn.LogicalID, name)
			case isRef && isResource && got.Ref != ref:
				t.Fatalf("%s: %s=%+v, want a reference to %s", fn.LogicalID, name, got, ref)
			case (!isRef || !isResource) && got.Ref != "":
				t.Fatalf("%s: %s=%+v, translated %v", fn.LogicalID, name, got, want)
			case !isRef && want != nil && fmt.Sprint(want) != got.Value && path(want, "Fn::Join") == nil:
				t.Fatalf("%s: %s=%q, translated %v", fn.LogicalID, name, got.Value, want)
			}
		}
		if fmt.Sprint(props["Timeout"]) != fmt.Sprint(fn.Timeout) || fmt.Sprint(props["MemorySize"]) != fmt.Sprint(fn.MemorySize) {
			t.Fatalf("%s: timeout %d, memory %d; translated %v, %v", fn.LogicalID, fn.Timeout, fn.MemorySize, props["Timeout"], props["MemorySize"])
		}
	}
}
