#!/usr/bin/env bash
# Runs the JMH suite on the CPU, writes benchmarks/results/<date>_cpu_<commit>.json (+ .meta: machine, command) and
# regenerates the results table in benchmarks/README.md. Extra arguments go to JMH (e.g. a benchmark regex).
# Run from anywhere; stories260K is read from ../shared relative to the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

jar=benchmarks/target/benchmarks.jar
if [[ ! -f $jar || -n $(find java/src native benchmarks/src benchmarks/pom.xml pom.xml -newer "$jar" -type f -print -quit) ]]; then
  echo "building ($jar missing or older than the sources)" >&2
  mvn -B -q package -DskipTests
fi

# libtorch's intra-op threads plus OpenBLAS's own on few cores oversubscribe (README): one OpenBLAS thread unless set.
# OPENBLAS_CORETYPE is recorded as found, never changed.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

commit=$(git describe --always --dirty --abbrev=7)
out="benchmarks/results/$(date -u +%Y-%m-%d)_cpu_${commit}.json"
mkdir -p benchmarks/results
cmd=(java -jar "$jar" -rf json -rff "$out" "$@")

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit=$commit"
  echo "cores=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "openblas_coretype=${OPENBLAS_CORETYPE:-unset}"
  echo "openblas_num_threads=$OPENBLAS_NUM_THREADS"
  echo "glibc_tunables=${GLIBC_TUNABLES:-unset}"
  echo "ivkit_threads=${IVKIT_THREADS:-unset (ivkit default: 1 libtorch intra-op thread)}"
  echo "jdk=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')"
  echo "libtorch=$(cd benchmarks/target/lib && ls pytorch-*.jar | grep -v -- '-linux\|-windows\|-macosx' | sed 's/^pytorch-\(.*\)\.jar$/org.bytedeco:pytorch \1/')"
  echo "command=benchmarks/run.sh $* (runs: OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS ${cmd[*]})"
} > "${out%.json}.meta"

"${cmd[@]}"
java -cp "$jar" dev.ivkit.bench.ResultsTable "$out" benchmarks/README.md
