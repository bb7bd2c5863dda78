# The two commands of the README: `make run` serves the example campaigns, `make test` runs
# every test, the browser tests included.
.PHONY: run test build fuzz

run:
	go run ./cmd/campaign serve --campaigns campaigns/examples

test:
	./scripts/test.sh

build:
	go build -o campaign ./cmd/campaign

# Longer fuzzing sessions of the parsers (not part of `make test`).
fuzz:
	go test ./campaigns -run '^$$' -fuzz FuzzParse -fuzztime 3m
	go test ./channels/whatsapp -run '^$$' -fuzz FuzzParseWebhook -fuzztime 3m
