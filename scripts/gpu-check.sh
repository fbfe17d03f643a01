#!/usr/bin/env bash
# The GPU checks, for a machine with an NVIDIA GPU and no Java.
#
#   scripts/gpu-check.sh package   # here: builds target/gpu-check (a jlink'd JRE, jcuda and its
#                                  # driver library, our classes and tests, the golden cases), < 64 MiB
#   scripts/gpu-check.sh run       # there, from the repository root with target/gpu-check copied:
#                                  # the backend contract on the GPU, then the GPU bench
#
# With the session's device tool: run `package` here, then
#   run(command="scripts/gpu-check.sh run", carry=["target/gpu-check"])
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="$root/target/gpu-check"
junit_version=1.14.1

package() {
  cd "$root"
  mvn -B -q -DskipTests package
  rm -rf "$bundle"
  mkdir -p "$bundle/lib" "$bundle/native" "$bundle/shared"
  jlink --add-modules java.base,java.logging,java.xml,java.management,java.naming,jdk.incubator.vector,jdk.unsupported \
        --strip-debug --no-header-files --no-man-pages --compress=2 --output "$bundle/jre"
  (cd target/classes && jar cf "$bundle/lib/tripletflow.jar" .)
  (cd target/test-classes && jar cf "$bundle/lib/tripletflow-tests.jar" .)
  local repo="$HOME/.m2/repository"
  cp "$repo/org/jcuda/jcuda/12.6.0/jcuda-12.6.0.jar" "$bundle/lib/"
  unzip -q -j -o "$repo/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar" \
        'lib/libJCudaDriver-12.6.0-linux-x86_64.so' -d "$bundle/native"
  mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$junit_version" \
        -DoutputDirectory="$bundle/lib"
  # What the contract test needs besides JUnit: AssertJ and Flink's shaded Jackson (golden JSON).
  for jar in $(tr ':' '\n' < target/classpath.txt | grep -E '/(assertj-core|flink-shaded-jackson)[^/]*\.jar$'); do
    cp "$jar" "$bundle/lib/"
  done
  cp -r "$root/../shared/golden" "$bundle/shared/golden"
  du -sh "$bundle"
  local bytes
  bytes=$(du -sb "$bundle" | cut -f1)
  if [ "$bytes" -gt $((64 * 1024 * 1024)) ]; then
    echo "gpu-check bundle is $bytes bytes, over the 64 MiB that may travel" >&2
    exit 1
  fi
}

run() {
  cd "$root"
  [ -x "$bundle/jre/bin/java" ] || { echo "no bundle at $bundle: run 'scripts/gpu-check.sh package' first" >&2; exit 1; }
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  local java=("$bundle/jre/bin/java" --add-modules jdk.incubator.vector -Djava.library.path="$bundle/native"
              -Dtripletflow.shared="$bundle/shared")
  local cp
  cp="$(ls "$bundle"/lib/*.jar | grep -v console-standalone | tr '\n' ':')"
  echo "== backend contract on the GPU"
  "${java[@]}" -jar "$bundle/lib/junit-platform-console-standalone-$junit_version.jar" execute \
      --class-path "$cp" --select-class io.tripletflow.engine.gpu.GpuBackendContractTest \
      --select-class io.tripletflow.engine.backends.MiningBackendsTest --details=summary --disable-banner || status=$?
  echo "== GPU bench (transfers included), CPU backend beside it"
  "${java[@]}" -cp "$cp" io.tripletflow.bench.EngineBench --backend gpu --n 1024 --n 4096 --d 128 --d 256 --repetitions 9
  exit "${status:-0}"
}

case "${1:-}" in
  package) package ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh package|run" >&2; exit 64 ;;
esac
