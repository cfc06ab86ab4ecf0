#!/usr/bin/env bash
# Java-free native check on a GPU host (docs/native-tests.md): configures and builds native/ with its tests (CUDA on
# when nvcc is found), runs them all with CTest, times PyTorch's eager KL composite when torch and a GPU are there,
# and writes ONE JSON of the results.
#   bash native/test/gpu-check.sh [OUT.json]       default: $OUT/gpu-check.json, else <build>/gpu-check.json
# Needs cmake, a C++ compiler, and for the CUDA half nvcc and a driver; no JDK, Maven or network.
# Environment: IVKIT_TEST_BUILD (build folder, default native/test/build), JOBS (build jobs, default all cores),
#   IVKIT_CUDA_ARCHS (default "80;90", as the Maven build), IVKIT_TEST_TIMING_SHAPES (e.g. "4096x32000").
# Exit status: 0 when the JSON says "pass": true, 1 otherwise.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${IVKIT_TEST_BUILD:-$root/native/test/build}"
out="${1:-}"
if [ -z "$out" ]; then
  if [ -n "${OUT:-}" ]; then out="$OUT/gpu-check.json"; else out="$build/gpu-check.json"; fi
fi
mkdir -p "$build" "$(dirname "$out")"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
archs="${IVKIT_CUDA_ARCHS:-80;90}"
frag="$build/json"
rm -rf "$frag" && mkdir -p "$frag"
problems=()

# JSON string of stdin (the last lines of a log, say).
json_text() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/\r//g' -e 's/[[:cntrl:]]//g' | awk 'BEGIN{printf "\""} NR>1{printf "\\n"} {printf "%s", $0} END{printf "\""}'; }
json_opt() { if [ -n "$1" ]; then printf '%s' "$1" | json_text; else printf 'null'; fi; }

# cmake/IvkitDefaults.cmake picks the compiler (the toolkit's own /usr/local/cuda/bin/nvcc first); this only decides
# whether there is one.
nvcc_bin=""
if [ -x /usr/local/cuda/bin/nvcc ]; then nvcc_bin=/usr/local/cuda/bin/nvcc; elif command -v nvcc >/dev/null 2>&1; then nvcc_bin="$(command -v nvcc)"; fi
cuda=OFF
[ -n "$nvcc_bin" ] && cuda=ON
gpu_info=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu_info="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -4)"
fi
gpu_visible=false
[ -n "$gpu_info" ] && gpu_visible=true
nvcc_version="$([ -n "$nvcc_bin" ] && "$nvcc_bin" --version 2>/dev/null | grep -o 'release [0-9.]*, V[0-9.]*' | head -1)"
cmake_version="$(cmake --version 2>/dev/null | head -1)"
echo "gpu-check: build $build, CUDA $cuda${nvcc_bin:+ ($nvcc_bin, $nvcc_version)}, archs $archs, $jobs jobs"
echo "gpu-check: GPU ${gpu_info:-none seen by nvidia-smi}"

t0=$SECONDS
build_ok=true
build_log="$build/build.log"
if ! cmake -S "$root/native" -B "$build" --log-level=WARNING -DCMAKE_BUILD_TYPE=Release -DIVKIT_BUILD_TESTS=ON \
      -DIVKIT_WITH_CUDA=$cuda "-DIVKIT_CUDA_ARCHS=$archs" -DIVKIT_WARNINGS_AS_ERRORS=OFF >"$build_log" 2>&1 \
   || ! cmake --build "$build" --parallel "$jobs" >>"$build_log" 2>&1; then
  build_ok=false
  problems+=("build failed (tail of the log in build.log_tail)")
  tail -40 "$build_log"
fi
build_s=$((SECONDS - t0))
echo "gpu-check: build ok=$build_ok in ${build_s}s"

t1=$SECONDS
ctest_rc=-1
ctest_summary=""
ctest_log="$build/ctest.log"
if $build_ok; then
  (cd "$build" && IVKIT_TEST_JSON_DIR="$frag" ctest --output-on-failure) 2>&1 | tee "$ctest_log"
  ctest_rc=${PIPESTATUS[0]}
  ctest_summary="$(grep -E 'tests passed|tests failed' "$ctest_log" | tail -1)"
  [ "$ctest_rc" = 0 ] || problems+=("ctest exited $ctest_rc")
fi
ctest_s=$((SECONDS - t1))

t2=$SECONDS
if [ -f "$frag/cuda.timing.json" ] && command -v python3 >/dev/null 2>&1; then
  PYTHONUNBUFFERED=1 python3 "$here/torch_composite.py" --kl-json "$frag/cuda.timing.json" --out "$frag/torch.eager_composite.json" \
    || problems+=("torch_composite.py exited $?")
else
  printf '{"status": "skip", "suite": "torch", "group": "eager_composite", "skip_reason": "%s"}\n' \
    "$([ -f "$frag/cuda.timing.json" ] && echo "no python3" || echo "no kl_rows timings (CUDA half not run)")" \
    >"$frag/torch.eager_composite.json"
fi
torch_s=$((SECONDS - t2))

status_of() { grep -o '"status": "[a-z]*"' "$1" | head -1 | sed 's/.*: "\(.*\)"/\1/'; }
for g in add_rows gather_heads patch_heads kl_rows kl_topk_rows topk_logprobs errors; do
  f="$frag/cpu.$g.json"
  if [ ! -f "$f" ]; then $build_ok && problems+=("cpu.$g wrote no results"); continue; fi
  [ "$(status_of "$f")" = pass ] || problems+=("cpu.$g: $(status_of "$f")")
done
gpu_checked=false
if [ "$cuda" = ON ] && $build_ok; then
  gpu_checked=true
  for g in add_rows gather_heads patch_heads kl_rows kl_topk_rows topk_logprobs errors timing; do
    f="$frag/cuda.$g.json"
    s="$([ -f "$f" ] && status_of "$f" || echo missing)"
    [ "$s" = pass ] || gpu_checked=false
    if [ "$s" = skip ]; then
      # no device: a failure where nvidia-smi sees a GPU, the expected outcome where there is none
      $gpu_visible && problems+=("cuda.$g skipped on a host with a GPU: $(grep -o '"skip_reason": "[^"]*"' "$f" | head -1)")
    elif [ "$s" != pass ]; then
      problems+=("cuda.$g: $s")
    fi
  done
elif $gpu_visible; then
  problems+=("a GPU is visible but nvcc was not found: the CUDA half was not built")
fi
pass=false
[ ${#problems[@]} -eq 0 ] && pass=true

{
  printf '{\n"schema": "ivkit-native-gpu-check/1",\n"pass": %s,\n"gpu_checked": %s,\n' "$pass" "$gpu_checked"
  printf '"problems": ['
  for i in "${!problems[@]}"; do [ "$i" -gt 0 ] && printf ', '; printf '%s' "${problems[$i]}" | json_text; done
  printf '],\n"date": "%s",\n"commit": %s,\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(json_opt "$(git -C "$root" rev-parse HEAD 2>/dev/null)")"
  printf '"host": {"gpus": %s, "cores": %s, "nvcc": %s, "cmake": %s},\n' "$(json_opt "$gpu_info")" "$(nproc 2>/dev/null || echo null)" \
    "$(json_opt "$nvcc_version")" "$(json_opt "$cmake_version")"
  printf '"build": {"ok": %s, "cuda": %s, "cuda_archs": "%s", "seconds": %s' "$build_ok" "$([ "$cuda" = ON ] && echo true || echo false)" "$archs" "$build_s"
  $build_ok || printf ', "log_tail": %s' "$(tail -40 "$build_log" | json_text)"
  printf '},\n"ctest": {"rc": %s, "summary": %s, "seconds": %s},\n' "$ctest_rc" "$(json_opt "$ctest_summary")" "$ctest_s"
  printf '"torch_seconds": %s,\n"results": {' "$torch_s"
  first=true
  for f in "$frag"/cpu.*.json "$frag"/cuda.*.json "$frag"/torch.*.json; do
    [ -f "$f" ] || continue
    $first || printf ','
    first=false
    printf '\n"%s": ' "$(basename "$f" .json)"
    cat "$f"
  done
  printf '}\n}\n'
} >"$out"

if command -v python3 >/dev/null 2>&1 && ! python3 -m json.tool "$out" >/dev/null 2>&1; then
  echo "gpu-check: WARNING: $out is not valid JSON" >&2
fi
echo "gpu-check: ${ctest_summary:-no ctest summary}"
for p in "${problems[@]}"; do echo "gpu-check: problem: $p"; done
echo "gpu-check: pass=$pass gpu_checked=$gpu_checked -> $out"
$pass
