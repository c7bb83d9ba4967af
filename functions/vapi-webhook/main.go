// Command vapi-webhook is the Lambda function that serves Vapi's server messages.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/ringfence/ringfence/shared/app"
)

func main() {
	a, err := app.New(context.Background(), os.Getenv, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ringfence:", err)
		os.Exit(1)
	}
	lambda.Start(a.HTTP.VapiWebhook())
}
