# The two commands of the README: `make run` serves the example campaigns, `make test` runs
# every test, the browser tests included.
.PHONY: run test build fuzz

run:
	go run ./cmd/campaign serve --campaigns campaigns/examples

test:
	./scripts/test.sh

build:
	go build -o campaign ./cmd/campaign

# Fuzzing sessions of every parser, each Fuzz* function for FUZZTIME (default 10s; not part
# of `make test`, whose runs replay the seed corpora): `make fuzz FUZZTIME=3m` for longer.
fuzz:
	FUZZTIME=$${FUZZTIME:-10s} ./scripts/fuzz.sh
