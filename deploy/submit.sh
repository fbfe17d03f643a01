#!/usr/bin/env bash
# One-shot service of docker-compose.yml (after create-topics): submits the tripletflow job jar to
# the session cluster, unless a job named "tripletflow" is already running there.
#
# Environment (set in docker-compose.yml):
#   JOBMANAGER         the JobManager's REST address, e.g. jobmanager:8081
#   JOB_JAR            the shaded job jar (mvn -B -DskipTests package on the host)
#   FROM_SAVEPOINT     optional: a savepoint or retained checkpoint to start from (flink run -s)
#   PARALLELISM        optional: the job's parallelism (flink run -p; default parallelism.default)
#   JOB_ARGS           optional: more job arguments, e.g. "--neg-num 8 --miner semi-hard"
set -euo pipefail
conf_staging="${TRIPLETFLOW_CONF_STAGING:-/opt/tripletflow/flink-conf}"
flink="${FLINK_HOME:-/opt/flink}/bin/flink"
: "${JOBMANAGER:?}" "${JOB_JAR:?}"

log() { echo "tripletflow-submit: $*"; }

if [ ! -f "$JOB_JAR" ]; then
  log "no job jar at $JOB_JAR: build it on the host first (mvn -B -DskipTests package)"
  exit 1
fi

# The client reads the job's tripletflow.* options from the same config.yaml as the cluster.
if [ -n "${FLINK_HOME:-}" ] && [ -f "$conf_staging/config.yaml" ] && [ -w "$FLINK_HOME/conf" ]; then
  cp "$conf_staging/config.yaml" "$FLINK_HOME/conf/config.yaml"
fi

log "waiting for the JobManager at $JOBMANAGER"
for attempt in $(seq 1 60); do
  if running="$("$flink" list -r -m "$JOBMANAGER" 2>/dev/null)"; then
    break
  fi
  if [ "$attempt" = 60 ]; then
    log "the JobManager at $JOBMANAGER did not answer"
    exit 1
  fi
  sleep 2
done

if grep -q ' : tripletflow (RUNNING)' <<<"$running"; then
  log "a tripletflow job is already running; nothing to submit"
  grep ' : tripletflow ' <<<"$running" || true
  exit 0
fi

args=(run -d -m "$JOBMANAGER")
if [ -n "${FROM_SAVEPOINT:-}" ]; then
  log "starting from $FROM_SAVEPOINT"
  args+=(-s "$FROM_SAVEPOINT")
fi
if [ -n "${PARALLELISM:-}" ]; then
  args+=(-p "$PARALLELISM")
fi
args+=("$JOB_JAR")
# shellcheck disable=SC2206 # JOB_ARGS is a list of words
args+=(${JOB_ARGS:-})
log "$flink ${args[*]}"
exec "$flink" "${args[@]}"
