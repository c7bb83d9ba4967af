package secrets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/ringfence/ringfence/shared/secrets"
)

// fakeSecretsManager holds versions by stage, as Secrets Manager does after put-secret-value:
// the new value becomes AWSCURRENT and the one before AWSPREVIOUS.
type fakeSecretsManager struct {
	versions map[string]*secretsmanager.GetSecretValueOutput
	calls    int
	down     bool
}

func (f *fakeSecretsManager) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.calls++
	if f.down {
		return nil, errors.New("connection refused")
	}
	v, ok := f.versions[aws.ToString(in.VersionStage)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no such version")}
	}
	return v, nil
}

// put rotates the secret at t.
func (f *fakeSecretsManager) put(value string, t time.Time) {
	if cur, ok := f.versions["AWSCURRENT"]; ok {
		f.versions["AWSPREVIOUS"] = cur
	}
	f.versions["AWSCURRENT"] = &secretsmanager.GetSecretValueOutput{SecretString: aws.String(value), CreatedDate: aws.Time(t)}
}

// A rotation needs no redeploy: the cached value is used for RefreshEvery, then the new one; the
// previous value is accepted for PreviousGrace after the rotation, then refused.
func TestManagerRefreshesAndGracesThePreviousValue(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := start
	api := &fakeSecretsManager{versions: map[string]*secretsmanager.GetSecretValueOutput{}}
	api.put("old-secret", start.Add(-48*time.Hour))
	m := secrets.NewManager(api)
	m.Now = func() time.Time { return now }
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:ringfence/VapiWebhookSecret"

	get := func() secrets.Value {
		t.Helper()
		v, err := m.Get(ctx, arn)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := get(); got.Current != "old-secret" || got.Previous != "" {
		t.Fatalf("before the rotation: %+v", got)
	}
	api.put("new-secret", now)
	now = now.Add(secrets.RefreshEvery - time.Second)
	if got := get(); got.Current != "old-secret" {
		t.Fatalf("within RefreshEvery the cached value is used; got %+v", got)
	}
	now = now.Add(time.Second)
	got := get()
	if got.Current != "new-secret" || got.Previous != "old-secret" || !got.Accepts("old-secret") || !got.Accepts("new-secret") || got.Accepts("other") || got.Accepts("") {
		t.Fatalf("after the refresh: %+v", got)
	}
	now = start.Add(secrets.PreviousGrace + time.Second)
	if got := get(); got.Accepts("old-secret") || !got.Accepts("new-secret") {
		t.Fatalf("after the grace period the previous value is refused; got %+v", got)
	}

	// Secrets Manager unreachable: the value read before keeps being served.
	api.down = true
	now = now.Add(secrets.RefreshEvery)
	if got := get(); got.Current != "new-secret" {
		t.Fatalf("while Secrets Manager is down: %+v", got)
	}
	if _, err := secrets.NewManager(api).Get(ctx, arn); err == nil {
		t.Fatal("a secret never read, with Secrets Manager down, gave no error")
	}
}

// A secret the stack created empty (a provider key not put yet) is unset, not an error.
func TestManagerSecretWithoutValueIsUnset(t *testing.T) {
	api := &fakeSecretsManager{versions: map[string]*secretsmanager.GetSecretValueOutput{}}
	v, err := secrets.NewManager(api).Get(context.Background(), "arn:empty")
	if err != nil || v.Current != "" || v.Accepts("") {
		t.Fatalf("Get=%+v, %v; want an unset value", v, err)
	}
}

// The same code reads the environment locally and Secrets Manager on AWS: a secret whose ARN is
// set (NAME_ARN) comes from Secrets Manager, any other from the variable itself.
func TestFromEnvironmentRoutesBySecret(t *testing.T) {
	api := &fakeSecretsManager{versions: map[string]*secretsmanager.GetSecretValueOutput{}}
	api.put("from-secrets-manager", time.Now())
	env := map[string]string{
		"VAPI_WEBHOOK_SECRET_ARN":      "arn:vapi",
		"VAPI_WEBHOOK_SECRET":          "ignored",
		"BOLNA_WEBHOOK_TOKEN":          "from-env",
		"BOLNA_WEBHOOK_TOKEN_PREVIOUS": "from-env-before",
	}
	getenv := func(k string) string { return env[k] }
	store := secrets.FromEnvironment(getenv, secrets.NewManager(api))
	tests := []struct {
		name string
		want secrets.Value
	}{
		{secrets.VapiWebhookSecret, secrets.Value{Current: "from-secrets-manager"}},
		{secrets.BolnaWebhookToken, secrets.Value{Current: "from-env", Previous: "from-env-before"}},
		{secrets.APIKey, secrets.Value{}},
	}
	for _, tt := range tests {
		got, err := store.Get(context.Background(), tt.name)
		if err != nil || got != tt.want {
			t.Fatalf("Get(%s)=%+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
	if !secrets.InSecretsManager(getenv) || secrets.InSecretsManager(func(string) string { return "" }) {
		t.Fatal("InSecretsManager does not see the ARN")
	}
	if !secrets.Configured(getenv, secrets.VapiWebhookSecret) || !secrets.Configured(getenv, secrets.BolnaWebhookToken) || secrets.Configured(getenv, secrets.RetellAPIKey) {
		t.Fatal("Configured is wrong")
	}
}
