package samtemplate_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/dynamo/dynamotest"
	"go.yaml.in/yaml/v3"
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

// What `sam build` ships is what `make build` builds and the benchmarks measure: every function
// builds with the Makefile (BuildMethod makefile, from the repository root, so a change anywhere
// in shared/ is rebuilt), through a build-<LogicalId> target that runs make build's own recipe,
// static, stripped and with lambda.norpc, into the ARTIFACTS_DIR that SAM names.
func TestSamBuildIsMakeBuild(t *testing.T) {
	tmpl, err := samtemplate.Load(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join("..", "..")
	makeBuild := MustMakeDryRun(t, root, "build")
	for _, flag := range []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "-tags lambda.norpc", "-trimpath", "-ldflags='-s -w'"} {
		if !strings.Contains(makeBuild, flag) {
			t.Fatalf("make build does not build with %s:\n%s", flag, makeBuild)
		}
	}
	recipe, _, _ := strings.Cut(makeBuild[strings.Index(makeBuild, "CGO_ENABLED"):], " -o ")
	for _, fn := range tmpl.Functions {
		if fn.BuildMethod != "makefile" {
			t.Fatalf("%s: BuildMethod=%q, want makefile", fn.LogicalID, fn.BuildMethod)
		}
		got := MustMakeDryRun(t, root, "build-"+fn.LogicalID, "ARTIFACTS_DIR=/artifacts")
		want := recipe + " -o /artifacts/bootstrap ./functions/" + fn.Name
		if strings.TrimSpace(got) != want {
			t.Fatalf("make build-%s runs\n  %s\nwant make build's recipe\n  %s", fn.LogicalID, strings.TrimSpace(got), want)
		}
	}
}

// MustMakeDryRun returns the commands `make -n TARGET` would run in dir.
func MustMakeDryRun(tb testing.TB, dir string, args ...string) string {
	tb.Helper()
	cmd := exec.Command("make", append([]string{"-s", "-n", "--no-print-directory"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("make -n %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// samconfig.toml must not turn on SAM's build cache: it hashes only each function's CodeUri and
// would keep shipping old binaries after a change elsewhere. Go's own build cache keeps
// rebuilds fast.
func TestSamConfigDoesNotCacheBuilds(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "cached" && strings.TrimSpace(v) != "false" {
			t.Fatalf("samconfig.toml sets %q", strings.TrimSpace(line))
		}
	}
}

func TestFolderOf(t *testing.T) {
	for id, want := range map[string]string{"ApiFunction": "api", "BolnaWebhookFunction": "bolna-webhook", "Tools": "tools"} {
		if got := samtemplate.FolderOf(id); got != want {
			t.Fatalf("FolderOf(%s)=%q, want %q", id, got, want)
		}
	}
}

// ScheduleRate's pattern accepts what EventBridge accepts: the singular unit for 1, the plural
// for more.
func TestScheduleRatePattern(t *testing.T) {
	b, err := os.ReadFile(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Parameters map[string]struct {
			AllowedPattern string `yaml:"AllowedPattern"`
			Default        string `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	if err := yaml.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	p := tmpl.Parameters["ScheduleRate"]
	re := regexp.MustCompile(p.AllowedPattern)
	for _, ok := range []string{p.Default, "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(15 minutes)", "rate(120 minutes)"} {
		if !re.MatchString(ok) {
			t.Fatalf("ScheduleRate refuses %q", ok)
		}
	}
	for _, bad := range []string{"rate(1 minutes)", "rate(1 hours)", "rate(2 minute)", "rate(0 minutes)", "rate(05 minutes)", "cron(0 * * * ? *)"} {
		if re.MatchString(bad) {
			t.Fatalf("ScheduleRate accepts %q, which EventBridge rejects", bad)
		}
	}
}

func TestMain(m *testing.M) { os.Exit(dynamotest.Main(m)) }
