#!/usr/bin/env bash
# Runs every test of the project. The browser tests drive Debian's Chromium through chromedp;
# when it is missing, this installs it (as root) or says how to.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "Installing Chromium for the browser tests (apt-get install chromium)…"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	else
		echo "The browser tests need Chromium. Install it with: sudo apt-get install -y chromium" >&2
		exit 1
	fi
fi

go vet ./...
go test -count=1 ./...
