#!/usr/bin/env bash
# Prints the path of a `temporal` CLI (which embeds the Temporal dev server and Web UI).
# Order: $TEMPORAL_CLI, `temporal` on PATH, .tools/bin/temporal, else build it from the Go module
# proxy into .tools/bin (git-ignored). Progress goes to stderr; only the path goes to stdout.
set -euo pipefail
VERSION="v1.5.1" # later tags carry a replace directive and cannot be installed with `go install`
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="$ROOT/.tools/bin"

if [[ -n "${TEMPORAL_CLI:-}" && -x "${TEMPORAL_CLI}" ]]; then echo "$TEMPORAL_CLI"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [[ -x "$TOOLS_BIN/temporal" ]]; then echo "$TOOLS_BIN/temporal"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<MSG
The Temporal CLI was not found and Go is not installed to build it.
Install one of:
  - the Temporal CLI: https://docs.temporal.io/cli#install (put \`temporal\` on PATH), or
  - Go >= 1.23 (https://go.dev/dl/), then run: npm run temporal:provision
MSG
  exit 1
fi

echo "Building the Temporal CLI $VERSION into $TOOLS_BIN (first time only, takes a few minutes)..." >&2
mkdir -p "$TOOLS_BIN"
GOBIN="$TOOLS_BIN" go install "github.com/temporalio/cli/cmd/temporal@$VERSION" >&2
echo "$TOOLS_BIN/temporal"
