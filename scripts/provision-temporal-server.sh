#!/usr/bin/env bash
# Prints a folder holding the Temporal server and its SQL tool, the way the temporalio/server and
# temporalio/admin-tools images lay them out: temporal-server, temporal-sql-tool and
# schema/postgresql/v12 (the schema files temporal-sql-tool applies). Used by
# deploy/temporal/cluster.sh on a host (CI, `npm run test:cluster`) instead of the images.
# Order: $TEMPORAL_SERVER_DIR when it holds both, else .tools/bin/temporal-server-<version>
# (git-ignored) when built before, else build both from the Go module proxy (about 4-5 minutes on
# 2 cores; later runs reuse the folder). Progress goes to stderr; only the folder goes to stdout.
set -euo pipefail
VERSION="v1.29.1" # keep in step with the temporalio/server image in docker-compose.yml
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.tools/bin/temporal-server-$VERSION"

complete() { [[ -x "$1/temporal-server" && -x "$1/temporal-sql-tool" && -d "$1/schema/postgresql/v12" ]]; }

if [[ -n "${TEMPORAL_SERVER_DIR:-}" ]] && complete "$TEMPORAL_SERVER_DIR"; then echo "$TEMPORAL_SERVER_DIR"; exit 0; fi
if complete "$DIR"; then echo "$DIR"; exit 0; fi

if ! command -v go >/dev/null 2>&1; then
  echo "The Temporal server is not built in $DIR and Go (>= 1.23) is not installed to build it." >&2
  exit 1
fi

echo "Building the Temporal server and temporal-sql-tool $VERSION into $DIR (first time only, a few minutes)..." >&2
mkdir -p "$DIR"
GOBIN="$DIR" go install "go.temporal.io/server/cmd/server@$VERSION" "go.temporal.io/server/cmd/tools/sql@$VERSION" >&2
mv -f "$DIR/server" "$DIR/temporal-server"
mv -f "$DIR/sql" "$DIR/temporal-sql-tool"
# The schema files come with the module's source, which `go install` just put in the module cache.
MODULE="$(go env GOMODCACHE)/go.temporal.io/server@$VERSION"
rm -rf "$DIR/schema" && mkdir -p "$DIR/schema/postgresql"
cp -R "$MODULE/schema/postgresql/v12" "$DIR/schema/postgresql/v12"
chmod -R u+w "$DIR/schema"
echo "$DIR"
