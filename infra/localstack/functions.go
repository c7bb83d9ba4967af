package localstack

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ringfence/ringfence/infra/lambdarie"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/app"
)

// Functions builds every function of the template as Lambda builds it: each its own App, made by
// app.New from the environment Lambda would give that function (lambdarie.FunctionEnv: the
// template's variables, only its own secrets, its name and its role's credentials). Nothing is
// shared between them but the table, so a function can do only what its own role and its own
// secrets let it do. env holds the local values: the table, RINGFENCE_DYNAMODB_ENDPOINT (the IAM
// proxy's, infra/iam), the providers' URLs and every secret's value. Options change each App's
// AWS configuration, as tests do to inject faults.
func Functions(ctx context.Context, t samtemplate.Template, env func(string) string, stdout io.Writer, options ...func(*aws.Config)) (map[string]*app.App, error) {
	out := map[string]*app.App{}
	for _, fn := range t.Functions {
		a, err := Function(ctx, t, fn.Name, env, stdout, options...)
		if err != nil {
			return nil, err
		}
		out[fn.Name] = a
	}
	return out, nil
}

// Function builds one function, named by its folder under functions/, as Functions does: one
// more instance of it, as Lambda starts another when runs overlap.
func Function(ctx context.Context, t samtemplate.Template, name string, env func(string) string, stdout io.Writer, options ...func(*aws.Config)) (*app.App, error) {
	list, err := lambdarie.FunctionEnv(t, name, lambdarie.LocalValues(t, env))
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	a, err := app.New(ctx, func(k string) string { return vars[k] }, stdout, options...)
	if err != nil {
		return nil, fmt.Errorf("functions/%s: %w", name, err)
	}
	return a, nil
}

// Handlers returns each function's own handler, from its own App.
func Handlers(functions map[string]*app.App) map[string]any {
	out := map[string]any{}
	for name, a := range functions {
		out[name] = a.Handlers()[name]
	}
	return out
}
