#!/bin/sh
# Runs every Fuzz* function of the module for FUZZTIME each (default 10s), one at a time:
# go test accepts a single -fuzz target per run. New fuzzers are found without editing this.
set -eu
cd "$(dirname "$0")/.."
t="${FUZZTIME:-10s}"
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
	pkg="./$(dirname "${f#./}")"
	for fn in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
		echo "== $pkg $fn ($t)"
		go test "$pkg" -run '^$' -fuzz "^$fn\$" -fuzztime "$t"
	done
done
