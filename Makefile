# tenantlink: `make test` installs what the tests need and runs every test;
# `make bench` runs the benchmarks whose figures go in docs/PERFORMANCE.md.
GO ?= go
export TENANTLINK_TEST_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export TENANTLINK_TEST_CHROMIUM ?= /usr/bin/chromium

.PHONY: test bench deps vet fmt build

build:
	$(GO) build ./...

deps:
	./scripts/test-deps.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...
	@$(GO) mod tidy -diff || { echo 'go mod tidy would change go.mod/go.sum: run it and commit the result'; exit 1; }

test: deps vet
	$(GO) test -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 30m ./... | tee bench.out
