# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.
SHELL := /bin/bash
GO ?= go
ROLE ?= vendor
ORG ?= demo-vendor
ACCOUNT_TYPE ?= service_provider

.PHONY: run test token bench lint validate unit deps build clean gen-day bench-rollup test-fee-acceptance

# The platform on http://127.0.0.1:3000 (Step Functions API on 127.0.0.1:8083), with demo tokens.
# Built, then run, rather than `go run`: go run exits 1 after any Ctrl-C, even when the program
# it ran stopped cleanly, and make would report that as an error.
run: deps
	@$(GO) build -o .local/bin/local ./infra/local
	@.local/bin/local

# Everything CI runs.
test: deps validate unit

# A dev token: make token ROLE=vendor ORG=demo-vendor (reviewers: make token ROLE=reviewer ORG=)
token:
	@$(GO) run ./infra/local token -role $(ROLE) $(if $(ORG),-org $(ORG)) $(if $(filter vendor,$(ROLE)),-account-type $(ACCOUNT_TYPE))

# Cold start, measured: binary sizes and init times of every function (results go in README).
bench:
	$(GO) run ./infra/bench -out bench-results.md
	$(GO) test -run '^$$' -bench . -benchtime 2s ./infra/local/states/ ./shared/...

# The service fee's acceptance scenario alone (issue 14: 1,000 devices, 31 days rolled up by the
# daily schedule, the monthly schedule, statements against an independent computation; part of
# `make test` too): about 2.5 minutes on the local engines.
test-fee-acceptance: deps
	$(GO) test -count=1 -timeout 30m -run TestFee_MonthlyStatementsFromTheDailyRollup -v ./infra/e2e/

# A generated day of transactions (README, "Daily transaction figures"): into a directory,
#   make gen-day DATE=2026-11-27 OUT=.local/transactions [DEVICES=1000 ROWS=100000 OBJECTS=8 SEED=1]
# or into a bucket through the S3 API (AWS_* settings, e.g. make run's local S3): make gen-day BUCKET=name
DATE ?= $(shell TZ=Asia/Shanghai date -d yesterday +%F)
DEVICES ?= 1000
ROWS ?= 100000
OBJECTS ?= 8
SEED ?= 1
gen-day:
	$(GO) run ./infra/rollup gen -date $(DATE) -devices $(DEVICES) -rows $(ROWS) -objects $(OBJECTS) -seed $(SEED) \
		$(if $(BUCKET),-bucket $(BUCKET),-out $(or $(OUT),.local/transactions))

# The aggregation step over every *.ndjson.gz in IN, figures to OUT, timed beside DuckDB and gunzip:
#   make bench-rollup IN=.local/transactions/transactions/dt=2026-11-27 OUT=/tmp/figures.ndjson
bench-rollup: node_modules/.installed
	@test -n "$(IN)" -a -n "$(OUT)" || (echo "usage: make bench-rollup IN=DIR OUT=FILE"; exit 2)
	@$(GO) build -o .local/bin/rollup ./infra/rollup
	@.local/bin/rollup bench -in $(IN) -out $(OUT)

# Tools: versitygw (go install, ~2 min once), moto_server (pip, only when absent), npm validators.
deps: node_modules/.installed
	@command -v versitygw >/dev/null || test -x "$$($(GO) env GOPATH)/bin/versitygw" || \
		(echo "installing versitygw v1.8.0 (about 2 minutes, once)"; GOFLAGS= $(GO) install github.com/versity/versitygw/cmd/versitygw@v1.8.0)
	@command -v moto_server >/dev/null || python3 -m pip install "moto[server]"

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

validate: deps
	cfn-lint template.yaml
	openapi-spec-validator infra/openapi.yaml
	@for f in statemachines/*.asl.json; do npx --no-install asl-validator --json-path "$$f" || exit 1; done

# go test must leave no engine behind: a live moto_server/versitygw whose parent is gone
# (re-parented to PID 1) a few seconds after the run is an orphan, and fails the build.
ORPHANS = ps -eo pid=,ppid=,stat=,args= | awk '$$2 == 1 && $$3 !~ /^Z/ && /moto_server|versitygw/ && !/awk/'
# -timeout 45m: under -race on a loaded 2-core machine the end-to-end package alone passes go
# test's default 10 minutes (seen at load average 15), and it holds the devices volume scenario
# (10,500 devices through the gateway, several minutes on moto); a hung test still fails, later.
unit:
	$(GO) vet ./...
	@before=$$($(ORPHANS) | awk '{print $$1}' | sort); \
	$(GO) test -race -count=1 -timeout 45m ./... || exit 1; \
	for i in $$(seq 20); do \
		left=$$(comm -13 <(echo "$$before") <($(ORPHANS) | awk '{print $$1}' | sort)); \
		[ -z "$$left" ] && break; sleep 0.5; \
	done; \
	if [ -n "$$left" ]; then echo "engines left behind:"; ps -o pid,ppid,args -p $$(echo $$left | tr ' ' ,); exit 1; fi

# Builds every function as AWS does (arm64, stripped) into bin/<function>/bootstrap.
build:
	@for d in functions/*/; do n=$$(basename $$d); \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bin/$$n/bootstrap ./$$d || exit 1; done

clean:
	rm -rf bin .local .aws-sam
