#!/bin/sh
# One-shot service of docker-compose.yml, in the apache/kafka image: creates tripletflow's topics
# unless they exist (an existing topic is left as it is, with a warning when it has fewer
# partitions than asked for). tripletflow-submit starts once this has succeeded.
#
# Environment (set in docker-compose.yml):
#   BOOTSTRAP_SERVERS  Kafka inside the compose network, e.g. kafka:19092
#   TOPICS             name:partitions[:key=value...] separated by blanks, e.g.
#                      "embeddings:4 mining-statistics:1:cleanup.policy=compact"
#   KAFKA_HOME         where Kafka's bin/kafka-topics.sh is (the image's /opt/kafka)
set -eu
: "${BOOTSTRAP_SERVERS:?}" "${TOPICS:?}"
topics="${KAFKA_HOME:-/opt/kafka}/bin/kafka-topics.sh"

for spec in $TOPICS; do
  name="${spec%%:*}"
  rest="${spec#*:}"
  partitions="${rest%%:*}"
  configs=""
  if [ "$rest" != "$partitions" ]; then
    configs="${rest#*:}"
  fi
  case "$name:$partitions" in
    :* | *: | *:*[!0-9]*) echo "create-topics: expected NAME:PARTITIONS[:KEY=VALUE...], got '$spec'" >&2; exit 2 ;;
  esac
  set -- --bootstrap-server "$BOOTSTRAP_SERVERS" --create --if-not-exists --topic "$name" \
      --partitions "$partitions" --replication-factor 1
  old_ifs="$IFS"
  IFS=:
  for config in $configs; do
    set -- "$@" --config "$config"
  done
  IFS="$old_ifs"
  "$topics" "$@"

  have="$("$topics" --bootstrap-server "$BOOTSTRAP_SERVERS" --describe --topic "$name" \
      | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n 1)"
  echo "create-topics: topic $name: ${have:-?} partition(s)"
  if [ -n "$have" ] && [ "$have" -lt "$partitions" ]; then
    echo "create-topics: warning: topic $name has $have partition(s), fewer than $partitions asked for; left as it is"
  fi
done
