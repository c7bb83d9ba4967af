package localstack

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/iam"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/app"
	"github.com/ringfence/ringfence/shared/secrets"
)

// Functions builds every function of the template as Lambda builds it: each its own App, made by
// app.New from the environment Lambda would give that function (FunctionEnv). Nothing is shared
// between them but the table, so a function can do only what its own role and its own secrets
// let it do. env holds the local settings: the table, RINGFENCE_DYNAMODB_ENDPOINT (the IAM
// proxy's, infra/iam), the providers' URLs and every secret's value. Options change each App's
// AWS configuration, as tests do to inject faults.
func Functions(ctx context.Context, t samtemplate.Template, env func(string) string, stdout io.Writer, options ...func(*aws.Config)) (map[string]*app.App, error) {
	out := map[string]*app.App{}
	for _, fn := range t.Functions {
		a, err := app.New(ctx, FunctionEnv(fn, env), stdout, options...)
		if err != nil {
			return nil, fmt.Errorf("functions/%s: %w", fn.Name, err)
		}
		out[fn.Name] = a
	}
	return out, nil
}

// Handlers returns each function's own handler, from its own App.
func Handlers(functions map[string]*app.App) map[string]any {
	out := map[string]any{}
	for name, a := range functions {
		out[name] = a.Handlers()[name]
	}
	return out
}

// FunctionEnv is one function's environment off AWS: the local settings in env, the function's
// name (AWS_LAMBDA_FUNCTION_NAME) and its role's credentials (AWS_ACCESS_KEY_ID, which the IAM
// proxy reads). Of the secrets it gets only those the template gives it (a NAME_ARN in its
// environment), as plain values, since no Secrets Manager runs locally: a function that reads a
// secret its deployed twin cannot read fails here as it would on AWS.
func FunctionEnv(fn samtemplate.Function, env func(string) string) func(string) string {
	overlay := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": fn.Name,
		"AWS_ACCESS_KEY_ID":        iam.AccessKeyID(fn.LogicalID),
		"AWS_SECRET_ACCESS_KEY":    "local",
		"AWS_SESSION_TOKEN":        "",
		"AWS_REGION":               iam.Region,
	}
	for _, name := range secrets.Names {
		overlay[name+secrets.ARNSuffix] = ""
		if _, given := fn.Environment[name+secrets.ARNSuffix]; !given {
			overlay[name] = ""
		}
	}
	return Overlay(env, overlay)
}
