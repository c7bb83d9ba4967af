// Command deliverer is the Lambda function that, every minute, sends the outbox's events to the
// accounts' endpoints and retries the deliveries that failed.
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
	lambda.Start(a.Deliverer.DeliverScheduled)
}
