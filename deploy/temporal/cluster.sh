#!/bin/sh
# Sets up and runs a Temporal cluster on PostgreSQL, one service per process, the way an operator
# would. docker-compose.yml runs it in the temporalio/admin-tools and temporalio/server images;
# `npm run test:cluster` runs it on the host with binaries from scripts/provision-temporal-server.sh.
#
#   cluster.sh schema          create the temporal and visibility databases and bring their schemas
#                              up to date with temporal-sql-tool (idempotent: run it on every upgrade)
#   cluster.sh start SERVICE   run one service in the foreground (frontend, history, matching or
#                              worker) with config/nurture.yaml, rendered by the server itself
#   cluster.sh config          print that configuration as this environment renders it
#   cluster.sh namespace       wait for the frontend, then create the namespace and Nurture's search
#                              attributes (idempotent), and wait until the frontend knows them
#
# Settings, from the environment [default]:
#   TEMPORAL_DB_HOST [127.0.0.1]  TEMPORAL_DB_PORT [5432]  TEMPORAL_DB_USER [postgres]
#   TEMPORAL_DB_PASSWORD []       TEMPORAL_DB [temporal]   TEMPORAL_VISIBILITY_DB [temporal_visibility]
#   TEMPORAL_HISTORY_SHARDS [4]   fixed when the databases are first set up
#   TEMPORAL_DB_MAX_CONNS [20]  TEMPORAL_VISIBILITY_DB_MAX_CONNS [10]   connections per process
#   TEMPORAL_BIND_IP [127.0.0.1]  address the services listen on; 0.0.0.0 in a container
#   TEMPORAL_BROADCAST_ADDRESS    address other processes reach this one at [the bind IP, or the
#                                 container's own address when binding 0.0.0.0]
#   TEMPORAL_FRONTEND_PORT [7233] TEMPORAL_FRONTEND_HTTP_PORT [7243] TEMPORAL_HISTORY_PORT [7234]
#   TEMPORAL_MATCHING_PORT [7235] TEMPORAL_WORKER_PORT [7239] and each *_MEMBERSHIP_PORT
#                                 [6933, 6934, 6935, 6939]: give a second process of one service on
#                                 the same host its own pair
#   TEMPORAL_FRONTEND_ADDRESS     host:port of the frontend [127.0.0.1:$TEMPORAL_FRONTEND_PORT]
#   TEMPORAL_PROMETHEUS_ADDRESS   host:port for the server's metrics [none]
#   TEMPORAL_LOG_LEVEL [warn]     TEMPORAL_NAMESPACE [default]  TEMPORAL_RETENTION [30d]
#   TEMPORAL_WAIT_SECONDS [120]   how long `namespace` waits for the frontend
# Tools [as named in the images]: TEMPORAL_SERVER [temporal-server], TEMPORAL_SQL_TOOL
#   [temporal-sql-tool], TEMPORAL_CLI [temporal], TEMPORAL_SCHEMA_DIR [/etc/temporal/schema/postgresql/v12]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)

: "${TEMPORAL_DB_HOST:=127.0.0.1}" "${TEMPORAL_DB_PORT:=5432}" "${TEMPORAL_DB_USER:=postgres}"
: "${TEMPORAL_DB_PASSWORD:=}" "${TEMPORAL_DB:=temporal}" "${TEMPORAL_VISIBILITY_DB:=temporal_visibility}"
: "${TEMPORAL_HISTORY_SHARDS:=4}" "${TEMPORAL_BIND_IP:=127.0.0.1}" "${TEMPORAL_LOG_LEVEL:=warn}"
: "${TEMPORAL_DB_MAX_CONNS:=20}" "${TEMPORAL_VISIBILITY_DB_MAX_CONNS:=10}"
: "${TEMPORAL_FRONTEND_PORT:=7233}" "${TEMPORAL_FRONTEND_HTTP_PORT:=7243}" "${TEMPORAL_FRONTEND_MEMBERSHIP_PORT:=6933}"
: "${TEMPORAL_HISTORY_PORT:=7234}" "${TEMPORAL_HISTORY_MEMBERSHIP_PORT:=6934}"
: "${TEMPORAL_MATCHING_PORT:=7235}" "${TEMPORAL_MATCHING_MEMBERSHIP_PORT:=6935}"
: "${TEMPORAL_WORKER_PORT:=7239}" "${TEMPORAL_WORKER_MEMBERSHIP_PORT:=6939}"
: "${TEMPORAL_FRONTEND_ADDRESS:=127.0.0.1:$TEMPORAL_FRONTEND_PORT}" "${TEMPORAL_PROMETHEUS_ADDRESS:=}"
: "${TEMPORAL_NAMESPACE:=default}" "${TEMPORAL_RETENTION:=30d}" "${TEMPORAL_WAIT_SECONDS:=120}"
: "${TEMPORAL_SERVER:=temporal-server}" "${TEMPORAL_SQL_TOOL:=temporal-sql-tool}" "${TEMPORAL_CLI:=temporal}"
: "${TEMPORAL_SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
if [ -z "${TEMPORAL_BROADCAST_ADDRESS:-}" ]; then
  if [ "$TEMPORAL_BIND_IP" = 0.0.0.0 ]; then TEMPORAL_BROADCAST_ADDRESS=$(hostname -i | cut -d' ' -f1)
  else TEMPORAL_BROADCAST_ADDRESS=$TEMPORAL_BIND_IP; fi
fi
export TEMPORAL_DB_HOST TEMPORAL_DB_PORT TEMPORAL_DB_USER TEMPORAL_DB_PASSWORD TEMPORAL_DB TEMPORAL_VISIBILITY_DB \
  TEMPORAL_DB_MAX_CONNS TEMPORAL_VISIBILITY_DB_MAX_CONNS \
  TEMPORAL_HISTORY_SHARDS TEMPORAL_BIND_IP TEMPORAL_BROADCAST_ADDRESS TEMPORAL_LOG_LEVEL \
  TEMPORAL_FRONTEND_PORT TEMPORAL_FRONTEND_HTTP_PORT TEMPORAL_FRONTEND_MEMBERSHIP_PORT \
  TEMPORAL_HISTORY_PORT TEMPORAL_HISTORY_MEMBERSHIP_PORT TEMPORAL_MATCHING_PORT TEMPORAL_MATCHING_MEMBERSHIP_PORT \
  TEMPORAL_WORKER_PORT TEMPORAL_WORKER_MEMBERSHIP_PORT TEMPORAL_FRONTEND_ADDRESS TEMPORAL_PROMETHEUS_ADDRESS

# Nurture's search attributes: the names and types of JOURNEY_SEARCH_ATTRIBUTES in
# workflows/contract.ts (test/unit/deploy.test.ts keeps the two lists equal).
SEARCH_ATTRIBUTES="JourneyKey=Keyword JourneyVersion=Int ContactId=Keyword JourneyStep=Keyword EnrolmentStatus=Keyword ProcessKey=Keyword ProcessTask=Keyword Assignee=Keyword"

# An absolute config folder under root "/": `start` joins the two, `render-config` reads only the folder.
server() { "$TEMPORAL_SERVER" --root / --config "$HERE/config" --env nurture --allow-no-auth "$@"; }
cli() { "$TEMPORAL_CLI" "$@" --address "$TEMPORAL_FRONTEND_ADDRESS"; }

schema() {
  export SQL_PASSWORD="$TEMPORAL_DB_PASSWORD"
  for pair in "$TEMPORAL_DB:temporal" "$TEMPORAL_VISIBILITY_DB:visibility"; do
    db=${pair%%:*}
    dir="$TEMPORAL_SCHEMA_DIR/${pair#*:}/versioned"
    [ -d "$dir" ] || { echo "no schema files at $dir (set TEMPORAL_SCHEMA_DIR)" >&2; exit 1; }
    set -- --plugin postgres12 --ep "$TEMPORAL_DB_HOST" -p "$TEMPORAL_DB_PORT" -u "$TEMPORAL_DB_USER" --db "$db"
    "$TEMPORAL_SQL_TOOL" "$@" create                   # no-op when it exists
    "$TEMPORAL_SQL_TOOL" "$@" setup-schema -v 0.0      # version tables only; keeps a later version
    "$TEMPORAL_SQL_TOOL" "$@" update-schema -d "$dir"  # applies the versions not applied yet
  done
  echo "Temporal databases $TEMPORAL_DB and $TEMPORAL_VISIBILITY_DB are up to date"
}

namespace() {
  deadline=$(( $(date +%s) + TEMPORAL_WAIT_SECONDS ))
  until cli operator cluster health >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "the frontend at $TEMPORAL_FRONTEND_ADDRESS did not answer" >&2; exit 1; }
    sleep 1
  done
  cli operator namespace describe -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1 \
    || cli operator namespace create -n "$TEMPORAL_NAMESPACE" --retention "$TEMPORAL_RETENTION"
  # A new namespace reaches the services' caches within seconds.
  until existing=$(cli operator search-attribute list -n "$TEMPORAL_NAMESPACE" 2>/dev/null); do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "namespace $TEMPORAL_NAMESPACE did not become usable" >&2; exit 1; }
    sleep 1
  done
  query=""
  for attribute in $SEARCH_ATTRIBUTES; do
    name=${attribute%%=*}
    echo "$existing" | grep -qw "$name" \
      || cli operator search-attribute create -n "$TEMPORAL_NAMESPACE" --name "$name" --type "${attribute#*=}"
    query="$query${query:+ AND }$name IS NULL"
  done
  # Every service caches namespaces and their attributes for a few seconds: ready once the
  # frontend accepts a query on all of them.
  until cli workflow count -n "$TEMPORAL_NAMESPACE" --query "$query" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "the search attributes did not become usable" >&2; exit 1; }
    sleep 1
  done
  echo "namespace $TEMPORAL_NAMESPACE is ready with its search attributes"
}

case "${1:-}" in
  schema) schema ;;
  start)
    case "${2:-}" in frontend|history|matching|worker) ;; *) echo "usage: $0 start frontend|history|matching|worker" >&2; exit 2 ;; esac
    exec "$TEMPORAL_SERVER" --root / --config "$HERE/config" --env nurture --allow-no-auth start --service "$2" ;;
  config) server render-config ;;
  namespace) namespace ;;
  *) echo "usage: $0 schema | start SERVICE | config | namespace" >&2; exit 2 ;;
esac
