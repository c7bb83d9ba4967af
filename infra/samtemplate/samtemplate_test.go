package samtemplate_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/samtemplate"
)

var templatePath = filepath.Join("..", "..", "template.yaml")

// cfn-lint (with the SAM translator) must accept the template that `sam deploy` would deploy.
func TestCfnLintAcceptsTemplate(t *testing.T) {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		t.Fatal("cfn-lint is not installed; install it with `pip install cfn-lint`")
	}
	out, err := exec.Command("cfn-lint", templatePath).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

func TestLoadReadsFunctionsAndTable(t *testing.T) {
	tmpl, err := samtemplate.Load(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Table.HashKey != "pk" || tmpl.Table.RangeKey != "sk" || tmpl.Table.TTLAttribute != "expires_at" {
		t.Fatalf("table=%+v", tmpl.Table)
	}
	if len(tmpl.Table.Indexes) == 0 {
		t.Fatal("no indexes read")
	}
	names := map[string]bool{}
	for _, fn := range tmpl.Functions {
		names[fn.Name] = true
	}
	for _, want := range []string{"api", "bolna-webhook", "tools"} {
		if !names[want] {
			t.Fatalf("function %s not read from the template (got %v)", want, names)
		}
	}
}

func TestParseSchedules(t *testing.T) {
	src := []byte(`
Resources:
  Sweeper:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/sweeper/
      Events:
        Every:
          Type: Schedule
          Properties: {Schedule: rate(1 minute)}
        Off:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(15 minutes), State: DISABLED}
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
`)
	tmpl, err := samtemplate.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	s := tmpl.Functions[0].Schedules
	if len(s) != 2 || s[0].Every != time.Minute || s[0].Disabled || s[1].Every != 15*time.Minute || !s[1].Disabled {
		t.Fatalf("schedules=%+v", s)
	}
	if _, err := samtemplate.Parse([]byte("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: x\n      Events:\n        E:\n          Type: Schedule\n          Properties: {Schedule: cron(0 * * * ? *)}\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: pk, KeyType: HASH}]\n")); err == nil {
		t.Fatal("a cron expression was accepted; the local runner only fires rate() schedules")
	}
}
