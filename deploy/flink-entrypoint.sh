#!/usr/bin/env bash
# Entrypoint of the Flink containers in docker-compose.yml (runs as root, then as the image's flink user).
#  1. copies flink-conf/config.yaml (mounted read-only at a staging path) into $FLINK_HOME/conf/:
#     the image's /docker-entrypoint.sh rewrites conf/config.yaml in place (jobmanager.rpc.address,
#     FLINK_PROPERTIES), which a read-only or single-file mount does not allow;
#  2. makes the shared state volume (checkpoints, savepoints) writable for the flink user;
#  3. hands over to the image's entrypoint as the flink user ("jobmanager" or "taskmanager").
set -euo pipefail
staging="${TRIPLETFLOW_CONF_STAGING:-/opt/tripletflow/flink-conf}"
state="${TRIPLETFLOW_STATE_DIR:-/opt/flink/state}"
entrypoint="${FLINK_DOCKER_ENTRYPOINT:-/docker-entrypoint.sh}"
user="${FLINK_USER:-flink}"

cp "$staging/config.yaml" "$FLINK_HOME/conf/config.yaml"
mkdir -p "$state/checkpoints" "$state/savepoints"
if [ "$(id -u)" = 0 ]; then
  chown "$user:$user" "$FLINK_HOME/conf/config.yaml" "$state" "$state/checkpoints" "$state/savepoints"
  exec setpriv --reuid="$user" --regid="$user" --init-groups "$entrypoint" "$@"
fi
exec "$entrypoint" "$@"
