#!/usr/bin/env bash
# bench/fuzz.sh — build the libFuzzer targets (tests/fuzz) and run each for a
# given time; print executions, coverage and findings per target.
#
#   bench/fuzz.sh [-t SECONDS] [-j PARALLEL] [-b BUILD_DIR] [TARGET...]
#
# Defaults: 60 s per target, 2 targets at a time, build dir build-fuzz, all
# targets. Seeds are read from tests/fuzz/corpus/<target> (never written);
# new inputs go to BUILD_DIR/fuzz-run/<target>/corpus, crashes, leaks,
# timeouts and OOMs to BUILD_DIR/fuzz-run/<target>/artifacts (a finding is
# one such file: copy it into tests/fuzz/corpus/<target>/ once fixed, so
# the ctest replay keeps it fixed). Exit status 1 if anything was found.
# Env: CC (default clang-16, else clang), FUZZ_FLAGS (extra libFuzzer flags).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
secs=60 par=2 build=$root/build-fuzz
while getopts "t:j:b:" o; do
  case $o in
    t) secs=$OPTARG ;; j) par=$OPTARG ;; b) build=$OPTARG ;;
    *) sed -n '2,14p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
all="darts_text genotype_json npy adl_lists adl_tf adl_json safetensors ir_text"
targets=${*:-$all}
cc=${CC:-$(command -v clang-16 || command -v clang)}

cmake -S "$root" -B "$build" -DNASC_FUZZ=ON -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.cmake.log" 2>&1 || {
  echo "fuzz.sh: configure failed (see $build.cmake.log)"; exit 2; }
for t in $targets; do
  cmake --build "$build" -j "$par" --target "fuzz_$t" >>"$build.cmake.log" 2>&1 || {
    echo "fuzz.sh: building fuzz_$t failed (see $build.cmake.log)"; exit 2; }
done

run_one() { # target: runs it, leaves log and artifacts in its run dir
  local t=$1 dir=$build/fuzz-run/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  # -timeout: a single input taking > 10 s is a finding (a hang);
  # -rss_limit_mb: so is more than 1 GB (unbounded memory on hostile input).
  "$build/tests/fuzz/fuzz_$t" "$dir/corpus" "$root/tests/fuzz/corpus/$t" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" ${FUZZ_FLAGS:-} >"$dir/log" 2>&1
}

running=0
for t in $targets; do
  rm -rf "$build/fuzz-run/$t/artifacts"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$par" ]; then wait -n; running=$((running - 1)); fi
done
wait

found=0
printf '%-14s %12s %8s %8s %8s %9s\n' target executions exec/s cov ft findings
for t in $targets; do
  dir=$build/fuzz-run/$t
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  # the last status line carries the final coverage (edges) and features
  last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  n=$(find "$dir/artifacts" -type f | wc -l)
  found=$((found + n))
  printf '%-14s %12s %8s %8s %8s %9s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "$n"
  find "$dir/artifacts" -type f | sed 's/^/    /'
done
[ "$found" -eq 0 ]
