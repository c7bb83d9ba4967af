// Package lambdarie runs a function the way `sam local invoke` does, without Docker: its
// bootstrap, built for this machine, under the AWS Lambda Runtime Interface Emulator (the program
// `sam local invoke` runs inside its container), with the environment template.yaml gives the
// function. The bootstrap, lambda.Start, the Runtime API and the function's environment are
// exercised together, as on Lambda.
package lambdarie

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ringfence/ringfence/infra/iam"
	"github.com/ringfence/ringfence/infra/samtemplate"
	"github.com/ringfence/ringfence/shared/secrets"
)

// lambdaDefaults are variables Lambda sets in every function's environment, with local values;
// TZ is Lambda's own.
var lambdaDefaults = map[string]string{
	"AWS_REGION":                  iam.Region,
	"AWS_DEFAULT_REGION":          iam.Region,
	"AWS_SECRET_ACCESS_KEY":       "local",
	"AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
	"TZ":                          ":UTC",
}

// FunctionEnv returns the environment of the function fn (its folder under functions/) as
// Lambda would give it, with local values where the deployed stack would have its own:
//
//   - every variable the template gives the function, a parameter at its default;
//   - a variable that refers to a resource of the stack (RINGFENCE_TABLE: !Ref Table) takes its
//     value from local, and is an error without one;
//   - a secret's ARN (NAME_ARN: !Ref ...Secret) is replaced by the secret itself, NAME (and
//     NAME_PREVIOUS, to try a rotation), from local, which is where the code reads a secret off
//     AWS; a function is given only the secrets the template gives it, whatever local holds;
//   - what Lambda sets: AWS_LAMBDA_FUNCTION_NAME (the folder), its memory size and timeout (which
//     the emulator enforces), the region, and its role's credentials (iam.AccessKeyID), which
//     the IAM proxy enforces when RINGFENCE_DYNAMODB_ENDPOINT is the proxy's (infra/iam);
//   - every other value of local is added, or overrides the above: DynamoDB Local's endpoint
//     (RINGFENCE_DYNAMODB_ENDPOINT, required, so that nothing run locally reaches AWS), the
//     provider simulator's URLs, a function's own credentials.
func FunctionEnv(tmpl samtemplate.Template, fn string, local map[string]string) ([]string, error) {
	var f *samtemplate.Function
	for i := range tmpl.Functions {
		if tmpl.Functions[i].Name == fn {
			f = &tmpl.Functions[i]
		}
	}
	if f == nil {
		return nil, fmt.Errorf("no function %q in the template; the functions are the folders under functions/", fn)
	}
	if local["RINGFENCE_DYNAMODB_ENDPOINT"] == "" {
		return nil, fmt.Errorf("functions/%s: RINGFENCE_DYNAMODB_ENDPOINT is not set; a function run locally uses DynamoDB Local", fn)
	}
	isSecret := map[string]bool{}
	for _, name := range secrets.Names {
		isSecret[name] = true
	}
	env := map[string]string{}
	for k, v := range lambdaDefaults {
		env[k] = v
	}
	env["AWS_LAMBDA_FUNCTION_NAME"] = fn
	env["AWS_ACCESS_KEY_ID"] = iam.AccessKeyID(f.LogicalID)
	// Without a timeout or memory size in the template, the emulator's own defaults apply.
	if f.MemorySize > 0 {
		env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(f.MemorySize)
	}
	if f.Timeout > 0 {
		env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(f.Timeout)
	}
	ownSecrets := map[string]bool{}
	for name, v := range f.Environment {
		secret, isARN := strings.CutSuffix(name, secrets.ARNSuffix)
		switch {
		case v.Ref == "":
			env[name] = v.Value
		case isARN && isSecret[secret]:
			ownSecrets[secret] = true
		case local[name] == "":
			return nil, fmt.Errorf("functions/%s: %s refers to %s, which exists only in the deployed stack; give it a local value", fn, name, v.Ref)
		}
	}
	for name, v := range local {
		secret := strings.TrimSuffix(name, "_PREVIOUS")
		if isSecret[secret] && !ownSecrets[secret] {
			continue
		}
		env[name] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// LocalValues returns what getenv holds of the variables a function may read, for FunctionEnv's
// local: every variable the template gives a function, each secret's value and previous value
// (NAME and NAME_PREVIOUS of secrets.Names), DynamoDB Local's endpoint, the account, and whether
// events may go to a loopback receiver. What the user's environment sets thus overrides the
// template, as `sam local invoke --env-vars` does.
func LocalValues(tmpl samtemplate.Template, getenv func(string) string) map[string]string {
	// The settings that exist only off AWS: DynamoDB Local, the development account, and the
	// delivery of events to a receiver on this machine (which template.yaml never sets).
	names := []string{"RINGFENCE_DYNAMODB_ENDPOINT", "RINGFENCE_ACCOUNT_ID", "RINGFENCE_LOOPBACK_ENDPOINTS"}
	for _, name := range secrets.Names {
		names = append(names, name, name+"_PREVIOUS")
	}
	for _, fn := range tmpl.Functions {
		for name := range fn.Environment {
			if !strings.HasSuffix(name, secrets.ARNSuffix) {
				names = append(names, name)
			}
		}
	}
	out := map[string]string{}
	for _, name := range names {
		if v := getenv(name); v != "" {
			out[name] = v
		}
	}
	return out
}
