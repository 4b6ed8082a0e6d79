#!/bin/sh
# One-shot (docker-compose.yml, temporal-setup): registers the namespace if it is absent, then each
# of the product's search attributes ($SEARCH_ATTRIBUTES: Name=Type pairs) the namespace lacks.
# Safe to run again. Workers start once it has succeeded.
set -eu

address="$TEMPORAL_ADDRESS"
namespace="$TEMPORAL_NAMESPACE"

# Tries "$@" every 2 s, 60 times at most: the frontend answers before its namespace cache knows a
# namespace just created.
retry() {
  what=$1
  shift
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge 60 ]; then
      echo "gave up: $what" >&2
      return 1
    fi
    attempt=$((attempt + 1))
    sleep 2
  done
}

ensure_namespace() {
  temporal operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1 ||
    temporal operator namespace create --address "$address" --namespace "$namespace" --retention "$NAMESPACE_RETENTION"
}

has_attribute() {
  temporal operator search-attribute list --address "$address" --namespace "$namespace" 2>/dev/null | grep -qw "$1"
}

ensure_attribute() {
  has_attribute "$1" ||
    temporal operator search-attribute create --address "$address" --namespace "$namespace" --name "$1" --type "$2" ||
    has_attribute "$1"
}

retry "the Temporal frontend at $address" temporal operator cluster health --address "$address"
retry "namespace $namespace" ensure_namespace
for pair in $SEARCH_ATTRIBUTES; do
  retry "search attribute $pair" ensure_attribute "${pair%%=*}" "${pair#*=}"
  echo "search attribute $pair registered"
done
echo "namespace $namespace ready"
