#!/bin/sh
# Creates the namespace and registers Nurture's search attributes (idempotent).
# Runs in the temporalio/admin-tools image once the server is healthy.
set -eu
: "${TEMPORAL_ADDRESS:=temporal:7233}" "${TEMPORAL_NAMESPACE:=default}"

until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe -n "$TEMPORAL_NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 \
  || temporal operator namespace create -n "$TEMPORAL_NAMESPACE" --retention 30d --address "$TEMPORAL_ADDRESS"

for attribute in JourneyKey=Keyword JourneyVersion=Int ContactId=Keyword JourneyStep=Keyword EnrolmentStatus=Keyword; do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  temporal operator search-attribute create -n "$TEMPORAL_NAMESPACE" --address "$TEMPORAL_ADDRESS" \
    --name "$name" --type "$type" || echo "search attribute $name exists"
done
echo "namespace $TEMPORAL_NAMESPACE is ready"
