package samtemplate_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
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

// MustTranslate runs the template through the SAM translator (testdata/translate.py, with
// cfn-lint's transform pipeline, installed beside cfn-lint).
func MustTranslate(tb testing.TB) cfn {
	tb.Helper()
	out, err := exec.Command("python3", filepath.Join("testdata", "translate.py"), templatePath).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		tb.Fatalf("translate template.yaml: %v\n%s", err, msg)
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
	if scheduled != 3 {
		t.Fatalf("%d scheduled functions found, want 3", scheduled)
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
