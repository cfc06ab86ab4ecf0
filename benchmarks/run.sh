#!/usr/bin/env bash
# Runs the JMH suite on the CPU, writes benchmarks/results/<date>_cpu_<commit>.json (+ .meta: machine, command) and
# regenerates the results table in benchmarks/README.md. Extra arguments go to JMH (e.g. a benchmark regex).
# Run from anywhere; stories260K is read from ../shared relative to the repository root.
# --smoke (first argument): the fixed subset below with short settings (about 3 minutes on 2 cores), written as
# <date>_cpu_<commit>_smoke.json (+ .meta with smoke=true and each JMH command); the README table is left alone.
# IVKIT_BENCH_RESULTS=DIR writes the result files there instead of benchmarks/results (CI: an ignored path).
set -euo pipefail
cd "$(dirname "$0")/.."

smoke=false
if [[ ${1:-} == --smoke ]]; then
  smoke=true
  shift
fi
# One JMH invocation per line (their -p values differ): the cheapest params that still give every paired ratio of
# the results table: kernel vs composite (kl_rows, add_rows, gather_heads, patch_heads), capture vs plain and
# IV-guided vs plain (paired counters), exact vs naive scan, 2 shards vs 1.
smoke_settings='-f 1 -wi 2 -i 3 -w 1s -r 1s'
smoke_groups=(
  'KlRowsBench -p shape=256x32000'
  'AddRowsBench -p shape=512x64x64 -p dtype=fp32'
  'GatherHeadsBench.gather(Composite)?$ PatchHeadsBench -p shape=4x128x6x64 -p dtype=fp32 -p mode=ADD -p targets=row0'
  'CaptureBench.(capture|paired)$ TrainStepBench.(ivGuided|paired)$ ScanBench -p model=stories260K'
  'OrganismStepBench'
)

jar=benchmarks/target/benchmarks.jar
if [[ ! -f $jar || -n $(find java/src native benchmarks/src benchmarks/pom.xml pom.xml -newer "$jar" -type f -print -quit) ]]; then
  echo "building ($jar missing or older than the sources)" >&2
  mvn -B -q package -DskipTests
fi

# libtorch's intra-op threads plus OpenBLAS's own on few cores oversubscribe (README): one OpenBLAS thread unless set.
# OPENBLAS_CORETYPE is recorded as found, never changed.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

commit=$(git describe --always --dirty --abbrev=7)
dir="${IVKIT_BENCH_RESULTS:-benchmarks/results}"
suffix=""
if $smoke; then suffix=_smoke; fi
out="$dir/$(date -u +%Y-%m-%d)_cpu_${commit}${suffix}.json"
mkdir -p "$dir"
cmd=(java -jar "$jar" -rf json -rff "$out" "$@")
if $smoke; then
  parts=$(mktemp -d "$dir/.smoke-parts.XXXXXX")  # deleted once joined; the .meta says <parts>
  trap 'rm -rf "$parts"' EXIT
  cmds=()
  for i in "${!smoke_groups[@]}"; do
    # read -a: split on blanks without glob expansion of the regexes
    read -r -a group <<< "${smoke_groups[$i]} $smoke_settings"
    cmds+=("$(printf '%q ' java -jar "$jar" "${group[@]}" "$@" -rf json -rff "$parts/$i.json")")
  done
fi

# The .meta is committed: no machine paths in it (the smoke parts' temporary folder becomes <parts>, an absolute
# IVKIT_BENCH_RESULTS becomes <results>, the checkout's own path is dropped).
meta_paths() {
  local line
  while IFS= read -r line; do
    if $smoke; then line=${line//"$parts"/<parts>}; fi
    if [[ $dir == /* ]]; then line=${line//"$dir"/<results>}; fi
    printf '%s\n' "${line//"$PWD/"/}"
  done
}

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
  if $smoke; then
    echo "smoke=true"
    echo "command=benchmarks/run.sh --smoke $* (runs ${#cmds[@]} JMH commands with OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS, results joined)"
    for c in "${cmds[@]}"; do echo "jmh=$c"; done
  else
    echo "command=benchmarks/run.sh $* (runs: OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS ${cmd[*]})"
  fi
} | meta_paths > "${out%.json}.meta"

if $smoke; then
  files=()
  for i in "${!cmds[@]}"; do
    eval "${cmds[$i]}"
    files+=("$parts/$i.json")
  done
  java -cp "$jar" dev.ivkit.bench.JoinResults "$out" "${files[@]}"
  echo "smoke result: $out"
  exit 0
fi
"${cmd[@]}"
java -cp "$jar" dev.ivkit.bench.ResultsTable "$out" benchmarks/README.md
