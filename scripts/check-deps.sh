#!/usr/bin/env bash
# Fails if a production service binary links the NATS server. Only tests
# and the dev stack may embed nats-server; services connect to a cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
for main in services/*/cmd/*; do
	svc="$(basename "$main")"
	[[ "$svc" == devstack ]] && continue
	if go list -deps "./$main" | grep -q '^github.com/nats-io/nats-server/'; then
		echo "check-deps: $main links github.com/nats-io/nats-server; production binaries must not" >&2
		status=1
	fi
done
[[ $status -eq 0 ]] && echo "check-deps: no production binary links nats-server"
exit $status
