// Command scheduler is the Lambda function that, every 15 minutes, enqueues the welcome and daily
// calls that are due, each once per customer and local date.
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
	lambda.Start(a.Calling.ScheduleScheduled)
}
